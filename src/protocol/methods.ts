import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ALARM_TYPE_CODES } from '../core/alarm-types.js';
import { QUALITIES } from '../core/quality.js';

/**
 * Params and answers of every method and event of IVR-RPC.md, as schemas (validated with Ajv)
 * and static types derived from them. Extra keys are tolerated (platforms add their own);
 * missing required keys and wrong types are not.
 */

const Int = Type.Integer();
const Channel = Type.Integer({ minimum: 0 });
export const Quality = Type.Union(QUALITIES.map((quality) => Type.Literal(quality)));
export type Quality = Static<typeof Quality>;
const Empty = Type.Object({});
const ChannelOnly = Type.Object({ channel: Channel });

// ---- RPC methods offered by the IVC (called by the IVT) ----

export const KeepaliveChannel = Type.Object({
  channel: Channel,
  /** 0 offline, 1 online, 2 live (publishing) */
  state: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]),
  stream_id: Type.Optional(Type.String()),
  record_session: Type.Optional(Type.String()),
  alarm: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type KeepaliveChannel = Static<typeof KeepaliveChannel>;

export const KeepaliveParams = Type.Object({
  /** 1 online, 2 upgrading, 3 abnormal */
  state: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
  channels: Type.Array(KeepaliveChannel),
});
export type KeepaliveParams = Static<typeof KeepaliveParams>;

export const PreviewServerAnswer = Type.Object({ url: Type.String() });
export const GetFirmwareAnswer = Type.Object({ firmware_model: Type.String(), url: Type.String() });
export type GetFirmwareAnswer = Static<typeof GetFirmwareAnswer>;

/** Alarm types: 2 external, 3 motion, 4 tripwire (core/alarm-types.ts). */
export const AlarmType = Type.Union(ALARM_TYPE_CODES.map((code) => Type.Literal(code)));
export type AlarmType = Static<typeof AlarmType>;
export const AlarmNotifyParams = Type.Object({
  channel: Channel,
  type: AlarmType,
  state: Type.Union([Type.Literal('start'), Type.Literal('end')]),
  desc: Type.String(),
});
export type AlarmNotifyParams = Static<typeof AlarmNotifyParams>;
export const AlarmNotifyAnswer = Type.Object({ pic_upload_url: Type.String() });
export type AlarmNotifyAnswer = Static<typeof AlarmNotifyAnswer>;

// ---- RPC methods offered by the IVT (called by the IVC) ----

export const RTMPPublishParams = Type.Object({
  channel: Channel,
  quality: Quality,
  url: Type.String({ minLength: 1 }),
  stream_id: Type.String(),
  max_bitrate: Type.Integer({ minimum: 0 }),
});
export type RTMPPublishParams = Static<typeof RTMPPublishParams>;
export const RTMPStopPublishParams = Type.Object({ stream_id: Type.String(), channel: Channel });
export type RTMPStopPublishParams = Static<typeof RTMPStopPublishParams>;

export const StartCloudRecordParams = Type.Object({
  session_id: Type.String({ minLength: 1 }),
  channel: Channel,
  quality: Quality,
  max_bitrate: Type.Integer({ minimum: 0 }),
  seg_duration: Type.Integer({ minimum: 1 }),
  seg_max_size: Type.Integer({ minimum: 0 }),
  seg_max_count: Type.Integer({ minimum: 0 }),
  prerecord_seconds: Type.Integer({ minimum: 0 }),
  start_ts: Int,
  cbk_url: Type.String({ minLength: 1, maxLength: 256 }),
});
export type StartCloudRecordParams = Static<typeof StartCloudRecordParams>;
export const StopCloudRecordParams = Type.Object({ session_id: Type.String(), channel: Channel });
export type StopCloudRecordParams = Static<typeof StopCloudRecordParams>;

export const PtzToken = Type.Object({ name: Type.String(), token: Type.String() });
export type PtzToken = Static<typeof PtzToken>;
export const PtzTokenList = Type.Array(PtzToken);

