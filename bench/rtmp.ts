// RTMP publisher benchmark: N paced publishers of one rendition from this process to a discard sink
// on loopback (nginx-rtmp without recording, or our ingest in discard mode in a separate process),
// sockets spread over 127.0.0.x source addresses. Prints publisher CPU-seconds per pushed GB,
// pacing lag percentiles, RSS and achieved vs target bitrate. `--ffmpeg N` measures N
// `ffmpeg -re -stream_loop -1 … -c copy -f flv` processes instead, for comparison.
//
//   npx tsc -p . && node dist/bench/rtmp.js --streams 2000 --seconds 60 --target nginx --quality ld
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as hdr from 'hdr-histogram-js';
import { loadCatalogue, type Quality } from '../src/media/catalogue.js';
import { loadFlv } from '../src/media/flv.js';
import type { RtmpFailureReason } from '../src/media/rtmp/errors.js';
import { PublishScheduler } from '../src/media/rtmp/pacer.js';
import { RtmpPublisher, type WriteMode } from '../src/media/rtmp/publisher.js';
import { type NginxRtmp, startNginxRtmp } from '../support/nginx-rtmp.js';
import { int, oneOf, procCpuSeconds, quality, sleep } from './bench-args.js';
import type { SinkReply, SinkRequest, SinkStats } from './rtmp-sink.js';

type Target = 'nginx' | 'ingest';

interface Options {
  streams: number;
  seconds: number;
  window: number;
  slices: number;
  target: Target;
  quality: Quality;
  writeMode: WriteMode;
  clock: boolean;
  clockAb?: boolean;
  sources: number;
  ramp: number;
  ffmpeg?: number;
  json?: boolean;
}

const program = new Command('bench-rtmp')
  .description('RTMP publisher load benchmark (loopback only)')
  .option('--streams <n>', 'concurrent publishers', int(1, 9000), 2000)
  .option('--seconds <s>', 'measured seconds once all have started', int(1, 600), 60)
  .option('--window <ms>', 'send window / scheduler tick', int(10, 2000), 200)
  .option('--slices <k>', 'scheduler groups served in turn (tick = window / k)', int(1, 100), 1)
  .option('--target <t>', 'sink: nginx | ingest', oneOf<Target>(['nginx', 'ingest']), 'nginx')
  .option('--quality <q>', 'rendition from media/manifest.json', quality, 'ld' as Quality)
  .option('--write-mode <m>', 'copy | cork', oneOf<WriteMode>(['copy', 'cork']), 'copy')
  .option('--no-clock', 'publish without the stream clock (SEI on key frames), for before/after figures')
  .option(
    '--clock-ab',
    'A/B in one run: odd publishers with the clock, even without; time spent serving each half per MB',
  )
  .option('--sources <k>', 'source addresses 127.0.0.2 … 127.0.0.(k+1)', int(1, 250), 16)
  .option('--ramp <n>', 'publishers started per second', int(1, 10000), 500)
  .option('--ffmpeg <n>', 'measure N ffmpeg -re processes instead of our publisher', int(1, 500))
  .option('--json', 'also print the figures as one JSON line');

const GB = 1e9;

function percentileMs(h: hdr.Histogram, p: number): number {
  return h.getValueAtPercentile(p) / 1000; // recorded in µs
}

/** Bytes a process handed to write()/send() (Linux /proc/<pid>/io wchar). */
async function procWrittenBytes(pid: number): Promise<number> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  return Number(/wchar:\s*(\d+)/.exec(io)?.[1] ?? 0);
}

interface Sink {
  readonly url: (name: string) => string;
  readonly pid: number;
  stats(): Promise<SinkStats | null>;
  close(): Promise<void>;
  describe: string;
}

