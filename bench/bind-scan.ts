// Kernel time of a connection from a given source address as that address's ports fill up: a
// socket with a source address binds before it connects, and bind searches the address's free
// ports (odd ones first). This is why the farm spreads at most 5,000 devices over one loopback
// address (src/agent/choose.ts). One server child holds the accepted sockets (the open-files
// limit is per process). Loopback only, bounded by --sockets.
//
//   npx tsc -p . && node dist/bench/bind-scan.js [--source 127.0.0.9] [--sockets 19000]
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { int } from './bench-args.js';

if (process.argv[2] === 'server') {
  const held: Socket[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    held.push(s);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.(typeof address === 'object' && address ? address.port : 0);
  });
} else {
  const opts = new Command('bench-bind-scan')
    .option('--source <addr>', 'loopback source address to bind', '127.0.0.9')
    .option('--sockets <n>', 'connections to open (one process holds < 20,000)', int(1000, 19_000), 19_000)
    .parse()
    .opts<{ source: string; sockets: number }>();
  if (!opts.source.startsWith('127.')) throw new Error('--source must be a loopback address (127.0.0.0/8)');
  const server = fork(fileURLToPath(import.meta.url), ['server']);
  const port = await new Promise<number>((resolve) => server.once('message', (m) => resolve(Number(m))));
  const sockets: Socket[] = [];
  console.log('sockets on the address   wall ms per 1,000   kernel ms per connect');
  let wall = performance.now();
  let cpu = process.cpuUsage();
  for (let i = 1; i <= opts.sockets; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', localAddress: opts.source }, resolve);
      s.on('error', reject);
      sockets.push(s);
    });
    if (i % 1000 === 0) {
      const used = process.cpuUsage(cpu);
      console.log(
        `${String(i).padStart(22)}   ${(performance.now() - wall).toFixed(0).padStart(17)}   ${(used.system / 1000 / 1000).toFixed(3).padStart(21)}`,
      );
      wall = performance.now();
      cpu = process.cpuUsage();
    }
  }
  for (const s of sockets) s.destroy();
  server.kill();
}