const Seconds = Type.Integer({ minimum: 0, maximum: 86400 });
export const AlarmMoveDetectConfigParams = Type.Object({
  channel: Channel,
  enable: Type.Boolean(),
  start: Type.Optional(Seconds),
  end: Type.Optional(Seconds),
  sensitivity: Type.Integer({ minimum: 0, maximum: 100 }),
  delay: Type.Integer({ minimum: 0 }),
});
export type AlarmMoveDetectConfigParams = Static<typeof AlarmMoveDetectConfigParams>;
const Pct = Type.Integer({ minimum: 0, maximum: 100 });
export const Rect = Type.Object({
  ulx: Pct,
  uly: Pct,
  urx: Pct,
  ury: Pct,
  dlx: Pct,
  dly: Pct,
  drx: Pct,
  dry: Pct,
});
export type Rect = Static<typeof Rect>;
export const AlarmRectIntrusionDetectConfigParams = Type.Composite([
  AlarmMoveDetectConfigParams,
  Type.Object({ rect: Type.Optional(Rect) }),
]);
export type AlarmRectIntrusionDetectConfigParams = Static<typeof AlarmRectIntrusionDetectConfigParams>;

export const NetConfig = Type.Object({
  name: Type.String(),
  ip: Type.String(),
  gateway: Type.String(),
  netmask: Type.String(),
  dns1: Type.String(),
  dns2: Type.String(),
  mac: Type.String(),
  dhcp: Type.Boolean(),
});
export type NetConfig = Static<typeof NetConfig>;

export const RTMPPublishConfigEntry = Type.Object({
  enable: Type.Boolean(),
  channel: Channel,
  quality: Quality,
  url: Type.String(),
});
export type RTMPPublishConfigEntry = Static<typeof RTMPPublishConfigEntry>;
export const RTMPPublishConfigList = Type.Array(RTMPPublishConfigEntry);

export const WifiStatusAnswer = Type.Object({
  enable: Type.Boolean(),
  ip: Type.Optional(Type.String()),
  gateway: Type.Optional(Type.String()),
  netmask: Type.Optional(Type.String()),
  dhcp: Type.Optional(Type.Boolean()),
  ssid: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  encrypt: Type.Optional(Type.String()),
  status: Type.String(),
  signal: Type.Optional(Int),
});
export type WifiStatusAnswer = Static<typeof WifiStatusAnswer>;
export const SetWifiConfigParams = Type.Object({
  channel: Channel,
  ssid: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
});
export type SetWifiConfigParams = Static<typeof SetWifiConfigParams>;
export const WifiSsid = Type.Object({ ssid: Type.String(), signal: Int, encrypt: Type.String() });
export type WifiSsid = Static<typeof WifiSsid>;

// ---- Events the IVT accepts (sent by the IVC) ----

export const SyncTimeParams = Type.Object({
  datetime: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$' }),
  offset: Type.Integer({ minimum: 0 }),
});
export type SyncTimeParams = Static<typeof SyncTimeParams>;
export const PtzOp = Type.Union(
  [
    'up',
    'down',
    'left',
    'right',
    'upleft',
    'upright',
    'downleft',
    'downright',
    'zoomin',
    'zoomout',
    'stop',
  ].map((op) => Type.Literal(op)),
);
export const CtrlPTZParams = Type.Object({
  channel: Channel,
  op: PtzOp,
  value: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
});
export type CtrlPTZParams = Static<typeof CtrlPTZParams> & { op: string };
export const GotoPTZPresetParams = Type.Object({ channel: Channel, token: Type.String() });
export type GotoPTZPresetParams = Static<typeof GotoPTZPresetParams>;
const StartStop = Type.Union([Type.Literal('start'), Type.Literal('stop')]);
export const CtrlPTZPresetTourParams = Type.Object({
  channel: Channel,
  token: Type.Optional(Type.String()),
  op: StartStop,
});
export type CtrlPTZPresetTourParams = Static<typeof CtrlPTZPresetTourParams>;
export const CtrlPTZPatrolParams = Type.Object({ channel: Channel, op: StartStop });
export type CtrlPTZPatrolParams = Static<typeof CtrlPTZPatrolParams>;

