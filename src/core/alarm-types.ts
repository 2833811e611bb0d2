// The alarm types of IVR-RPC.md "AlarmNotify": one row each with the protocol code (also the
// device's channel timer slot), the name scenarios and metrics use, and the notification's desc.

const ALARM_TYPE_ROWS = [
  { code: 2, name: 'external', desc: 'external alarm' },
  { code: 3, name: 'motion', desc: 'motion' },
  { code: 4, name: 'tripwire', desc: 'tripwire' },
] as const;

/** The protocol's code: 2 external, 3 motion, 4 tripwire. */
export type AlarmTypeCode = (typeof ALARM_TYPE_ROWS)[number]['code'];
/** The scenario's and the metrics' name of an alarm type. */
export type AlarmTypeName = (typeof ALARM_TYPE_ROWS)[number]['name'];

export const ALARM_TYPE_CODES = ALARM_TYPE_ROWS.map((row) => row.code);
export const ALARM_TYPE_NAMES = ALARM_TYPE_ROWS.map((row) => row.name);
export const FIRST_ALARM_TYPE = Math.min(...ALARM_TYPE_CODES);
export const LAST_ALARM_TYPE = Math.max(...ALARM_TYPE_CODES);
/** AlarmNotify `desc` by protocol code. */
export const ALARM_TYPE_DESCS: Readonly<Record<number, string>> = Object.fromEntries(
  ALARM_TYPE_ROWS.map((row) => [row.code, row.desc]),
);

const nameByCode = new Map<number, AlarmTypeName>(ALARM_TYPE_ROWS.map((row) => [row.code, row.name]));
const codeByName = new Map<string, AlarmTypeCode>(ALARM_TYPE_ROWS.map((row) => [row.name, row.code]));

/** The name of a protocol code, or undefined for a code the protocol does not define. */
export function alarmTypeName(code: number): AlarmTypeName | undefined {
  return nameByCode.get(code);
}

/** The protocol code of a name (the names are a closed type, so it always exists). */
export function alarmTypeCode(name: AlarmTypeName): AlarmTypeCode {
  // In range: codeByName holds every AlarmTypeName.
  return codeByName.get(name)!;
}
