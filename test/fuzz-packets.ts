// Fuzzed IVR-RPC packets, each with what IVR-RPC.md (and the project's contract in it) says the
// receiver must do with it: answer a request with its own seq (error 101 for an unknown
// method), ignore an event, close with 4003 on a malformed packet, 4001 on an answer to a
// request it never sent, 1009 on a message over its size limit.
import fc from 'fast-check';
import { closeCodes } from '../src/protocol/close-reason.js';
import { hostileValue, mutated, validValue } from './fuzz-support.js';

export type Expectation =
  | { kind: 'answer'; seq: number; errCode?: number }
  | { kind: 'close'; code: number }
  | { kind: 'ignored' };

export interface FuzzPacket {
  /** What was sent, for the counterexample (large texts are cut). */
  label: string;
  data: string | Buffer;
  binary: boolean;
  expect: Expectation;
}

/** Methods and events one side accepts, with their params schemas (as in methods.ts). */
export interface Accepted {
  methods: Record<string, { params: unknown }>;
  events: Record<string, { params: unknown }>;
}

const MALFORMED = closeCodes.malformed;
const SEQ_MISMATCH = closeCodes.seq_mismatch;
/** ws's close code for a message over `maxPayload`. */
const TOO_LARGE = 1009;
/** Both sides refuse messages over 4 MiB by default. */
const MAX_MESSAGE = 4 * 1024 * 1024;

const seq = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -2147483648, max: 2 ** 40 }));

function packet(value: unknown, expect: Expectation, binary: boolean): FuzzPacket {
  const data = typeof value === 'string' ? value : JSON.stringify(value);
  return described({
    label: `${binary ? 'binary ' : ''}${data.length > 160 ? `${data.slice(0, 160)}… (${data.length} chars)` : data}`,
    data: binary ? Buffer.from(data) : data,
    binary,
    expect,
  });
}

/** Counterexamples show the short label and the expectation, not megabytes of data. */
function described(p: FuzzPacket): FuzzPacket {
  return Object.assign(p, { [fc.toStringMethod]: () => `${p.label} → ${JSON.stringify(p.expect)}` });
}