// ---- Tables: method name → schemas ----

interface MethodSpec {
  /** `undefined` when the method takes no params. */
  params: TSchema | undefined;
  answer: TSchema;
}

/** Methods the IVC offers (the device calls them). */
export const ivcMethods = {
  Keepalive: { params: KeepaliveParams, answer: Empty },
  preview_server: { params: undefined, answer: PreviewServerAnswer },
  GetFirmware: { params: undefined, answer: GetFirmwareAnswer },
  AlarmNotify: { params: AlarmNotifyParams, answer: AlarmNotifyAnswer },
} satisfies Record<string, MethodSpec>;

/** Methods the IVT offers (the platform calls them). */
export const ivtMethods = {
  RTMPPublish: { params: RTMPPublishParams, answer: Empty },
  RTMPStopPublish: { params: RTMPStopPublishParams, answer: Empty },
  StartCloudRecord: { params: StartCloudRecordParams, answer: Empty },
  StopCloudRecord: { params: StopCloudRecordParams, answer: Empty },
  RebootChannel: { params: ChannelOnly, answer: Empty },
  GetPTZPresetList: { params: ChannelOnly, answer: PtzTokenList },
  GetPTZPresetTourList: { params: ChannelOnly, answer: PtzTokenList },
  AlarmMoveDetectConfig: { params: AlarmMoveDetectConfigParams, answer: Empty },
  AlarmRectIntrusionDetectConfig: { params: AlarmRectIntrusionDetectConfigParams, answer: Empty },
  GetNetConfig: { params: ChannelOnly, answer: Type.Array(NetConfig) },
  GetRTMPPublishConfig: { params: undefined, answer: RTMPPublishConfigList },
  SetRTMPPublishConfig: { params: RTMPPublishConfigList, answer: Empty },
  GetWifiStatusAndConfig: { params: ChannelOnly, answer: WifiStatusAnswer },
  SetWifiConfig: { params: SetWifiConfigParams, answer: Empty },
  GetWifiSSIDList: { params: ChannelOnly, answer: Type.Array(WifiSsid) },
} satisfies Record<string, MethodSpec>;

/** Events the IVT accepts (the platform sends them). */
export const ivtEvents = {
  UpgradeFirmware: { params: undefined },
  SyncTime: { params: SyncTimeParams },
  CtrlPTZ: { params: CtrlPTZParams },
  GotoPTZPreset: { params: GotoPTZPresetParams },
  CtrlPTZPresetTour: { params: CtrlPTZPresetTourParams },
  CtrlPTZPatrol: { params: CtrlPTZPatrolParams },
} satisfies Record<string, { params: TSchema | undefined }>;

export type IvcMethod = keyof typeof ivcMethods;
export type IvtMethod = keyof typeof ivtMethods;
export type IvtEvent = keyof typeof ivtEvents;

type ParamsOf<S> = S extends { params: infer P } ? (P extends TSchema ? Static<P> : undefined) : never;
type AnswerOf<S> = S extends { answer: infer A extends TSchema } ? Static<A> : never;
export type IvcParams<M extends IvcMethod> = ParamsOf<(typeof ivcMethods)[M]>;
export type IvcAnswer<M extends IvcMethod> = AnswerOf<(typeof ivcMethods)[M]>;
export type IvtParams<M extends IvtMethod> = ParamsOf<(typeof ivtMethods)[M]>;
export type IvtAnswer<M extends IvtMethod> = AnswerOf<(typeof ivtMethods)[M]>;
export type IvtEventParams<E extends IvtEvent> = ParamsOf<(typeof ivtEvents)[E]>;