async function startSink(target: Target, streams: number, dir: string): Promise<Sink> {
  if (target === 'nginx') {
    const nginx: NginxRtmp = await startNginxRtmp(dir, { workerConnections: streams + 512 });
    return {
      url: (name) => `rtmp://127.0.0.1:${nginx.port}/live/${name}`,
      pid: nginx.process.pid ?? 0,
      stats: async () => null,
      close: () => nginx.stop(),
      describe: 'nginx-rtmp (live, no recording)',
    };
  }
  const here = fileURLToPath(new URL('.', import.meta.url));
  const child: ChildProcess = fork(join(here, 'rtmp-sink.js'), ['127.0.0.1'], { stdio: 'inherit' });
  const waitFor = <T extends SinkReply['type']>(type: T) =>
    new Promise<Extract<SinkReply, { type: T }>>((resolve) => {
      const on = (m: SinkReply) => {
        if (m.type === type) {
          child.off('message', on);
          resolve(m as Extract<SinkReply, { type: T }>);
        }
      };
      child.on('message', on);
    });
  const { port } = await waitFor('listening');
  const ask = (m: SinkRequest) => child.send(m);
  return {
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    pid: child.pid ?? 0,
    stats: async () => {
      const reply = waitFor('stats');
      ask({ type: 'stats' });
      return reply;
    },
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      ask({ type: 'exit' });
      await exited;
    },
    describe: 'our ingest, discard mode, separate process',
  };
}

