// Viewer benchmark: N publishers push a rendition to a server on loopback (nginx-rtmp with HLS, or
// our reference ingest with HTTP-FLV), then M players in a separate process pull the streams back
// (RTMP play, HLS, HTTP-FLV) and measure time to first frame, stalls and end-to-end delay. Prints
// the percentiles per protocol and what the players cost (their process runs nothing else).
//
//   npx tsc -p . && node dist/bench/viewers.js --publishers 200 --rtmp 500 --hls 500 --seconds 60
import { execFileSync, fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadCatalogue, type Quality } from '../src/media/catalogue.js';
import { loadFlv } from '../src/media/flv.js';
import { HttpFlvServer } from '../src/media/rtmp/http-flv-server.js';
import { RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';
import { PublishScheduler } from '../src/media/rtmp/pacer.js';
import { RtmpPublisher } from '../src/media/rtmp/publisher.js';
import type { ViewerProtocol } from '../src/viewer/index.js';
import { waitForHttp200 } from '../support/http-ready.js';
import { startNginxRtmp } from '../support/nginx-rtmp.js';
import { int, oneOf, procCpuSeconds, quality, sleep } from './bench-args.js';
import type { ChildResult, ChildStart } from './viewers-child.js';

type Target = 'nginx' | 'ingest';

interface Options {
  publishers: number;
  rtmp: number;
  hls: number;
  flv: number;
  seconds: number;
  target: Target;
  quality: Quality;
  ramp: number;
  buffer: number;
  fragment: number;
  liveEdge: number;
  json?: boolean;
}

const program = new Command('bench-viewers')
  .description('publishers → server → players pulling the streams back (loopback only)')
  .option('--publishers <n>', 'streams pushed', int(1, 5000), 200)
  .option('--rtmp <n>', 'RTMP play players', int(0, 10000), 500)
  .option('--hls <n>', 'HLS players (nginx only)', int(0, 10000), 500)
  .option('--flv <n>', 'HTTP-FLV players (ingest only)', int(0, 10000), 0)
  .option('--seconds <s>', 'measured seconds once every player started', int(1, 600), 60)
  .option(
    '--target <t>',
    'nginx (RTMP + HLS) | ingest (RTMP + HTTP-FLV)',
    oneOf<Target>(['nginx', 'ingest']),
    'nginx',
  )
  .option('--quality <q>', 'rendition from media/manifest.json', quality, 'ld' as Quality)
  .option('--ramp <n>', 'players started per second', int(1, 10000), 200)
  .option('--buffer <ms>', 'player playout buffer', int(0, 30000), 1000)
  .option('--fragment <s>', 'nginx hls_fragment, seconds', int(1, 10), 1)
  .option('--live-edge <n>', 'HLS: segments behind the live edge to start at', int(1, 10), 3)
  .option('--json', 'also print the figures as one JSON line');

interface Server {
  rtmpUrl(name: string): string;
  hlsUrl(name: string): string | null;
  flvUrl(name: string): string | null;
  pid: number;
  close(): Promise<void>;
  describe: string;
}

async function startServer(o: Options, dir: string): Promise<Server> {
  if (o.target === 'nginx') {
    const nginx = await startNginxRtmp(dir, {
      workerConnections: o.publishers + o.rtmp + o.hls + 512,
      ...(o.hls > 0
        ? { hls: { fragmentSeconds: o.fragment, playlistSeconds: Math.max(6, o.fragment * 6) } }
        : {}),
    });
    return {
      rtmpUrl: (n) => `rtmp://127.0.0.1:${nginx.port}/live/${n}`,
      hlsUrl: (n) => (nginx.httpPort ? `http://127.0.0.1:${nginx.httpPort}/hls/${n}.m3u8` : null),
      flvUrl: () => null,
      pid: nginx.process.pid ?? 0,
      close: () => nginx.stop(),
      describe: `nginx-rtmp (live, HLS ${o.fragment} s fragments served by the same nginx)`,
    };
  }
  const ingest = new RtmpIngestServer({ keepEnded: 0 });
  const { port } = await ingest.listen();
  const flv = new HttpFlvServer(ingest.playback as NonNullable<typeof ingest.playback>);
  const { port: httpPort } = await flv.listen();
  return {
    rtmpUrl: (n) => `rtmp://127.0.0.1:${port}/live/${n}`,
    hlsUrl: () => null,
    flvUrl: (n) => `http://127.0.0.1:${httpPort}/live/${n}.flv`,
    pid: 0,
    close: async () => {
      await flv.close();
      await ingest.close();
    },
    describe: 'reference ingest (RTMP play + HTTP-FLV, last-GOP cache) in the publishers’ process',
  };
}

function usage(message: string): never {
  console.error(`bench-viewers: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  if (o.target === 'ingest' && o.hls > 0)
    usage('--hls needs --target nginx (the ingest serves RTMP and HTTP-FLV)');
  if (o.target === 'nginx' && o.flv > 0)
    usage('--flv needs --target ingest (Debian nginx-rtmp has no HTTP-FLV)');
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-bench-viewers-'));
  const server = await startServer(o, dir);
  const media = await loadFlv(loadCatalogue().rendition(o.quality).flvPath);
  const scheduler = new PublishScheduler({ windowMs: 200 });
  const publishers: RtmpPublisher[] = [];
  try {
    const names = Array.from({ length: o.publishers }, (_, i) => `cam-${i}`);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < names.length; i++) {
      const p = new RtmpPublisher({
        url: server.rtmpUrl(names[i] as string),
        media,
        scheduler,
        localAddress: `127.0.0.${2 + (i % 16)}`,
        connectTimeoutMs: 15_000,
        publishTimeoutMs: 20_000,
      });
      publishers.push(p);
      starts.push(p.start().catch(() => {}));
      if ((i + 1) % 20 === 0) await sleep(100);
    }
    await Promise.all(starts);
    const live = publishers.filter((p) => p.state === 'streaming').length;
    if (o.hls > 0) {
      for (const n of names) await waitForHttp200(server.hlsUrl(n) as string, 60_000);
    }

    // One list per protocol, interleaved so each protocol ramps over the whole start-up.
    const lists = (
      [
        ['rtmp', o.rtmp, server.rtmpUrl],
        ['hls', o.hls, server.hlsUrl],
        ['http-flv', o.flv, server.flvUrl],
      ] as const
    ).map(([protocol, count, url]) =>
      Array.from({ length: count }, (_, i) => ({
        protocol: protocol as ViewerProtocol,
        url: url(names[i % names.length] as string) as string,
      })),
    );
    const players: ChildStart['players'] = [];
    for (let i = 0; players.length < o.rtmp + o.hls + o.flv; i++) {
      for (const l of lists) if (i < l.length) players.push(l[i] as ChildStart['players'][number]);
    }

    const here = fileURLToPath(new URL('.', import.meta.url));
    const child = fork(join(here, 'viewers-child.js'), [], { stdio: 'inherit' });
    const resultP = new Promise<ChildResult>((resolve, reject) => {
      child.once('message', (m: ChildResult) => resolve(m));
      child.once('exit', (code) => reject(new Error(`player process exited with ${code}`)));
    });
    const serverCpu0 = server.pid ? await procCpuSeconds(server.pid, clkTck) : 0;
    const pubCpu0 = process.cpuUsage();
    const t0 = performance.now();
    child.send({
      type: 'start',
      players,
      rampPerSecond: o.ramp,
      seconds: o.seconds,
      bufferMs: o.buffer,
      liveEdgeSegments: o.liveEdge,
    } satisfies ChildStart);
    const r = await resultP;
    const wall = (performance.now() - t0) / 1000;
    const pubCpu = process.cpuUsage(pubCpu0);
    const serverCpu = server.pid ? (await procCpuSeconds(server.pid, clkTck)) - serverCpu0 : 0;

    const cpu = r.cpuUserS + r.cpuSystemS;
    const totalPlayers = players.length;
    const coreShare = cpu / r.holdSeconds; // cores the player process used while holding
    const fig = {
      publishers: o.publishers,
      publishing: live,
      liveAtEnd: publishers.filter((p) => p.state === 'streaming').length,
      players: totalPlayers,
      quality: o.quality,
      target: o.target,
      ...r,
      playerCores: +coreShare.toFixed(3),
      playersPerCore: coreShare > 0 ? Math.round(totalPlayers / coreShare) : null,
      receivedMbps: +((r.holdBytes * 8) / r.holdSeconds / 1e6).toFixed(1),
      playerCpuSecondsPerGB: r.holdBytes > 0 ? +(cpu / (r.holdBytes / 1e9)).toFixed(2) : null,
      publisherCpuS: +((pubCpu.user + pubCpu.system) / 1e6).toFixed(1),
      serverCpuS: +serverCpu.toFixed(1),
      wallSeconds: +wall.toFixed(1),
    };
    console.log(
      `viewers bench: ${o.publishers} publishers of ${o.quality} (${Math.round(media.bitrate / 1000)} kbit/s) → ${server.describe}`,
    );
    console.log(
      `  ${live}/${o.publishers} publishing (${fig.liveAtEnd} at the end); ${totalPlayers} players in one process ` +
        `(rtmp ${o.rtmp}, hls ${o.hls}, http-flv ${o.flv}), started in ${r.rampSeconds} s, then ${r.holdSeconds} s measured; ` +
        `buffer ${o.buffer} ms`,
    );
    const v = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : x);
    for (const [p, f] of Object.entries(r.protocols)) {
      const fails =
        Object.entries(f.failures)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none';
      console.log(`  ${p}: ${f.playingAtEnd}/${f.players} playing at the end; failures: ${fails}`);
      console.log(
        `    ttff   p50 ${f.ttffMs[0]} ms, p95 ${f.ttffMs[1]}, p99 ${f.ttffMs[2]}, max ${f.ttffMs[3]}`,
      );
      console.log(
        `    delay  p50 ${f.delayMs[0]} ms, p95 ${f.delayMs[1]}, p99 ${f.delayMs[2]}, max ${f.delayMs[3]} (${f.delaySamples} samples)`,
      );
      console.log(
        `    stalls ${f.stalls} in ${f.playersWithStalls} players (${f.holdStalls} in ${f.holdPlayersWithStalls} during the measured ${r.holdSeconds} s); duration p50 ${v(f.stallMs[0] as number)} ms, p99 ${v(f.stallMs[1] as number)}, max ${v(f.stallMs[2] as number)}`,
      );
      console.log(
        `    received ${(f.bytes / 1e9).toFixed(3)} GB; mean ${Math.round(f.meanBitrate / 1000)} kbit/s per player`,
      );
    }
    console.log(
      `  player process: CPU ${cpu.toFixed(1)} s (user ${r.cpuUserS}, sys ${r.cpuSystemS}) in ${r.holdSeconds} s = ` +
        `${fig.playerCores} cores → ${fig.playersPerCore} players per core; ${fig.receivedMbps} Mbit/s received, ` +
        `${fig.playerCpuSecondsPerGB} CPU-s per received GB; event-loop delay p99 ${r.eventLoopDelayP99Ms} ms; RSS ${r.rssMB} MB`,
    );
    console.log(
      `  publishers' process CPU ${fig.publisherCpuS} s, server CPU ${fig.serverCpuS} s over ${fig.wallSeconds} s ` +
        `(load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]})`,
    );
    if (o.json) console.log(JSON.stringify(fig));
  } finally {
    for (let i = 0; i < publishers.length; i += 200) {
      await Promise.all(publishers.slice(i, i + 200).map((p) => p.stop()));
    }
    scheduler.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
