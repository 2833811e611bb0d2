// Cloud recordings (contract item 5) from one process: N recorders cut TS segments of a rendition
// and run the cbk_url flow (create → paced PUT → confirm) against the reference IVC started in a
// child process (so its CPU is not counted). Prints uploads, latencies, device CPU per segment.
// Bounded: N recordings for S seconds on 127.0.0.1, then stopped (op=save) and the IVC closed.
//
//   npx tsc -p . && node dist/bench/recorder.js [recordings=200] [seconds=12] [quality=ld] [segSeconds=2]
import { fork } from 'node:child_process';
import { Scheduler } from '../src/core/scheduler.js';
import { startIvc } from '../src/ivc/server.js';
import { loadCatalogue, type Quality } from '../src/media/catalogue.js';
import { CloudRecorder, type RecorderObserver } from '../src/media/recorder/index.js';
import { TsLoop } from '../src/media/ts/loop.js';

if (process.argv[2] === 'platform') {
  const ivc = await startIvc({ port: 0 });
  process.send?.({ httpUrl: ivc.httpUrl });
  process.on('message', async (m) => {
    if (m === 'stats') {
      const s = (await (await fetch(`${ivc.httpUrl}/api/stats`)).json()) as { record: unknown };
      process.send?.({ record: s.record, cpu: process.cpuUsage() });
    } else if (m === 'exit') {
      await ivc.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const [n = 200, seconds = 12] = process.argv.slice(2, 4).map(Number);
  const quality = (process.argv[4] ?? 'ld') as Quality;
  const seg = Number(process.argv[5] ?? 2);
  const child = fork(new URL(import.meta.url).pathname, ['platform']);
  const { httpUrl } = await new Promise<{ httpUrl: string }>((r) =>
    child.once('message', (m) => r(m as never)),
  );
  const loop = TsLoop.shared(loadCatalogue().rendition(quality).tsPath);
  const scheduler = new Scheduler();
  const created: number[] = [];
  const uploaded: number[] = [];
  const failures: Record<string, number> = {};
  let bytes = 0;
  const count = (k: string) => {
    failures[k] = (failures[k] ?? 0) + 1;
  };
  const observer: RecorderObserver = {
    segmentCreated: (ms) => created.push(ms),
    createDeferred() {},
    createFailed: (r) => count(`create_${r}`),
    segmentUploaded: (ms, b) => {
      uploaded.push(ms);
      bytes += b;
    },
    uploadFailed: (r) => count(`put_${r}`),
    segmentDropped: (r) => count(`drop_${r}`),
    saved() {},
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const recorders: CloudRecorder[] = [];
  for (let i = 0; i < n; i++) {
    // Real cameras start recording at different moments: starts spread over one segment.
    await new Promise((r) => setTimeout(r, (seg * 1000) / n));
    recorders.push(
      new CloudRecorder({
        params: {
          session_id: `bench${String(i).padStart(17, '0')}`,
          seg_duration: seg,
          seg_max_size: 0,
          seg_max_count: 4,
          prerecord_seconds: 0,
          cbk_url: `${httpUrl.replace('http', 'ivr')}/record/bench${i}`,
        },
        startTs: Math.floor(Date.now() / 1000),
        media: loop,
        scheduler,
        observer,
        startGop: i,
      }),
    );
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  for (const r of recorders) r.stop();
  await Promise.all(recorders.map((r) => r.closed));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  child.send('stats');
  const platform = await new Promise<{ record: unknown }>((r) => child.once('message', (m) => r(m as never)));
  child.send('exit');
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!) : null;
  };
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`recorder bench: ${n} recordings of ${quality}, ${seg} s segments, ${wall.toFixed(1)} s`);
  console.log(
    `  uploads ${uploaded.length} (${(bytes / 1e6).toFixed(1)} MB); failures ${JSON.stringify(failures)}`,
  );
  console.log(
    `  create p50 ${pct(created, 0.5)} ms, p99 ${pct(created, 0.99)} ms; upload (paced) p50 ${pct(uploaded, 0.5)} ms`,
  );
  console.log(
    `  device CPU ${(cpuMs / 1000).toFixed(1)} s (${((cpuMs / 1000 / wall) * 100).toFixed(1)} % of a core), ${(cpuMs / Math.max(1, uploaded.length)).toFixed(2)} ms per segment`,
  );
  console.log(`  platform saw ${JSON.stringify(platform.record)}`);
  process.exit(0);
}
