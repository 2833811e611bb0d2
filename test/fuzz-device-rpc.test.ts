// Fuzz: a hostile platform. A tiny real WebSocket server plays the IVC, lets a SimulatedDevice
// log in, then sends it random and mutated requests, events and broken packets. The device must
// answer or close exactly as the protocol says, never crash, and log in again after a close.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type WebSocket, WebSocketServer } from 'ws';
import { seededRandom } from '../src/core/random.js';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { closeCodes } from '../src/protocol/close-reason.js';
import { ivtEvents, ivtMethods } from '../src/protocol/methods.js';
import { defaultAnswer, RecordingObserver } from './device-platform.js';
import { Conversation } from './fuzz-conversation.js';
import { fuzzPackets } from './fuzz-packets.js';
import { checkProperty } from './fuzz-support.js';

/** The platform's answers to the device's own requests (those of the device tests' platform). */
const answerDevice = (request: Record<string, unknown>) =>
  (defaultAnswer as (method: string) => unknown)(String(request.req));

/** A platform that hands each login to the fuzzer once the device's first Keepalive is answered. */
class FuzzPlatform {
  readonly server = createServer((_req, res) => res.writeHead(404).end());
  readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly ready: Conversation[] = [];
  private wake: (() => void) | null = null;

  constructor() {
    this.server.on('upgrade', (req, socket, head) =>
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws)),
    );
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ivc`;
  }

  /** The next logged-in connection (a device logs in again by itself after a close). */
  async nextLogin(): Promise<Conversation> {
    const until = Date.now() + 10_000;
    while (this.ready.length === 0) {
      if (Date.now() > until) throw new Error('the device did not log in again within 10 s');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return this.ready.shift()!;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    let greeted = false;
    const conversation = new Conversation(ws, (request) => {
      if (!greeted && request.req === 'Keepalive') {
        greeted = true;
        // Handed over after this answer is sent: the device has nothing outstanding then.
        setImmediate(() => {
          this.ready.push(conversation);
          this.wake?.();
        });
      }
      return answerDevice(request);
    });
  }
}

const fuzzPlatform = new FuzzPlatform();
const scheduler = new Scheduler({ resolutionMs: 10 });
const observer = new RecordingObserver();
let device: SimulatedDevice;

before(async () => {
  const url = await fuzzPlatform.listen();
  device = new SimulatedDevice(
    {
      url,
      loginCode: 'fuzzed-device',
      password: 'pw',
      // No keepalive of its own during a run (it would be an outstanding request), quick re-login.
      timings: { keepaliveMs: 600_000, backoffInitialMs: 20, backoffCapMs: 50 },
    },
    { scheduler, observer, random: seededRandom(1) },
  );
  device.start();
});
after(async () => {
  await device.stop();
  await fuzzPlatform.close();
});

// RebootChannel and UpgradeFirmware end the connection on purpose (a camera reboots as a whole):
// they are covered by the device's own tests, not by this one, whose oracle is the fault rules.
const { RebootChannel: _reboot, ...methods } = ivtMethods;
const { UpgradeFirmware: _upgrade, ...events } = ivtEvents;
const probe = (seq: number) => JSON.stringify({ req: 'GetRTMPPublishConfig', seq });

test('fuzzed packets from a platform get the protocol answer or close code from the device', async (t) => {
  let current = null as Conversation | null;
  const closes = new Map<number, number>();
  const details = await checkProperty(
    fc.asyncProperty(
      fc.array(fuzzPackets({ methods, events }), { minLength: 1, maxLength: 4 }),
      async (packets) => {
        if (!current?.isOpen) current = await fuzzPlatform.nextLogin();
        const code = await current.play(packets, probe);
        if (code !== null) closes.set(code, (closes.get(code) ?? 0) + 1);
      },
    ),
    60,
  );
  t.diagnostic(
    `${details.numRuns} runs, seed ${details.seed}, closes by code ${JSON.stringify([...closes])}`,
  );
  // The device reported each close with the protocol's reason, and logs in again.
  const reasons = (r: string) => observer.disconnects.filter((d) => d.reason === r).length;
  assert.equal(reasons('malformed'), closes.get(closeCodes.malformed) ?? 0);
  assert.equal(reasons('seq_mismatch'), closes.get(closeCodes.seq_mismatch) ?? 0);
  assert.equal(reasons('message_too_large'), closes.get(1009) ?? 0);
  if (!current?.isOpen) current = await fuzzPlatform.nextLogin();
  const event = JSON.stringify({ event: 'NoSuchEvent' });
  assert.equal(
    await current.play([{ label: event, data: event, binary: false, expect: { kind: 'ignored' } }], probe),
    null,
  );
});