async function benchPublishers(o: Options, sink: Sink, flvPath: string, clkTck: number): Promise<void> {
  const media = await loadFlv(flvPath);
  const lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const tickLate = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const tickBusy = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const startLatency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const failures = new Map<RtmpFailureReason, number>();
  let measuring = false;
  const scheduler = new PublishScheduler({
    windowMs: o.window,
    slices: o.slices,
    onTick(lateMs, durationMs) {
      if (!measuring) return;
      tickLate.recordValue(Math.round(lateMs * 1000));
      tickBusy.recordValue(Math.round(durationMs * 1000));
    },
  });
  let lagSamples = 0;
  const observer = {
    onLag(ms: number) {
      if (!measuring) return;
      lag.recordValue(Math.round(ms * 1000));
      lagSamples++;
    },
    onStart(_p: RtmpPublisher, ms: number) {
      startLatency.recordValue(Math.round(ms * 1000));
    },
    onFailure(_p: RtmpPublisher, e: { reason: RtmpFailureReason }) {
      failures.set(e.reason, (failures.get(e.reason) ?? 0) + 1);
    },
  };

  const publishers: RtmpPublisher[] = [];
  // --clock-ab: serve() time per half [without clock, with clock]. Both halves are interleaved in
  // every tick, so CPU contention from other processes hits them alike.
  const serveMs = [0, 0];
  const starts: Promise<void>[] = [];
  const rampStart = performance.now();
  const perSlice = Math.max(1, Math.round(o.ramp / 10));
  for (let i = 0; i < o.streams; i++) {
    const p = new RtmpPublisher({
      url: sink.url(`bench-${i}`),
      media,
      scheduler,
      localAddress: `127.0.0.${2 + (i % o.sources)}`,
      writeMode: o.writeMode,
      clock: o.clockAb ? i % 2 === 1 : o.clock,
      observer,
      connectTimeoutMs: 15000,
      handshakeTimeoutMs: 15000,
      publishTimeoutMs: 20000,
    });
    if (o.clockAb) timeServe(p, serveMs, i % 2);
    publishers.push(p);
    starts.push(p.start().catch(() => {}));
    if ((i + 1) % perSlice === 0) await sleep(100);
  }
  await Promise.all(starts);
  const rampSeconds = (performance.now() - rampStart) / 1000;
  const live = publishers.filter((p) => p.state === 'streaming');

  const sum = (f: (s: ReturnType<RtmpPublisher['stats']>) => number) =>
    publishers.reduce((n, p) => n + f(p.stats()), 0);
  const sinkBefore = await sink.stats();
  const sinkCpuBefore = sink.pid ? await procCpuSeconds(sink.pid, clkTck) : 0;
  const bytes0 = sum((s) => s.bytesSent);
  const media0 = sum((s) => s.mediaBytesSent);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  let rssMax = process.memoryUsage.rss();
  const end = t0 + o.seconds * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = sum((s) => s.bytesSent) - bytes0;
  const mediaBytes = sum((s) => s.mediaBytesSent) - media0;
  const sinkAfter = await sink.stats();
  const sinkCpu = sink.pid ? (await procCpuSeconds(sink.pid, clkTck)) - sinkCpuBefore : 0;
  const stillLive = publishers.filter((p) => p.state === 'streaming').length;

  for (let i = 0; i < publishers.length; i += 200) {
    await Promise.all(publishers.slice(i, i + 200).map((p) => p.stop()));
  }
  scheduler.close();

  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (o.clockAb) {
    const half = (k: number) => publishers.filter((_, i) => i % 2 === k);
    const bytesOf = (k: number) => half(k).reduce((n, p) => n + p.stats().bytesSent, 0);
    const perMB = (k: number) => ((serveMs[k] as number) * 1000) / (bytesOf(k) / 1e6);
    const off = perMB(0);
    const on = perMB(1);
    console.log(
      `  clock A/B (whole run): serving without clock ${off.toFixed(1)} µs per MB sent, with clock ${on.toFixed(1)} µs per MB ` +
        `(${(((on - off) / off) * 100).toFixed(1)} %); bytes ${(bytesOf(0) / 1e9).toFixed(3)} / ${(bytesOf(1) / 1e9).toFixed(3)} GB`,
    );
  }
  const achieved = (mediaBytes * 8) / seconds;
  const target = live.length * media.bitrate;
  const fig = {
    mode: 'publisher',
    clock: o.clock,
    streams: o.streams,
    started: live.length,
    liveAtEnd: stillLive,
    rampSeconds: +rampSeconds.toFixed(1),
    failures: Object.fromEntries(failures),
    startLatencyP50Ms: +percentileMs(startLatency, 50).toFixed(1),
    startLatencyP99Ms: +percentileMs(startLatency, 99).toFixed(1),
    seconds: +seconds.toFixed(1),
    pushedGB: +(bytes / GB).toFixed(3),
    cpuUserS: +(cpu.user / 1e6).toFixed(2),
    cpuSystemS: +(cpu.system / 1e6).toFixed(2),
    cpuSecondsPerGB: +(cpuSeconds / (bytes / GB)).toFixed(2),
    lagP50Ms: +percentileMs(lag, 50).toFixed(1),
    lagP99Ms: +percentileMs(lag, 99).toFixed(1),
    lagMaxMs: +(lag.maxValue / 1000).toFixed(1),
    lagSamples,
    tickLateP99Ms: +percentileMs(tickLate, 99).toFixed(1),
    tickBusyP50Ms: +percentileMs(tickBusy, 50).toFixed(1),
    tickBusyP99Ms: +percentileMs(tickBusy, 99).toFixed(1),
    ticks: tickBusy.totalCount,
    rssMaxMB: Math.round(rssMax / 2 ** 20),
    achievedMbps: +(achieved / 1e6).toFixed(1),
    targetMbps: +(target / 1e6).toFixed(1),
    achievedPct: +((achieved / target) * 100).toFixed(1),
    sinkCpuSecondsPerGB: bytes > 0 ? +(sinkCpu / (bytes / GB)).toFixed(2) : null,
    sinkReceivedGB: sinkBefore && sinkAfter ? +((sinkAfter.bytes - sinkBefore.bytes) / GB).toFixed(3) : null,
  };
  const failText = failures.size ? [...failures].map(([r, n]) => `${r} ${n}`).join(', ') : 'none';
  console.log(
    `rtmp bench: ${o.streams} publishers of ${o.quality} (${Math.round(media.bitrate / 1000)} kbit/s) → ${sink.describe}`,
  );
  console.log(
    `  window ${o.window} ms, ${o.slices} slice(s), write mode ${o.writeMode}, clock ${o.clock ? 'on' : 'off'}, ${o.sources} source addresses`,
  );
  console.log(
    `  started ${live.length}/${o.streams} in ${fig.rampSeconds} s; failures: ${failText}; ` +
      `publish start p50 ${fig.startLatencyP50Ms} ms, p99 ${fig.startLatencyP99Ms} ms`,
  );
  console.log(
    `  measured ${fig.seconds} s: pushed ${fig.pushedGB} GB; media ${fig.achievedMbps} Mbit/s vs target ` +
      `${fig.targetMbps} Mbit/s (${fig.achievedPct} %); live at end ${stillLive}`,
  );
  console.log(
    `  publisher CPU ${cpuSeconds.toFixed(1)} s (user ${fig.cpuUserS}, sys ${fig.cpuSystemS}) → ` +
      `${fig.cpuSecondsPerGB} CPU-s per pushed GB`,
  );
  console.log(
    `  pacing lag p50 ${fig.lagP50Ms} ms, p99 ${fig.lagP99Ms} ms, max ${fig.lagMaxMs} ms (${lagSamples} samples); ` +
      `RSS max ${fig.rssMaxMB} MB`,
  );
  console.log(
    `  scheduler: ${fig.ticks} ticks, fired late p99 ${fig.tickLateP99Ms} ms; serving all streams took ` +
      `p50 ${fig.tickBusyP50Ms} ms, p99 ${fig.tickBusyP99Ms} ms per tick`,
  );
  console.log(
    `  sink CPU ${sinkCpu.toFixed(1)} s → ${fig.sinkCpuSecondsPerGB} CPU-s per ingested GB` +
      (fig.sinkReceivedGB !== null ? ` (received ${fig.sinkReceivedGB} GB)` : ''),
  );
  if (o.json) console.log(JSON.stringify(fig));
}

