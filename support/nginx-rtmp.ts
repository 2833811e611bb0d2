// Helpers for the RTMP/FLV tests and the RTMP bench: a short H.264+AAC FLV made with the system ffmpeg, a free
// loopback port, and an nginx-rtmp server run as a child process from a temp config.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export { freePort } from './free-port.js';

export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
export const NGINX_BIN = '/usr/sbin/nginx';

export function nginxAvailable(): boolean {
  return existsSync(NGINX_BIN) && existsSync(NGINX_RTMP_MODULE);
}

/** Encodes a test-pattern FLV: H.264 (GOP 1 s, 25 fps) + AAC, about `kbps` video bitrate. */
export async function makeFlv(path: string, seconds: number, kbps = 200): Promise<string> {
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
    ...['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`],
    ...[
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '48k',
      '-f',
      'flv',
      path,
    ],
  ]);
  return path;
}

/** True when a TCP connection to host:port succeeds. */
function listens(port: number, host: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = tcpConnect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** This process's hard open-files limit (nginx, its child, inherits it), from /proc. */
async function hardOpenFilesLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = /^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1];
  return hard ? Number(hard) : Number.POSITIVE_INFINITY;
}

/** Direct children of a process (Linux /proc/<pid>/task/<tid>/children). */
export async function childPids(pid: number): Promise<number[]> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(
    tids.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((l) => l.split(' ').filter(Boolean).map(Number));
}

async function waitForPort(port: number, host: string, timeoutMs: number): Promise<void> {
  await eventually(`something to listen on ${host}:${port}`, () => listens(port, host), timeoutMs, 50);
}

export interface NginxRtmp {
  readonly port: number;
  readonly dir: string;
  /** Where `record all` writes `<stream>.flv` (when recording). */
  readonly recordDir: string;
  /** The nginx process (with `workerProcesses` > 1 the master; its workers are `pids()`). */
  readonly process: ChildProcess;
  /** Every process of this nginx: the one process, or the master and its workers. */
  pids(): Promise<number[]>;
  /** With `hls`: the HTTP port serving `/hls/<stream>.m3u8` and its segments. */
  readonly httpPort: number | null;
  stop(): Promise<void>;
  errorLog(): Promise<string>;
}

export interface NginxOptions {
  record?: boolean;
  host?: string;
  workerConnections?: number;
  /**
   * Worker processes (default 1: one process, no master). More than one runs nginx's master too;
   * a publisher lands on whichever worker accepts it (`live on` needs no sharing to publish).
   */
  workerProcesses?: number;
  /** Also write HLS (nginx-rtmp `hls on`) and serve it over HTTP on a second port. */
  hls?: { fragmentSeconds?: number; playlistSeconds?: number };
}

/** Starts nginx with the RTMP module (application `live`) in `dir`, on a free port. */
export async function startNginxRtmp(dir: string, options: NginxOptions = {}): Promise<NginxRtmp> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort(host);
  const recordDir = join(dir, 'rec');
  await mkdir(recordDir, { recursive: true });
  const conns = options.workerConnections ?? 1024;
  const workers = options.workerProcesses ?? 1;
  // One file per connection, a second one when it records or writes HLS; never above the hard
  // limit, which an unprivileged worker cannot raise (setrlimit would fail and keep the default).
  const files = Math.min(conns * (options.record || options.hls ? 2 : 1) + 100, await hardOpenFilesLimit());
  const record = options.record ? `record all; record_path ${recordDir}; record_unique off;` : 'record off;';
  const httpPort = options.hls ? await freePort(host) : null;
  const hlsDir = join(dir, 'hls');
  if (options.hls) await mkdir(hlsDir, { recursive: true });
  const hls = options.hls
    ? `hls on; hls_path ${hlsDir}; hls_fragment ${options.hls.fragmentSeconds ?? 1}s; hls_playlist_length ${options.hls.playlistSeconds ?? 6}s;`
    : '';
  const http = options.hls
    ? `http {
  access_log off;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen ${host}:${httpPort};
    location /hls/ { root ${dir}; add_header Cache-Control no-cache; }
  }
}
`
    : '';
  const conf = `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process ${workers > 1 ? 'on' : 'off'};
worker_processes ${workers};
worker_rlimit_nofile ${files};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections ${conns}; }
rtmp {
  server {
    listen ${host}:${port};
    chunk_size 4096;
    application live { live on; ${record} ${hls} }
  }
}
${http}`;
  const confPath = join(dir, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = spawn(NGINX_BIN, ['-c', confPath, '-p', dir, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(port, host, 5000),
      exited.then(() => {
        throw new Error(`nginx exited: ${stderr.trim()}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    port,
    dir,
    recordDir,
    process: child,
    httpPort,
    pids: async () => {
      const master = child.pid;
      if (master === undefined) return [];
      return workers > 1 ? [master, ...(await childPids(master))] : [master];
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT'); // graceful: lets record files be finalised
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
  };
}

export interface ProbedPacket {
  readonly codecType: string;
  readonly dts: number;
}

/** ffprobe: format duration/bitrate and every packet's type and DTS (seconds). */
export async function probe(
  path: string,
): Promise<{ duration: number; bitRate: number; packets: ProbedPacket[] }> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'format=duration,bit_rate:packet=codec_type,dts_time',
      '-of',
      'json',
      path,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const j = JSON.parse(stdout) as {
    format: { duration: string; bit_rate: string };
    packets: { codec_type: string; dts_time?: string }[];
  };
  return {
    duration: Number(j.format.duration),
    bitRate: Number(j.format.bit_rate),
    packets: j.packets.map((p) => ({ codecType: p.codec_type, dts: Number(p.dts_time ?? Number.NaN) })),
  };
}
