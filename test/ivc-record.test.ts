import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { type IvcOptions, type RunningIvc, startIvc, TsChecker } from '../src/ivc/index.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import type { StartCloudRecordParams } from '../src/protocol/methods.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';

/** A real segment: the committed sd rendition, 600 whole TS packets of it. */
const media = readFileSync(new URL('../../media/sd.ts', import.meta.url));
const segment = media.subarray(0, 600 * 188);

const running: RunningIvc[] = [];
after(async () => {
  await Promise.all(running.map((ivc) => ivc.close()));
});

/** A device that only accepts StartCloudRecord and remembers its params. */
class Recorder implements PeerHandler {
  params: StartCloudRecordParams | null = null;
  handleRequest(_method: string, params: unknown): unknown {
    this.params = params as StartCloudRecordParams;
    return {};
  }
  handleEvent(): void {}
  onPeerClose(_info: CloseInfo): void {}
}

/** Starts an IVC with one online device and orders it to record; returns the cbk_url it was given. */
async function recording(options: IvcOptions): Promise<{ ivc: RunningIvc; cbk: string; sessionId: string }> {
  const ivc = await startIvc(options);
  running.push(ivc);
  const q = new URLSearchParams({
    login_code: 'rec-1',
    login_passwd: 'x',
    hardware_model: 'h',
    firmware_model: 'f',
  });
  const ws = new WebSocket(`${ivc.url}?${q}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const device = new Recorder();
  new RpcPeer(ws, device);
  const { sessionId, answer } = await ivc.commands.startCloudRecord('rec-1', { channel: 0, seg_duration: 4 });
  assert.deepEqual(answer, { seq: 1, resp: {} });
  assert.equal(sessionId.length, 22);
  assert.equal(device.params!.session_id, sessionId);
  // The platform hands out ivr:// (the vendor's segment writer knows no other): plain http.
  assert.equal(device.params!.cbk_url, `${ivc.httpUrl.replace(/^http:/, 'ivr:')}/record/${sessionId}`);
  return { ivc, cbk: device.params!.cbk_url.replace(/^ivr:/, 'http:'), sessionId };
}

async function create(cbk: string, size: number, lastName?: string): Promise<{ name: string; uri: string }> {
  const form = new URLSearchParams({
    op: 'create',
    content_type: 'video/mp2t',
    size: String(size),
    start: '1764000000.000000',
    duration: '4.000000',
  });
  if (lastName) form.set('last_file_name', lastName);
  const res = await fetch(cbk, {
    method: 'POST',
    body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { name: string; uri: string };
}

async function put(uri: string, body: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(uri, { method: 'PUT', body, headers: { 'content-type': 'video/mp2t' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('IVC cloud-recording endpoints', () => {
  test('create hands out names (empty while pre-recording), PUT checks the TS, fail and save are counted', async () => {
    const { ivc, cbk, sessionId } = await recording({ record: { emptyCreates: 1 } });
    assert.equal(cbk, `${ivc.httpUrl}/record/${sessionId}`);
    assert.deepEqual(await create(cbk, segment.length), { name: '', uri: '' });
    const first = await create(cbk, segment.length);
    assert.equal(first.name, '0001.ts');
    assert.equal(first.uri, `${ivc.httpUrl}/upload/record/${sessionId}/0001.ts`);
    assert.deepEqual(await put(first.uri, segment), {
      status: 200,
      body: { name: '0001.ts', bytes: segment.length, valid_ts: true },
    });
    // The same name cannot be uploaded twice.
    assert.equal((await put(first.uri, segment)).status, 404);

    // A segment with one packet cut out: a continuity jump, and fewer bytes than announced.
    const second = await create(cbk, segment.length, first.name);
    assert.equal(second.name, '0002.ts');
    const cut = Buffer.concat([segment.subarray(0, 100 * 188), segment.subarray(101 * 188)]);
    const bad = await put(second.uri, cut);
    assert.equal(bad.body.valid_ts, false);

    const third = await create(cbk, 188, second.name);
    const fail = await fetch(cbk, { method: 'POST', body: `op=fail&name=${third.name}` });
    assert.equal(fail.status, 200);
    const save = await fetch(cbk, { method: 'POST', body: `op=save&name=${second.name}` });
    assert.equal(save.status, 200);
    const bogus = await fetch(cbk, { method: 'POST', body: 'op=explode' });
    assert.equal(bogus.status, 400);
    assert.match(((await bogus.json()) as { info: string }).info, /op must be/);

    const summary = (await (await fetch(`${ivc.httpUrl}/api/recordings/${sessionId}`)).json()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(summary, {
      session_id: sessionId,
      login_code: 'rec-1',
      creates: 4,
      segments: 2,
      bytes: segment.length * 2 - 188,
      fails: 1,
      saved: true,
      last_name: '0002.ts',
    });
    const device = (await (await fetch(`${ivc.httpUrl}/api/devices/rec-1`)).json()) as {
      violations: Record<string, number>;
      last_violation: { rule: string; detail: string };
    };
    assert.deepEqual(device.violations, { record_ts: 1, record_size: 1 });
  });

  test('the failPuts knob refuses uploads with 500', async () => {
    const { cbk } = await recording({ record: { failPuts: true } });
    const slot = await create(cbk, segment.length);
    const res = await put(slot.uri, segment);
    assert.equal(res.status, 500);
    assert.match(res.body.info as string, /failPuts/);
  });
});

describe('TS checker', () => {
  test('accepts a real stream cut in arbitrary chunks and finds sync and continuity faults', () => {
    const checker = new TsChecker();
    let at = 0;
    for (const size of [1, 187, 188, 189, 5000, 7, 100_000]) {
      checker.push(media.subarray(at, Math.min(at + size, media.length)));
      at = Math.min(at + size, media.length);
    }
    checker.push(media.subarray(at));
    assert.equal(checker.finish(), true, checker.firstError);
    assert.equal(checker.bytes, media.length);

    const broken = Buffer.from(segment);
    broken[188 * 10] = 0x00;
    const sync = new TsChecker();
    sync.push(broken);
    assert.equal(sync.finish(), false);
    assert.equal(sync.syncErrors, 1);
    assert.match(sync.firstError, /packet 10/);

    const tail = new TsChecker();
    tail.push(segment.subarray(0, 188 * 3 + 10));
    assert.equal(tail.finish(), false);
    assert.match(tail.firstError, /trailing 10 bytes/);
  });
});
