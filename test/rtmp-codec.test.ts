import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Amf0Value, decodeAmf0, encodeAmf0 } from '../src/media/rtmp/amf0.js';
import { ChunkReader, type RtmpMessage } from '../src/media/rtmp/chunk-reader.js';
import { ChunkWriter } from '../src/media/rtmp/chunk-writer.js';
import { ClientHandshake, HANDSHAKE_SIZE, ServerHandshake } from '../src/media/rtmp/handshake.js';
import { parseRtmpUrl, redactRtmpUrl } from '../src/media/rtmp/url.js';

test('AMF0 round-trips command values', () => {
  const values: Amf0Value[] = [
    'connect',
    1,
    { app: 'live', tcUrl: 'rtmp://h/live', nested: { ok: true, n: -2.5 }, list: [1, 'x', null] },
    null,
    undefined,
    'é✓ unicode',
    'x'.repeat(70000), // long string marker
  ];
  assert.deepEqual(decodeAmf0(encodeAmf0(values)), values);
});

test('AMF0 decodes an ECMA array (as FLV onMetaData carries) and refuses truncation', () => {
  // 0x08, count, "duration": 3.0, end
  const body = Buffer.concat([
    encodeAmf0(['onMetaData']),
    Buffer.from([0x08, 0, 0, 0, 1, 0, 8]),
    Buffer.from('duration'),
    Buffer.from([0x00]),
    Buffer.from(new Float64Array([3]).buffer).reverse(),
    Buffer.from([0, 0, 9]),
  ]);
  assert.deepEqual(decodeAmf0(body), ['onMetaData', { duration: 3 }]);
  assert.throws(() => decodeAmf0(body.subarray(0, body.length - 6)), /truncated/);
});

function roundTrip(messages: Omit<RtmpMessage, 'csid'>[], csid: number, chunkSize: number, step: number) {
  const w = new ChunkWriter();
  const out: RtmpMessage[] = [];
  const r = new ChunkReader((m) => out.push({ ...m, payload: Buffer.from(m.payload) }));
  const wire = Buffer.concat([
    w.setChunkSize(chunkSize),
    ...messages.map((m) => w.message(csid, m.type, m.streamId, m.timestamp, m.payload)),
  ]);
  for (let i = 0; i < wire.length; i += step) r.push(wire.subarray(i, i + step));
  return { out: out.slice(1), reader: r };
}

test('chunks: multi-chunk messages, delta headers and extended timestamps survive any TCP split', () => {
  const big = Buffer.alloc(1000, 7);
  const msgs = [
    { type: 9, streamId: 1, timestamp: 0, payload: big },
    { type: 9, streamId: 1, timestamp: 40, payload: Buffer.from('small') },
    { type: 9, streamId: 1, timestamp: 0x1000000 + 5, payload: big }, // extended, delta ≥ 0xffffff
    { type: 9, streamId: 1, timestamp: 0x1000000 + 45, payload: big }, // extended absolute, small delta
    { type: 9, streamId: 1, timestamp: 10, payload: Buffer.alloc(0) }, // back in time: full header
  ];
  for (const step of [1, 7, 129, 100000]) {
    const { out, reader } = roundTrip(msgs, 6, 128, step);
    assert.equal(reader.chunkSize, 128);
    assert.deepEqual(
      out.map((m) => [m.timestamp, m.payload.length, m.streamId, m.type]),
      msgs.map((m) => [m.timestamp, m.payload.length, m.streamId, m.type]),
      `split every ${step} bytes`,
    );
    assert.ok(out.every((m, i) => m.payload.equals(msgs[i]?.payload as Buffer)));
  }
});

test('chunks: reader handles fmt 2, fmt 3 new messages and 2/3-byte chunk stream ids', () => {
  const got: RtmpMessage[] = [];
  const r = new ChunkReader((m) => got.push(m));
  const h0 = Buffer.from([0x00 | 0, 10 /* csid 74 */, 0, 0, 100, 0, 0, 3, 8, 1, 0, 0, 0]);
  const h2 = Buffer.from([0x80 | 0, 10, 0, 0, 20]); // fmt 2: delta 20, same length/type
  const h3 = Buffer.from([0xc0 | 0, 10]); // fmt 3 starting a message: same delta again
  const h0b = Buffer.from([0x01, 0x2c, 0x01, 0, 0, 5, 0, 0, 1, 8, 2, 0, 0, 0]); // csid 1+2 bytes = 364
  r.push(
    Buffer.concat([
      h0,
      Buffer.from('abc'),
      h2,
      Buffer.from('def'),
      h3,
      Buffer.from('ghi'),
      h0b,
      Buffer.from('z'),
    ]),
  );
  assert.deepEqual(
    got.map((m) => [m.csid, m.timestamp, m.payload.toString(), m.streamId]),
    [
      [74, 100, 'abc', 1],
      [74, 120, 'def', 1],
      [74, 140, 'ghi', 1],
      [364, 5, 'z', 2],
    ],
  );
});

test('simple handshake: client and server complete against each other, surplus bytes kept', () => {
  const c = new ClientHandshake();
  const s = new ServerHandshake();
  const c0c1 = c.start();
  assert.equal(c0c1.length, 1 + HANDSHAKE_SIZE);
  const s1 = s.push(c0c1);
  assert.equal(s1.reply?.length, 1 + 2 * HANDSHAKE_SIZE);
  assert.ok(s1.reply?.subarray(1 + HANDSHAKE_SIZE).equals(c0c1.subarray(1)), 'S2 echoes C1');
  const c1 = c.push(s1.reply as Buffer);
  assert.ok(c1.rest && c1.reply, 'client done and sent C2');
  const s2 = s.push(Buffer.concat([c1.reply as Buffer, Buffer.from('next')]));
  assert.equal(s2.rest?.toString(), 'next');
  assert.throws(() => new ServerHandshake().push(Buffer.alloc(1 + HANDSHAKE_SIZE, 6)), /version 6/);
});

test('RTMP URLs split into app and stream the usual way; the query is redacted', () => {
  assert.deepEqual(parseRtmpUrl('rtmp://example.org/live/cam1'), {
    host: 'example.org',
    port: 1935,
    app: 'live',
    stream: 'cam1',
    tcUrl: 'rtmp://example.org/live',
  });
  const u = parseRtmpUrl('rtmp://127.0.0.1:19350/live/inst/cam1?token=secret');
  assert.equal(u?.app, 'live/inst');
  assert.equal(u?.stream, 'cam1?token=secret');
  assert.equal(u?.tcUrl, 'rtmp://127.0.0.1:19350/live/inst');
  assert.equal(redactRtmpUrl(u as NonNullable<typeof u>), 'rtmp://127.0.0.1:19350/live/inst/cam1');
  assert.equal(parseRtmpUrl('rtmp://h/onlyapp'), null);
  assert.equal(parseRtmpUrl('http://h/live/x'), null);
  assert.equal(parseRtmpUrl('rtmp://h:99999/live/x'), null);
});
