/**
 * Conformance rules checked on every device packet (and on the device's HTTP uploads). A
 * violation is counted per device and platform-wide and shown to whoever watches the device;
 * it never changes how the platform answers beyond what the protocol itself requires.
 */
export const conformanceRules = {
  malformed: 'a packet that is not a valid request, answer or event (the platform closes the connection)',
  schema: 'params of a platform method do not match its schema (answered with error 1)',
  unknown_method: 'the device called a method the platform does not offer (answered with error 101)',
  unknown_event: 'the device sent an event; the protocol defines none from devices',
  seq_start: 'the first request of a connection has a seq other than 0 or 1',
  seq_gap: 'a request seq is not the previous one + 1',
  keepalive_first_late: 'no Keepalive within firstKeepaliveMs of login',
  keepalive_late: 'a Keepalive interval longer than keepaliveMs + keepaliveToleranceMs',
  keepalive_early: 'a Keepalive interval shorter than keepaliveMs - keepaliveToleranceMs',
  keepalive_missing:
    'no Keepalive for keepaliveMissingPeriods periods while connected (the platform closes the connection)',
  answer_order: 'an answer to a platform call carries an unexpected seq',
  answer_schema: 'an answer to a platform call does not match the method answer schema',
  answer_timeout: 'a platform call had no answer within rpcTimeoutMs (the platform closes the connection)',
  alarm_picture: 'an alarm picture upload is not a JPEG (no FF D8 start-of-image marker)',
  record_ts: 'an uploaded recording segment is not valid MPEG-TS (sync byte or continuity)',
  record_size: 'an uploaded recording segment differs from the size announced in op=create',
  limit_channels: 'a Keepalive lists more than limits.maxChannels channels (only the first are kept)',
  limit_string: 'a string from the device is longer than limits.maxStringLength (cut, or the login refused)',
  limit_keepalive: 'a Keepalive message larger than limits.maxKeepaliveBytes (its channels are not kept)',
  limit_message: 'a WebSocket message larger than maxPayload (refused unread; the platform closes with 1009)',
  keepalive_login_pair: 'a second Keepalive within 1 s of the first of a connection',
  keepalive_late_after_alarm:
    'a late Keepalive interval (up to keepaliveMs + keepaliveToleranceMs + 4 s) with an AlarmNotify in it',
  keepalive_extra:
    'an early Keepalive out of step that, with its neighbour interval, makes one regular period (once a minute at most)',
  answer_empty_string: 'an empty answer sent as "resp": "" instead of {}',
  answer_null_list: 'GetPTZPresetTourList answered "resp": null instead of a list',
  keepalive_no_stream_id: 'a channel live on a publish the platform ordered lists no stream_id',
  record_session_after_stop:
    'a Keepalive still lists a recording session the device answered StopCloudRecord for',
  close_frame: 'the device closed with a malformed close frame (answered 1002: a protocol error)',
} as const;

export type ConformanceRule = keyof typeof conformanceRules;

/**
 * Deviations the vendor's own firmware is known to make (IVR-RPC.md "Observed on the wire"):
 * counted as `vendor_quirk{rule}`, apart from violations, unless the platform runs `strict`.
 */
export const vendorQuirkRules: ReadonlySet<ConformanceRule> = new Set<ConformanceRule>([
  'keepalive_login_pair',
  'keepalive_late_after_alarm',
  'keepalive_extra',
  'answer_empty_string',
  'answer_null_list',
  'keepalive_no_stream_id',
  'record_session_after_stop',
  'close_frame',
]);

export type Severity = 'violation' | 'vendor_quirk';

/** How a breach of `rule` counts on a platform that is (or is not) strict. */
export function severityOf(rule: ConformanceRule, strict: boolean): Severity {
  return !strict && vendorQuirkRules.has(rule) ? 'vendor_quirk' : 'violation';
}
