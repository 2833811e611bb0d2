#!/usr/bin/env node
/**
 * Runs the reference IVC alone, e.g. for a vendor pointing a real camera at it:
 *   IVC_PASSWORD=secret node dist/src/ivc/main.js --host 0.0.0.0 --port 8080
 * The password comes from an environment variable, never the command line (visible in `ps`).
 */
import { parseArgs } from 'node:util';
import type { IvcOptions } from './options.js';
import { startIvc } from './server.js';

const usage = `usage: node dist/src/ivc/main.js [options]
  --host ADDR               address to bind (default 127.0.0.1)
  --port N                  port (default 8080; 0 = any free port)
  --password-env NAME       shared device password from this env variable (default IVC_PASSWORD, if set)
  --login-code-pattern RE   login codes must match this regex
  --registry FILE           JSON/YAML list of {login_code, password, disabled?}
  --max-devices N           refuse logins with 503 past N online devices
  --login-delay-ms N        delay every login answer by N ms
  --rpc-timeout-ms N        platform RPC timeout (default 20000)
  --keepalive-ms N          expected keepalive period (default 10000)
  --rtmp-port N             run the RTMP ingest on this port (0 = any free port); publish orders point at it
  --rtmp-url-base URL       base of RTMP publish URLs ordered by the platform (default: the ingest's)
  --firmware-model NAME     firmware version answered by GetFirmware (default ivc-fw-1.0.0)
  --firmware-size BYTES     size of the generated firmware blob (default 1048576)
  --public-host NAME        host name put in URLs handed to devices (default: the bound address)`;

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'password-env': { type: 'string' },
      'login-code-pattern': { type: 'string' },
      registry: { type: 'string' },
      'max-devices': { type: 'string' },
      'login-delay-ms': { type: 'string' },
      'rpc-timeout-ms': { type: 'string' },
      'keepalive-ms': { type: 'string' },
      'rtmp-url-base': { type: 'string' },
      'rtmp-port': { type: 'string' },
      'firmware-model': { type: 'string' },
      'firmware-size': { type: 'string' },
      'public-host': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const passwordEnv = values['password-env'] ?? 'IVC_PASSWORD';
  const password = process.env[passwordEnv];
  if (values['password-env'] && password === undefined)
    throw new Error(`environment variable ${passwordEnv} is not set`);
  const options: IvcOptions = {
    host: values.host ?? '127.0.0.1',
    port: integer('port', values.port) ?? 8080,
    auth: {
      password,
      loginCodePattern: values['login-code-pattern'],
      registryFile: values.registry,
    },
    maxDevices: integer('max-devices', values['max-devices']),
    loginDelayMs: integer('login-delay-ms', values['login-delay-ms']),
    rpcTimeoutMs: integer('rpc-timeout-ms', values['rpc-timeout-ms']),
    keepaliveMs: integer('keepalive-ms', values['keepalive-ms']),
    rtmpUrlBase: values['rtmp-url-base'],
    rtmpIngest:
      values['rtmp-port'] === undefined ? false : { port: integer('rtmp-port', values['rtmp-port']) },
    firmware: [
      {
        firmware_model: values['firmware-model'] ?? 'ivc-fw-1.0.0',
        size: integer('firmware-size', values['firmware-size']),
      },
    ],
    publicHost: values['public-host'],
  };
  const ivc = await startIvc(options);
  const checks = [
    password !== undefined ? 'shared password' : null,
    options.auth?.loginCodePattern ? 'login-code pattern' : null,
    options.auth?.registryFile ? `registry ${options.auth.registryFile}` : null,
  ].filter(Boolean);
  console.log(`IVC devices:   ${ivc.url}?login_code=…&login_passwd=…&hardware_model=…&firmware_model=…`);
  console.log(`IVC admin API: ${ivc.httpUrl}/api/devices   monitor page: ${ivc.httpUrl}/?login_code=<code>`);
  if (ivc.rtmpUrl)
    console.log(`RTMP ingest:   ${ivc.rtmpUrl}/<stream>   streams: ${ivc.httpUrl}/api/streams`);
  console.log(
    `logins checked by: ${checks.length > 0 ? checks.join(', ') : 'nothing (every login accepted)'}`,
  );
  const stop = () => {
    void ivc.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`ivc: ${error.message}`);
  process.exit(1);
});
