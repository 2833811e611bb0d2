import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startCli } from './cli-process.js';
import { runCli } from './cli-support.js';

// The command line: `ivtfarm ivc --strict` and `ivtfarm device --profile vendor --trait …`.

type Device = {
  login_code: string;
  violations: Record<string, number>;
  vendor_quirks: Record<string, number>;
};

test("ivtfarm ivc --strict counts a vendor fleet's login pairs as violations", async () => {
  const ivc = startCli(['ivc', '--port', '0', '--strict']);
  let api = '';
  // The last line of its banner: the lines before it have been written too.
  await eventually('the platform to listen', () => /vendor quirks:/.test(ivc.output()));
  api = /admin API:\s+(\S+)/.exec(ivc.output())?.[1] ?? '';
  assert.match(ivc.output(), /vendor quirks:\s+counted as violations \(--strict\)/);
  const ws = /devices connect to: (\S+)/.exec(ivc.output())![1]!;
  const fleet = startCli(
    [
      'device',
      '--url',
      ws,
      '--count',
      '2',
      '--login-code',
      'cli-vendor-{index}',
      '--profile',
      'vendor',
      '--no-media',
      '--trait',
      'malformedClose=off',
    ],
    { IVT_PASSWORD: 'pw' },
  );
  let devices: Device[] = [];
  await eventually(
    'two devices with their login pair',
    async () => {
      devices = ((await (await fetch(api)).json()) as { devices: Device[] }).devices;
      return devices.length === 2 && devices.every((d) => d.violations.keepalive_login_pair === 1);
    },
    20_000,
  );
  for (const d of devices) assert.deepEqual(d.vendor_quirks, {});
  fleet.child.kill('SIGINT');
  await fleet.exited;
  const statsUrl = api.replace(/devices$/, 'stats');
  await eventually(
    'both closed',
    async () => ((await (await fetch(statsUrl)).json()) as { online: number }).online === 0,
  );
  // malformedClose=off: the fleet closed with a proper close frame, no protocol error.
  const stats = (await (await fetch(statsUrl)).json()) as { disconnects: Record<string, number> };
  assert.equal(stats.disconnects.protocol_error, undefined);
  ivc.child.kill('SIGTERM');
  await ivc.exited;
});

test('a misspelt --trait or --record-url-scheme is a usage error (exit 2)', async () => {
  const trait = await runCli(['device', '--url', 'ws://127.0.0.1:1/ivc', '--trait', 'malformedClos=off'], {
    env: { IVT_PASSWORD: 'x' },
  });
  assert.equal(trait.code, 2);
  assert.match(trait.stderr, /unknown trait "malformedClos"/);
  const onOff = await runCli(['device', '--url', 'ws://127.0.0.1:1/ivc', '--trait', 'malformedClose=maybe'], {
    env: { IVT_PASSWORD: 'x' },
  });
  assert.equal(onOff.code, 2);
  assert.match(onOff.stderr, /needs =on or =off/);
  const scheme = await runCli(['ivc', '--record-url-scheme', 'ftp']);
  assert.equal(scheme.code, 2);
  assert.match(scheme.stderr, /ftp/);
});