/** Wraps one publisher's serve() to add its wall time into `acc[k]`. */
function timeServe(p: RtmpPublisher, acc: number[], k: number): void {
  const serve = p.serve.bind(p);
  p.serve = (now: number) => {
    const t = performance.now();
    serve(now);
    acc[k] = (acc[k] as number) + performance.now() - t;
  };
}

async function benchFfmpeg(
  o: Options,
  n: number,
  sink: Sink,
  flvPath: string,
  clkTck: number,
): Promise<void> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const args = ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', flvPath];
    args.push('-c', 'copy', '-f', 'flv', sink.url(`ffmpeg-${i}`));
    children.push(spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'ignore'] }));
    if ((i + 1) % 20 === 0) await sleep(100);
  }
  await sleep(3000); // past start-up (probing, connect)
  const pids = children.map((c) => c.pid ?? 0).filter((p) => p > 0);
  const cpuAt = async () =>
    (await Promise.all(pids.map((p) => procCpuSeconds(p, clkTck).catch(() => 0)))).reduce((a, b) => a + b, 0);
  const wroteAt = async () =>
    (await Promise.all(pids.map((p) => procWrittenBytes(p).catch(() => 0)))).reduce((a, b) => a + b, 0);
  // Bytes pushed: counted by our ingest when it is the sink (exact); else write() bytes from /proc,
  // and when ffmpeg's send() escapes /proc's wchar, the -re pace of the rendition (an estimate).
  const sink0 = await sink.stats();
  const cpu0 = await cpuAt();
  const w0 = sink0 ? sink0.bytes : await wroteAt();
  const t0 = performance.now();
  await sleep(o.seconds * 1000);
  const cpu = (await cpuAt()) - cpu0;
  const sink1 = await sink.stats();
  const seconds = (performance.now() - t0) / 1000;
  let wrote = (sink1 ? sink1.bytes : await wroteAt()) - w0;
  const estimated = wrote <= 0;
  if (estimated) wrote = (n * loadCatalogue().rendition(o.quality).bitrate * seconds) / 8;
  const alive = children.filter((c) => c.exitCode === null).length;
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  const fig = {
    mode: 'ffmpeg',
    processes: n,
    aliveAtEnd: alive,
    seconds: +seconds.toFixed(1),
    pushedGB: +(wrote / GB).toFixed(3),
    cpuSeconds: +cpu.toFixed(2),
    cpuSecondsPerGB: wrote > 0 ? +(cpu / (wrote / GB)).toFixed(1) : null,
    achievedMbps: +((wrote * 8) / seconds / 1e6).toFixed(1),
    bytesEstimated: estimated,
  };
  console.log(`ffmpeg bench: ${n} × ffmpeg -re -stream_loop -1 -c copy (${o.quality}) → ${sink.describe}`);
  console.log(
    `  measured ${fig.seconds} s: ${alive}/${n} alive, pushed ${fig.pushedGB} GB${estimated ? ' (estimated from the rendition bitrate)' : ''} (${fig.achievedMbps} Mbit/s), ` +
      `CPU ${fig.cpuSeconds} s → ${fig.cpuSecondsPerGB} CPU-s per pushed GB`,
  );
  if (o.json) console.log(JSON.stringify(fig));
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const flvPath = loadCatalogue().rendition(o.quality).flvPath;
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-bench-rtmp-'));
  const sink = await startSink(o.target, o.ffmpeg ?? o.streams, dir);
  try {
    if (o.ffmpeg) await benchFfmpeg(o, o.ffmpeg, sink, flvPath, clkTck);
    else await benchPublishers(o, sink, flvPath, clkTck);
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
