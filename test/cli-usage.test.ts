// Usage errors exit 2 with a plain message (README "Exit codes"), before anything starts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from './farm-support.js';

const cases: Array<{ args: string[]; message: RegExp }> = [
  { args: ['run'], message: /missing required argument 'scenario'/ },
  { args: ['frobnicate'], message: /unknown command 'frobnicate'/ },
  { args: ['run', 'x.yaml', '--no-such-flag'], message: /unknown option '--no-such-flag'/ },
  { args: ['ivc', '--port', 'abc'], message: /--port must be a port number from 0 to 65535 \(got "abc"\)/ },
  {
    args: ['ivc', '--port', '99999'],
    message: /--port must be a port number from 0 to 65535 \(got "99999"\)/,
  },
  { args: ['run', 'x.yaml', '--metrics-port', '70000'], message: /--metrics-port must be a port number/ },
  { args: ['device'], message: /required option '--url <url>' not specified/ },
  { args: ['device', '--url', 'http://127.0.0.1/ivc'], message: /must start with ws:\/\/ or wss:\/\// },
];

describe('usage errors', () => {
  for (const { args, message } of cases) {
    test(`ivtfarm ${args.join(' ')} → exit 2, plain message`, async () => {
      const r = await runCli(args, { env: { IVT_PASSWORD: 'x' } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      // No raw Node text: no stack, no RangeError / ERR_ code.
      assert.doesNotMatch(r.stderr, /RangeError|ERR_[A-Z_]+|\n\s+at /);
    });
  }

  test('--help and --version still exit 0', async () => {
    assert.equal((await runCli(['--help'])).code, 0);
    assert.equal((await runCli(['--version'])).code, 0);
    assert.equal((await runCli(['run', '--help'])).code, 0);
  });
});
