import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RtmpPublishError } from '../src/media/rtmp/errors.js';
import { RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';
import { RtmpPublisherPool } from '../src/media/rtmp/publisher-pool.js';
import { eventually } from '../support/eventually.js';
import { makeFlv } from '../support/nginx-rtmp.js';

let dir = '';
let clipPath = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivtfarm-rtmp-pool-'));
  clipPath = await makeFlv(join(dir, 'clip.flv'), 2);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('pool: shared media, round-robin sources, one failure callback per broken push, none after stop', async (t) => {
  const server = new RtmpIngestServer();
  t.after(() => server.close());
  const { port } = await server.listen();
  const latencies: number[] = [];
  const pool = new RtmpPublisherPool({
    windowMs: 100,
    sourceAddresses: ['127.0.0.2', '127.0.0.3'],
    onStartLatency: (ms) => latencies.push(ms),
  });
  t.after(() => pool.close());
  const failed: Record<string, RtmpPublishError[]> = { a: [], b: [], c: [] };
  const tasks = Object.fromEntries(
    ['a', 'b', 'c'].map((name) => [
      name,
      pool.publish({
        url: `rtmp://127.0.0.1:${port}/live/${name}`,
        flvPath: clipPath,
        onFailed: (e) => failed[name]?.push(e),
      }),
    ]),
  );
  await eventually('pool.snapshot().streaming === 3', () => pool.snapshot().streaming === 3);
  assert.equal(latencies.length, 3);
  assert.equal(pool.loadMedia(clipPath), pool.loadMedia(clipPath), 'one parsed file for every stream');
  assert.ok(tasks.a?.publisher && tasks.a.publisher !== tasks.b?.publisher);
  assert.deepEqual(
    ['a', 'b', 'c'].map((n) => server.stream(n)?.remoteAddress),
    ['127.0.0.2', '127.0.0.3', '127.0.0.2'],
  );

  assert.ok(server.kick('a'));
  await eventually('(failed.a?.length ?? 0) > 0', () => (failed.a?.length ?? 0) > 0);
  await tasks.b?.stop();
  await tasks.b?.stop(); // idempotent
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(failed.a?.length, 1);
  assert.equal(failed.a?.[0]?.reason, 'closed');
  assert.equal(failed.b?.length, 0, 'a stopped push reports no failure');
  assert.equal(failed.c?.length, 0);

  const snap = pool.snapshot();
  assert.equal(snap.active, 1);
  assert.equal(snap.started, 3);
  assert.deepEqual(snap.failures, { closed: 1 });
  assert.ok(snap.mediaBytesSent > 0 && snap.bytesSent > snap.mediaBytesSent);
  await pool.close();
  const closed = pool.snapshot();
  assert.equal(closed.active, 0);
  assert.ok(closed.bytesSent >= snap.bytesSent, 'ended publishers stay in the totals');
});

test('pool: a missing rendition file is a media_error failure', async () => {
  const pool = new RtmpPublisherPool();
  const err = await new Promise<RtmpPublishError>((resolve) => {
    pool.publish({ url: 'rtmp://127.0.0.1:1/live/x', flvPath: join(dir, 'missing.flv'), onFailed: resolve });
  });
  assert.equal(err.reason, 'media_error');
  assert.deepEqual(pool.snapshot().failures, { media_error: 1 });
  await pool.close();
});
