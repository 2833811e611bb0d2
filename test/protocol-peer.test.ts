import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import { DeadlineSweeper } from '../src/protocol/deadline-sweeper.js';
import { parsePacket } from '../src/protocol/envelope.js';
import { RpcError } from '../src/protocol/errors.js';
import { PeerClosedError, type PeerHandler, RpcPeer } from '../src/protocol/peer.js';
import { checkParams, ivtMethodValidators } from '../src/protocol/validators.js';
import { eventually } from '../support/eventually.js';

/** A handler that records what reaches it; `answer` decides each request's answer. */
class Recorder implements PeerHandler {
  events: Array<[string, unknown]> = [];
  closes: CloseInfo[] = [];
  closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  constructor(readonly answer: (method: string, params: unknown) => unknown = () => ({})) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }
  handleRequest(method: string, params: unknown): unknown {
    return this.answer(method, params);
  }
  handleEvent(event: string, params: unknown): void {
    this.events.push([event, params]);
  }
  onPeerClose(info: CloseInfo): void {
    this.closes.push(info);
    this.resolveClosed(info);
  }
}

let server: WebSocketServer;
let url: string;
/** Each test gets the server side of its connection as a raw ws (to send arbitrary text). */
let nextServerSide: ((ws: WebSocket) => void) | null = null;

before(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (ws) => nextServerSide?.(ws));
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function connectPair(): Promise<{ client: WebSocket; serverSide: WebSocket }> {
  const serverSide = new Promise<WebSocket>((resolve) => {
    nextServerSide = resolve;
  });
  const client = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  return { client, serverSide: await serverSide };
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
}

describe('packet parsing', () => {
  test('recognises the four shapes and rejects mixtures', () => {
    assert.equal(parsePacket('{"req":"Keepalive","seq":1,"params":{}}').kind, 'request');
    assert.equal(parsePacket('{"seq":1,"resp":{}}').kind, 'answer');
    assert.equal(parsePacket('{"seq":1,"err":{"code":1,"msg":"x"}}').kind, 'answer');
    assert.equal(parsePacket('{"event":"SyncTime"}').kind, 'event');
    for (const bad of [
      'not json',
      '[1,2]',
      '42',
      '{}',
      '{"req":"A","seq":1,"event":"B"}',
      '{"seq":1,"resp":{},"err":{"code":1,"msg":"x"}}',
      '{"req":"A"}',
      '{"req":"A","seq":"1"}',
      '{"seq":1,"err":{"code":"x","msg":"y"}}',
      '{"event":7}',
    ]) {
      assert.equal(parsePacket(bad).kind, 'malformed', bad);
    }
  });

  test('method params are validated by schema with a readable reason', () => {
    assert.equal(
      checkParams(ivtMethodValidators, 'RTMPPublish', {
        channel: 0,
        quality: 'sd',
        url: 'rtmp://127.0.0.1/live/x',
        stream_id: 's',
        max_bitrate: 0,
      }),
      null,
    );
    const why = checkParams(ivtMethodValidators, 'RTMPPublish', { channel: 0, quality: 'uhd', url: 'x' });
    assert.match(why ?? '', /required|quality/);
  });
});

