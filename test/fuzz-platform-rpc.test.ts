// Fuzz: random and mutated IVR-RPC packets sent by a logged-in "device" to the reference
// platform over a real WebSocket. The platform must answer or close exactly as the protocol
// says, count every malformed packet, and still serve a well-behaved device afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { type RunningIvc, startIvc } from '../src/ivc/index.js';
import { closeCodes } from '../src/protocol/close-reason.js';
import { ivcMethods } from '../src/protocol/methods.js';
import { eventually } from '../support/eventually.js';
import { loginUrl, openSocket } from '../support/ivc-client.js';
import { Conversation } from './fuzz-conversation.js';
import { fuzzPackets } from './fuzz-packets.js';
import { checkProperty } from './fuzz-support.js';

let ivc: RunningIvc;
before(async () => {
  ivc = await startIvc({ port: 0 });
});
after(() => ivc.close());

const keepalive = (seq: number) =>
  JSON.stringify({ req: 'Keepalive', seq, params: { state: 1, channels: [{ channel: 0, state: 1 }] } });

test('fuzzed packets from a device get the protocol answer or close code, and are counted', async (t) => {
  let login = 0;
  const closes = new Map<number, number>();
  const details = await checkProperty(
    fc.asyncProperty(
      fc.array(fuzzPackets({ methods: ivcMethods, events: {} }), { minLength: 1, maxLength: 4 }),
      async (packets) => {
        const ws = await openSocket(loginUrl(ivc.url, `fuzz-${++login}`));
        assert.ok(ws instanceof WebSocket, `login refused: ${JSON.stringify(ws)}`);
        // The platform sends no requests to a device unless told to; answer any with {} anyway.
        const conversation = new Conversation(ws, () => ({}));
        const code = await conversation.play(packets, keepalive);
        if (code !== null) closes.set(code, (closes.get(code) ?? 0) + 1);
        await conversation.end();
      },
    ),
    60,
  );
  t.diagnostic(
    `${details.numRuns} runs, seed ${details.seed}, closes by code ${JSON.stringify([...closes])}`,
  );
  // Every malformed packet and every stray answer was counted as the fault it is.
  const stats = ivc.platform.stats;
  await eventually('the platform to see every close', () => stats.online === 0);
  assert.equal(stats.violations.malformed ?? 0, closes.get(closeCodes.malformed) ?? 0);
  assert.equal(stats.violations.answer_order ?? 0, closes.get(closeCodes.seq_mismatch) ?? 0);
});

test('after the fuzzing, a well-behaved device logs in, keeps alive and answers an admin RPC', async () => {
  const scheduler = new Scheduler({ resolutionMs: 10 });
  const device = new SimulatedDevice(
    { url: ivc.url, loginCode: 'after-fuzz', password: 'pw' },
    { scheduler },
  );
  device.start();
  try {
    await eventually(
      'the device to be online',
      () => ivc.platform.devices.get('after-fuzz')?.keepalives === 1,
    );
    const res = await fetch(`${ivc.httpUrl}/api/devices/after-fuzz/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ req: 'GetNetConfig', params: { channel: 0 } }),
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { resp?: Array<{ ip: string }> };
    assert.ok(Array.isArray(answer.resp) && answer.resp.length > 0, JSON.stringify(answer));
  } finally {
    await device.stop();
  }
});
