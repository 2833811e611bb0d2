import { type Static, Type } from '@sinclair/typebox';
import { compile } from './schema.js';

/**
 * The four packet shapes of IVR-RPC.md ("Packet formats"). Each forbids the other shapes' keys,
 * so a packet is exactly one of request / success answer / failure answer / event; unknown extra
 * keys are tolerated because real platforms add their own.
 */
const absent = Type.Optional(Type.Never());
const Seq = Type.Integer({ minimum: -2147483648, maximum: Number.MAX_SAFE_INTEGER });

export const RequestPacket = Type.Object({
  req: Type.String({ minLength: 1 }),
  params: Type.Optional(Type.Unknown()),
  seq: Seq,
  resp: absent,
  err: absent,
  event: absent,
});
export const SuccessAnswerPacket = Type.Object({
  seq: Seq,
  resp: Type.Unknown(),
  req: absent,
  err: absent,
  event: absent,
});
export const ErrorAnswerPacket = Type.Object({
  seq: Seq,
  err: Type.Object({ code: Type.Integer(), msg: Type.String() }),
  req: absent,
  resp: absent,
  event: absent,
});
export const EventPacket = Type.Object({
  event: Type.String({ minLength: 1 }),
  params: Type.Optional(Type.Unknown()),
  req: absent,
  seq: absent,
  resp: absent,
  err: absent,
});

export type RequestPacket = Static<typeof RequestPacket>;
export type SuccessAnswerPacket = Static<typeof SuccessAnswerPacket> & { resp: unknown };
export type ErrorAnswerPacket = Static<typeof ErrorAnswerPacket>;
export type AnswerPacket = SuccessAnswerPacket | ErrorAnswerPacket;
export type EventPacket = Static<typeof EventPacket>;

export type Packet =
  | { kind: 'request'; packet: RequestPacket }
  | { kind: 'answer'; packet: AnswerPacket }
  | { kind: 'event'; packet: EventPacket };

export type ParseResult = Packet | { kind: 'malformed'; detail: string };

const isRequest = compile(RequestPacket);
const isSuccess = compile(SuccessAnswerPacket);
const isError = compile(ErrorAnswerPacket);
const isEvent = compile(EventPacket);

/** Parses one WebSocket text message into a packet, or says why it is malformed. */
export function parsePacket(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', detail: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'malformed', detail: 'not a JSON object' };
  }
  // Pick the shape by its distinguishing key, then validate that shape fully.
  const o = value as Record<string, unknown>;
  const shapes = Number('req' in o) + Number('event' in o) + Number('resp' in o || 'err' in o);
  if (shapes !== 1) {
    return { kind: 'malformed', detail: 'not exactly one of request (req), answer (resp/err) or event' };
  }
  if ('req' in o) {
    return isRequest(o)
      ? { kind: 'request', packet: o }
      : { kind: 'malformed', detail: `request: ${isRequest.explain()}` };
  }
  if ('event' in o) {
    return isEvent(o)
      ? { kind: 'event', packet: o }
      : { kind: 'malformed', detail: `event: ${isEvent.explain()}` };
  }
  if ('resp' in o) {
    return isSuccess(o)
      ? { kind: 'answer', packet: o as SuccessAnswerPacket }
      : { kind: 'malformed', detail: `answer: ${isSuccess.explain()}` };
  }
  return isError(o)
    ? { kind: 'answer', packet: o }
    : { kind: 'malformed', detail: `answer: ${isError.explain()}` };
}
