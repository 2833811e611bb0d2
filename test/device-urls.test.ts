// `ivtfarm device` against a platform with several access gateways, as a user runs it: the URLs
// given by a repeated `--url` and a comma-separated list, the devices spread over them by the
// same rule as a run's `target:` list (each on the URL `targetUrlFor` picks for its login code),
// every device online where the platform's admin API says it is, and the banner's per-URL counts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetUrlFor } from '../src/core/target-choice.js';
import { eventually } from '../support/eventually.js';
import { freePort } from './agents-support.js';
import { startCli } from './cli-process.js';
import { runCli } from './farm-support.js';
import { startIvcProcesses } from './ivc-processes-support.js';

const PASSWORD = 'gateways-pw-7';
const DEVICES = 20;
const codes = Array.from({ length: DEVICES }, (_, i) => `du-${String(i).padStart(3, '0')}`);

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as T;
}

test('device --url A,B --url C: every device online on the URL a run would pick for it', async () => {
  const started = await startIvcProcesses(3, [], { IVC_PASSWORD: PASSWORD });
  const urls = started.urls;
  assert.equal(urls.length, 3);
  const expected = urls.map((url) => codes.filter((c) => targetUrlFor(c, urls) === url).length);
  // The ports are random, so is the split; with 20 devices two URLs at least get some (1 - 3e-9).
  assert.ok(expected.filter((n) => n > 0).length >= 2, `devices on several URLs: ${expected}`);

  const fleet = startCli(
    [
      'device',
      '--url',
      `${urls[0]}, ${urls[1]}`,
      '--url',
      urls[2]!,
      '-n',
      String(DEVICES),
      '--login-code',
      'du-{index:03}',
      '--no-media',
    ],
    { IVT_PASSWORD: PASSWORD },
  );
  const stats = await eventually(
    'every device online in /api/stats',
    async () => {
      const s = await getJson<{ online: number; processes: Array<{ url: string; online: number }> }>(
        `${started.admin}/api/stats`,
      );
      return s.online === DEVICES ? s : null;
    },
    20_000,
    100,
  );
  assert.deepEqual(
    stats.processes.map((p) => [p.url, p.online]),
    urls.map((url, i) => [url, expected[i]]),
  );
  for (const code of codes) {
    const d = await getJson<{ online: boolean; process: number }>(`${started.admin}/api/devices/${code}`);
    assert.equal(d.online, true, code);
    assert.equal(urls[d.process], targetUrlFor(code, urls), `${code} on the URL the rule picks`);
  }
  assert.match(
    fleet.output(),
    new RegExp(
      `against 3 URLs: ${urls.map((u, i) => `${u.replace(/[.]/g, '\\.')} \\(${expected[i]} devices\\)`).join(', ')};`,
    ),
  );

  fleet.child.kill('SIGINT');
  assert.equal(await fleet.exited, 0, fleet.output());
  started.ivc.child.kill('SIGINT');
  assert.equal(await started.ivc.exited, 0);
});

test('device --url: a bad or repeated URL in the list is a usage error naming it', async () => {
  const cases: Array<{ urls: string[]; message: RegExp }> = [
    {
      urls: ['ws://127.0.0.1:9/ivc,http://127.0.0.1:8/ivc'],
      message: /"http:\/\/127\.0\.0\.1:8\/ivc" must start with ws:\/\/ or wss:\/\//,
    },
    { urls: ['ws://127.0.0.1:9/ivc', 'not a url'], message: /"not a url" is not a URL/ },
    {
      urls: ['ws://127.0.0.1:9/ivc,ws://127.0.0.1:9/ivc'],
      message: /ws:\/\/127\.0\.0\.1:9\/ivc is given twice/,
    },
    { urls: ['ws://127.0.0.1:9/ivc,'], message: /an empty entry in the URL list/ },
  ];
  for (const { urls, message } of cases) {
    const r = await runCli(['device', ...urls.flatMap((u) => ['--url', u])], { env: { IVT_PASSWORD: 'x' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('device --url LIVE,DEAD: the live gateway gets its devices, the dead one is named', async () => {
  const ivc = startCli(['ivc', '--port', '0'], { IVC_PASSWORD: PASSWORD });
  const platform = await eventually(
    'the platform listening',
    () => {
      const out = ivc.output();
      const url = /devices connect to: (\S+)/.exec(out)?.[1];
      const admin = /admin API: +(http:\/\/[^/]+)/.exec(out)?.[1];
      return url && admin ? { url, admin } : null;
    },
    30_000,
  );
  const deadPort = await freePort();
  const dead = `ws://127.0.0.1:${deadPort}/ivc`;
  const urls = [platform.url, dead];
  const live = codes.filter((c) => targetUrlFor(c, urls) === platform.url).length;
  assert.ok(live > 0 && live < DEVICES, `devices on both URLs: ${live} of ${DEVICES} on the live one`);
  const fleet = startCli(
    ['device', '--url', urls.join(','), '-n', String(DEVICES), '--login-code', 'du-{index:03}', '--no-media'],
    { IVT_PASSWORD: PASSWORD },
  );
  await eventually(
    'the live gateway devices online, the dead gateway named',
    async () =>
      (await getJson<{ online: number }>(`${platform.admin}/api/stats`)).online === live &&
      fleet.output().includes(`cannot connect to 127.0.0.1:${deadPort}: connection refused`),
    20_000,
    100,
  );
  fleet.child.kill('SIGINT');
  assert.equal(await fleet.exited, 0, fleet.output());
  ivc.child.kill('SIGINT');
});