describe('RPC peer', () => {
  test('seq counts per direction from firstSeq, answers resolve calls', async () => {
    const { client, serverSide } = await connectPair();
    const clientPeer = new RpcPeer(client, new Recorder(), { firstSeq: 1 });
    const serverPeer = new RpcPeer(serverSide, new Recorder((m) => ({ echo: m })), { firstSeq: 0 });
    const seen: string[] = [];
    client.on('message', (d) => seen.push(d.toString()));
    assert.deepEqual(await clientPeer.call('Keepalive', { state: 1, channels: [] }), { echo: 'Keepalive' });
    assert.deepEqual(await clientPeer.call('GetFirmware'), { echo: 'GetFirmware' });
    // Server-side calls start at its own counter (0), independent of the client's.
    const answers: string[] = [];
    serverSide.on('message', (d) => answers.push(d.toString()));
    await serverPeer.call('RTMPPublish', {}).catch(() => {});
    assert.deepEqual(JSON.parse(seen.at(-1)!), { req: 'RTMPPublish', params: {}, seq: 0 });
    assert.deepEqual(JSON.parse(answers.at(-1)!), { seq: 0, resp: {} });
    clientPeer.close();
    serverPeer.close();
  });

  test('requests are answered strictly in arrival order even when a later handler is faster', async () => {
    const { client, serverSide } = await connectPair();
    const delays: Record<string, number> = { Slow: 150, Fast: 0, Medium: 40 };
    const handler = new Recorder(
      (method) => new Promise((resolve) => setTimeout(() => resolve({ method }), delays[method])),
    );
    const peer = new RpcPeer(client, handler);
    const received: Array<{ seq: number; resp: { method: string } }> = [];
    serverSide.on('message', (d) => received.push(JSON.parse(d.toString())));
    serverSide.send('{"req":"Slow","seq":7}');
    serverSide.send('{"req":"Fast","seq":8}');
    serverSide.send('{"req":"Medium","seq":9}');
    await eventually('three answers', () => received.length >= 3);
    assert.deepEqual(
      received.map((a) => [a.seq, a.resp.method]),
      [
        [7, 'Slow'],
        [8, 'Fast'],
        [9, 'Medium'],
      ],
    );
    peer.close();
  });

  test('a handler error becomes an err answer with its code', async () => {
    const { client, serverSide } = await connectPair();
    const peer = new RpcPeer(
      client,
      new Recorder(() => {
        throw new RpcError(102);
      }),
    );
    const answer = nextMessage(serverSide);
    serverSide.send('{"req":"RebootChannel","params":{"channel":9},"seq":1}');
    assert.deepEqual(JSON.parse(await answer), { seq: 1, err: { code: 102, msg: 'channel does not exist' } });
    peer.close();
  });

  test('events are delivered and not answered', async () => {
    const { client, serverSide } = await connectPair();
    const handler = new Recorder();
    const peer = new RpcPeer(client, handler);
    serverSide.send('{"event":"SyncTime","params":{"datetime":"2016-12-05T02:15:32","offset":5}}');
    await eventually('the event', () => handler.events.length > 0);
    assert.deepEqual(handler.events[0], ['SyncTime', { datetime: '2016-12-05T02:15:32', offset: 5 }]);
    peer.close();
  });

  for (const [name, text, reason, code] of [
    ['an unexpected answer seq', '{"seq":99,"resp":{}}', 'seq_mismatch', 4001],
    ['a malformed packet', '{"seq":1,"resp":{},"req":"x"}', 'malformed', 4003],
    ['non-JSON text', 'hello', 'malformed', 4003],
  ] as const) {
    test(`${name} closes the connection with reason ${reason}`, async () => {
      const { client, serverSide } = await connectPair();
      const handler = new Recorder();
      const peer = new RpcPeer(client, handler);
      const pending = peer.call('Keepalive', { state: 1, channels: [] });
      await nextMessage(serverSide);
      const serverSawClose = new Promise<number>((resolve) => serverSide.once('close', (c) => resolve(c)));
      serverSide.send(text);
      const info = await handler.closed;
      assert.equal(info.reason, reason);
      await assert.rejects(pending, PeerClosedError);
      assert.equal(await serverSawClose, code);
    });
  }

  test('no answer within the timeout closes with reason timeout', async () => {
    const { client } = await connectPair();
    const handler = new Recorder();
    const peer = new RpcPeer(client, handler, { rpcTimeoutMs: 300, sweeper: new DeadlineSweeper(50) });
    const started = performance.now();
    await assert.rejects(peer.call('Keepalive', { state: 1, channels: [] }), PeerClosedError);
    const info = await handler.closed;
    assert.equal(info.reason, 'timeout');
    assert.ok(performance.now() - started >= 300);
  });

  test('with closeOnSeqMismatch off (vendor) an unexpected seq is ignored, the request resent, and the right answer resolves', async () => {
    const { client, serverSide } = await connectPair();
    let ignored = 0;
    const handler = Object.assign(new Recorder(), {
      onSeqMismatchIgnored: () => {
        ignored++;
      },
    });
    const peer = new RpcPeer(client, handler, {
      closeOnSeqMismatch: false,
      resendOnSeqMismatch: true,
      firstSeq: 0,
    });
    const pending = peer.call('preview_server');
    const sent = JSON.parse(await nextMessage(serverSide));
    assert.equal(sent.seq, 0);
    const resent = nextMessage(serverSide);
    serverSide.send('{"seq":5,"resp":{}}');
    assert.deepEqual(JSON.parse(await resent), sent, 'the awaited request is sent again, same seq');
    serverSide.send('{"seq":0,"resp":{"url":""}}');
    assert.deepEqual(await pending, { url: '' });
    assert.equal(ignored, 1);
    assert.equal(peer.isOpen, true);
    peer.close();
  });

  test('the peer closing is reported as closed_by_peer with its code', async () => {
    const { client, serverSide } = await connectPair();
    const handler = new Recorder();
    new RpcPeer(client, handler);
    serverSide.close(4003, 'bad packet');
    const info = await handler.closed;
    assert.deepEqual([info.reason, info.code, info.detail], ['closed_by_peer', 4003, 'bad packet']);
  });
});
