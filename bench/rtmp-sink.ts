// Discard-mode RTMP ingest run as a child process of bench/rtmp.ts, so its CPU is not counted as
// the publisher's. Talks over the fork() IPC channel: 'listening' → parent; 'stats' ↔; 'exit'.
import { RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';

export interface SinkStats {
  type: 'stats';
  live: number;
  ended: number;
  bytes: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
}

export type SinkRequest = { type: 'stats' } | { type: 'exit' };
export type SinkReply = { type: 'listening'; port: number } | SinkStats;

const send = (m: SinkReply) => process.send?.(m);

const server = new RtmpIngestServer({
  discard: true,
  host: process.argv[2] ?? '127.0.0.1',
  keepEnded: 100000,
});
const { port } = await server.listen();
send({ type: 'listening', port });

process.on('message', (m: SinkRequest) => {
  if (m.type === 'stats') {
    const all = server.stats();
    const cpu = process.cpuUsage();
    send({
      type: 'stats',
      live: server.liveCount,
      ended: all.length - server.liveCount,
      bytes: all.reduce((n, s) => n + s.bytes, 0),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
    });
  } else if (m.type === 'exit') {
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
