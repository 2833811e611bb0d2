export {
  CommandError,
  IvcCommands,
  type PublishOrder,
  type RecordOrder,
  type SendOptions,
} from './commands.js';
export { type ConformanceRule, conformanceRules } from './conformance.js';
export { CredentialChecker, loadRegistryFile, type RegistryEntry, secretsEqual } from './credentials.js';
export type { ChannelInfo, DeviceRecord } from './device-record.js';
export type { AuthOptions, FirmwareEntry, IvcOptions, RecordOptions } from './options.js';
export type { DeviceListener, IvcPlatform } from './platform.js';
export { type RunningIvc, startIvc } from './server.js';
export { TsChecker } from './ts-check.js';
