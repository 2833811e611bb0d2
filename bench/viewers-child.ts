// The player process of bench/viewers.ts: starts the players it is given (ramped), lets them play,
// and reports per protocol what they measured (from the metrics registry, as a farm worker would
// record it) and what they cost (CPU of this process, which runs nothing but players).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HistogramHandle } from '../src/metrics/registry.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import {
  createViewer,
  type Viewer,
  type ViewerProtocol,
  viewerMetricsObserver,
} from '../src/viewer/index.js';

export interface ChildStart {
  type: 'start';
  players: { protocol: ViewerProtocol; url: string }[];
  rampPerSecond: number;
  seconds: number;
  bufferMs: number;
  liveEdgeSegments: number;
}

export interface ProtocolFigures {
  players: number;
  playingAtEnd: number;
  failures: Record<string, number>;
  ttffMs: number[]; // p50, p95, p99, max
  delayMs: number[];
  delaySamples: number;
  stalls: number;
  playersWithStalls: number;
  /** Stalls while every player was running (after the ramp): the steady state. */
  holdStalls: number;
  holdPlayersWithStalls: number;
  stallMs: number[]; // p50, p99, max
  bytes: number;
  meanBitrate: number;
}

export interface ChildResult {
  type: 'result';
  rampSeconds: number;
  holdSeconds: number;
  cpuUserS: number;
  cpuSystemS: number;
  holdBytes: number;
  eventLoopDelayP99Ms: number;
  rssMB: number;
  protocols: Partial<Record<ViewerProtocol, ProtocolFigures>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ms(h: HistogramHandle, ps: number[]): number[] {
  const c = h.counts;
  if (c.count === 0) return ps.map(() => Number.NaN);
  return [...c.percentiles(ps.filter((p) => p < 100)).map((v) => v / h.scale), c.max / h.scale].map((v) =>
    Math.round(v),
  );
}

async function run(job: ChildStart): Promise<ChildResult> {
  const registry = new MetricsRegistry({ source: 'bench' });
  const failures = new Map<ViewerProtocol, Map<string, number>>();
  const observers = new Map(
    (['rtmp', 'http-flv', 'hls'] as const).map((p) => {
      const base = viewerMetricsObserver(registry, p);
      const fails = new Map<string, number>();
      failures.set(p, fails);
      return [
        p,
        {
          ...base,
          onFailure(e: Parameters<NonNullable<typeof base.onFailure>>[0]) {
            base.onFailure?.(e);
            fails.set(e.reason, (fails.get(e.reason) ?? 0) + 1);
          },
        },
      ];
    }),
  );
  const viewers: Viewer[] = [];
  const starts: Promise<void>[] = [];
  const t0 = performance.now();
  const perTick = Math.max(1, Math.round(job.rampPerSecond / 10));
  for (let i = 0; i < job.players.length; i++) {
    const p = job.players[i] as ChildStart['players'][number];
    const v = createViewer({
      url: p.url,
      protocol: p.protocol,
      bufferMs: job.bufferMs,
      liveEdgeSegments: job.liveEdgeSegments,
      firstFrameTimeoutMs: 30_000,
      observer: observers.get(p.protocol),
    });
    viewers.push(v);
    starts.push(v.start().catch(() => {}));
    if ((i + 1) % perTick === 0) await sleep(100);
  }
  await Promise.all(starts);
  const rampSeconds = (performance.now() - t0) / 1000;

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const stalls0 = viewers.map((v) => v.stats().stalls);
  const bytes0 = viewers.reduce((n, v) => n + v.stats().bytes, 0);
  const cpu0 = process.cpuUsage();
  const h0 = performance.now();
  let rss = process.memoryUsage.rss();
  const end = h0 + job.seconds * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    rss = Math.max(rss, process.memoryUsage.rss());
  }
  const cpu = process.cpuUsage(cpu0);
  const holdSeconds = (performance.now() - h0) / 1000;
  const holdBytes = viewers.reduce((n, v) => n + v.stats().bytes, 0) - bytes0;
  loop.disable();
  const stats = viewers.map((v) => v.stats());
  await Promise.all(viewers.map((v) => v.stop()));

  const protocols: ChildResult['protocols'] = {};
  for (const p of ['rtmp', 'http-flv', 'hls'] as const) {
    const mine = stats.filter((s) => s.protocol === p);
    const holdStalls = stats.map((s, i) => (s.protocol === p ? s.stalls - (stalls0[i] as number) : 0));
    if (mine.length === 0) continue;
    const kind = { kind: p };
    const playing = mine.filter((s) => s.state === 'playing' && s.ttffMs !== null);
    protocols[p] = {
      players: mine.length,
      playingAtEnd: playing.length,
      failures: Object.fromEntries(failures.get(p) ?? []),
      ttffMs: ms(registry.histogram('viewer_ttff', kind), [50, 95, 99, 100]),
      delayMs: ms(registry.histogram('viewer_delay', kind), [50, 95, 99, 100]),
      delaySamples: registry.histogram('viewer_delay', kind).counts.count,
      stalls: registry.counter('viewer_stalls', kind).delta,
      playersWithStalls: mine.filter((s) => s.stalls > 0).length,
      holdStalls: holdStalls.reduce((a, b) => a + b, 0),
      holdPlayersWithStalls: holdStalls.filter((n) => n > 0).length,
      stallMs: ms(registry.histogram('viewer_stall_duration', kind), [50, 99, 100]),
      bytes: registry.counter('viewer_bytes', kind).delta,
      meanBitrate: playing.length
        ? Math.round(playing.reduce((n, s) => n + s.bitrate, 0) / playing.length)
        : 0,
    };
  }
  return {
    type: 'result',
    rampSeconds: +rampSeconds.toFixed(1),
    holdSeconds: +holdSeconds.toFixed(1),
    cpuUserS: +(cpu.user / 1e6).toFixed(2),
    cpuSystemS: +(cpu.system / 1e6).toFixed(2),
    holdBytes,
    eventLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(1),
    rssMB: Math.round(rss / 2 ** 20),
    protocols,
  };
}

process.once('message', (m: ChildStart) => {
  void run(m).then((r) => {
    process.send?.(r, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