/** Packets a receiver that accepts `accepted` must survive, each with its expected outcome. */
export function fuzzPackets(accepted: Accepted): fc.Arbitrary<FuzzPacket> {
  const methodNames = Object.keys(accepted.methods);
  const eventNames = Object.keys(accepted.events);
  const paramsOf = (table: Accepted['methods'], name: string) => {
    const schema = table[name]!.params;
    return schema ? validValue(schema) : fc.constant(undefined);
  };
  const knownRequest = fc
    .constantFrom(...methodNames)
    .chain((req) => fc.record({ req: fc.constant(req), params: paramsOf(accepted.methods, req), seq }));
  const unknownName = (known: string[]) =>
    fc
      .oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant('x'.repeat(100_000)))
      .filter((n) => !known.includes(n));
  const binary = fc.boolean();

  // A request, valid or with mutated params: answered with its seq (an error when the params are bad).
  const request = fc
    .tuple(knownRequest, fc.boolean(), binary)
    .chain(([valid, mutate, bin]) =>
      (mutate ? mutated(fc.constant(valid.params ?? {})) : fc.constant(valid.params)).map((params) =>
        packet({ ...valid, params }, { kind: 'answer', seq: valid.seq }, bin),
      ),
    );
  const unknownMethod = fc
    .tuple(unknownName(methodNames), hostileValue, seq, binary)
    .map(([req, params, s, bin]) =>
      packet({ req, params, seq: s }, { kind: 'answer', seq: s, errCode: 101 }, bin),
    );
  const event = fc
    .tuple(
      eventNames.length > 0
        ? fc.oneof(fc.constantFrom(...eventNames), unknownName(eventNames))
        : unknownName([]),
      fc.boolean(),
      binary,
    )
    .chain(([name, mutate, bin]) => {
      const params = accepted.events[name] ? paramsOf(accepted.events, name) : hostileValue;
      return (mutate ? mutated(params) : params).map((p) =>
        packet({ event: name, params: p }, { kind: 'ignored' }, bin),
      );
    });
  // An answer to a request the receiver never sent.
  const strayAnswer = fc
    .tuple(
      seq,
      fc.oneof(
        hostileValue.map((resp) => ({ resp })),
        fc.record({ err: fc.record({ code: fc.integer(), msg: fc.string() }) }),
      ),
      binary,
    )
    .map(([s, body, bin]) => packet({ seq: s, ...body }, { kind: 'close', code: SEQ_MISMATCH }, bin));
  // Envelopes broken in one of the ways a packet can be malformed.
  const brokenEnvelope = fc
    .tuple(knownRequest, fc.constantFrom(...envelopeBreaks), hostileValue, binary)
    .map(([valid, breakIt, value, bin]) =>
      packet(breakIt(valid, value), { kind: 'close', code: MALFORMED }, bin),
    );
  const notAPacket = fc
    .tuple(
      fc.oneof(
        fc.string({ maxLength: 40 }).filter((t) => !parsesAsObject(t)),
        fc
          .jsonValue()
          .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
          .map((v) => JSON.stringify(v)),
        knownRequest.map((r) => JSON.stringify(r).slice(0, -1)), // truncated
        fc.constant(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), // too deep for JSON.parse
      ),
      binary,
    )
    .map(([text, bin]) => packet(text, { kind: 'close', code: MALFORMED }, bin));
  const binaryGarbage = fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .filter((bytes) => !parsesAsObject(Buffer.from(bytes).toString()))
    .map((bytes) =>
      described({
        label: `binary bytes ${Buffer.from(bytes).toString('hex')}`,
        data: Buffer.from(bytes),
        binary: true,
        expect: { kind: 'close', code: MALFORMED },
      }),
    );
  const oversized = fc.constant(
    packet(
      { req: 'Keepalive', seq: 1, params: 'x'.repeat(MAX_MESSAGE) },
      { kind: 'close', code: TOO_LARGE },
      false,
    ),
  );

  return fc.oneof(
    { weight: 6, arbitrary: request },
    { weight: 2, arbitrary: unknownMethod },
    { weight: 3, arbitrary: event },
    { weight: 1, arbitrary: strayAnswer },
    { weight: 3, arbitrary: brokenEnvelope },
    { weight: 2, arbitrary: notAPacket },
    { weight: 1, arbitrary: binaryGarbage },
    { weight: 1, arbitrary: oversized },
  );
}

function parsesAsObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

type Request = { req: string; params: unknown; seq: number };

/** Each turns a valid request into one the envelope rules refuse. */
const envelopeBreaks: ReadonlyArray<(r: Request, value: unknown) => Record<string, unknown>> = [
  ({ req, params }) => ({ req, params }), // no seq
  ({ req, params }, v) => ({
    req,
    params,
    seq: typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v,
  }),
  ({ req, params, seq: s }) => ({ req, params, seq: s + 0.5 }),
  ({ req, params }) => ({ req, params, seq: 2 ** 60 }),
  ({ params, seq: s }, v) => ({ req: typeof v === 'string' && v !== '' ? 0 : v, params, seq: s }),
  ({ params, seq: s }) => ({ req: '', params, seq: s }),
  (r) => ({ ...r, event: r.req }), // request and event at once
  (r, v) => ({ ...r, resp: v }), // request and answer at once
  ({ seq: s }) => ({ seq: s, err: { code: 1 } }), // err without msg
  ({ seq: s }, v) => ({ seq: s, err: v === null || typeof v !== 'object' ? v : 'x' }),
  ({ seq: s }) => ({ seq: s }), // neither request, answer nor event
  ({ params }, v) => ({ event: typeof v === 'string' && v !== '' ? 1 : v, params }),
];
