// Runs Debian's nginx-rtmp on loopback (application `live`, HLS with 1 s fragments served over
// HTTP by the same nginx) until Ctrl-C, for scenarios that push to and pull from a real server
// (scenarios/viewers-nginx.yaml). Prints the ports as the environment variables the scenario reads
// and nginx's pid (for a SIGSTOP/SIGCONT by hand).
//
//   node dist/bench/nginx-serve.js          # then, in another shell, with the printed variables:
//   NGINX_RTMP_PORT=… NGINX_HLS_PORT=… node dist/src/cli.js run scenarios/viewers-nginx.yaml
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxAvailable, startNginxRtmp } from '../support/nginx-rtmp.js';

if (!nginxAvailable()) {
  console.error('nginx with libnginx-mod-rtmp is not installed');
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-nginx-serve-'));
const nginx = await startNginxRtmp(dir, {
  hls: { fragmentSeconds: 1, playlistSeconds: 6 },
  workerConnections: 8192,
});
console.log(`export NGINX_RTMP_PORT=${nginx.port} NGINX_HLS_PORT=${nginx.httpPort}`);
console.log(`nginx pid ${nginx.process.pid}; Ctrl-C stops it`);
const stop = async () => {
  await nginx.stop();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
