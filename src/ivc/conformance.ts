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
} as const;

export type ConformanceRule = keyof typeof conformanceRules;
