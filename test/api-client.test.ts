import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { refreshMarginMs } from '../src/api/client.js';
import { ApiAuthError, ApiClient, type ApiObserver, type ApiPlan } from '../src/api/index.js';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { type RunningIvc, startIvc } from '../src/ivc/server.js';
import { eventually } from '../support/eventually.js';

/**
 * The API client (src/api) against the reference platform's user API (src/ivc/user-api.ts):
 * real HTTP on loopback, a real device on the platform's WebSocket answering the orders.
 */
const DEVICE_PASSWORD = 'user-api-device-pw';
const API_PASSWORD = 'user-api-secret-pw-42';
const TOKEN_TTL_MS = 1500;
let ivc: RunningIvc;
let nvr: SimulatedDevice;
const scheduler = new Scheduler();

function plan(password = API_PASSWORD): ApiPlan {
  const auth = {
    request: {
      method: 'POST',
      url: '/api/login',
      headers: {},
      body: { user: 'operator', password },
    },
    tokenPath: '$.token',
    expiresInPath: '$.expires_in',
    ttlMs: null,
    headers: { Authorization: 'Bearer {token}' },
  };
  const channelUrl = '/api/cameras/{login_code}/channels/{channel}';
  return {
    baseUrl: ivc.httpUrl,
    connections: 4,
    timeoutMs: 5000,
    auth,
    actions: {
      open_live: {
        name: 'open_live',
        method: 'POST',
        url: `${channelUrl}/live`,
        headers: {},
        body: { quality: '{quality}' },
        capture: { stream_id: '$.stream_id' },
      },
      close_live: {
        name: 'close_live',
        method: 'DELETE',
        url: `${channelUrl}/live`,
        headers: {},
        body: null,
        capture: {},
      },
      list_live: {
        name: 'list_live',
        method: 'GET',
        url: '/api/live',
        headers: {},
        body: null,
        capture: { count: '$.count' },
      },
    },
  };
}

class Recorded implements ApiObserver {
  readonly calls: Array<{ action: string; status: number | string }> = [];
  requestDone(action: string, status: number | 'timeout' | 'error'): void {
    this.calls.push({ action, status });
  }
}

async function channelState(channel: number): Promise<{ state: number; stream_id?: string } | undefined> {
  const d = (await (await fetch(`${ivc.httpUrl}/api/devices/api-nvr`)).json()) as {
    channels: Array<{ channel: number; state: number; stream_id?: string }>;
  };
  return d.channels.find((c) => c.channel === channel);
}

before(async () => {
  ivc = await startIvc({
    auth: { password: DEVICE_PASSWORD },
    keepaliveMs: 300,
    rtmpUrlBase: 'rtmp://127.0.0.1:1/live',
    userApi: { user: 'operator', password: API_PASSWORD, tokenTtlMs: TOKEN_TTL_MS },
  });
  nvr = new SimulatedDevice(
    {
      url: ivc.url,
      loginCode: 'api-nvr',
      password: DEVICE_PASSWORD,
      kind: 'nvr',
      channels: 2,
      timings: { keepaliveMs: 300 },
    },
    { scheduler },
  );
  nvr.start();
  await eventually('the NVR online', () => nvr.isOnline);
});

after(async () => {
  await nvr.stop();
  await ivc.close();
});

describe('ApiClient against the reference platform user API', () => {
  test('logs in, opens a live view (the device gets RTMPPublish), captures its stream id, closes it', async () => {
    const seen = new Recorded();
    const client = new ApiClient(plan(), { observer: seen });
    try {
      const opened = await client.call('open_live', { login_code: 'api-nvr', channel: 1, quality: 'sd' });
      assert.equal(opened.status, 201, String(opened.error));
      const streamId = opened.captured.stream_id;
      assert.match(String(streamId), /^api-nvr-1-/);
      const ch = await eventually('channel 1 live with the stream id', async () => {
        const c = await channelState(1);
        return c?.state === 2 && c.stream_id === streamId ? c : undefined;
      });
      assert.equal(ch.stream_id, streamId);
      const list = await client.call('list_live', {});
      assert.equal(list.captured.count, 1);
      const closed = await client.call('close_live', { login_code: 'api-nvr', channel: 1 });
      assert.equal(closed.status, 200);
      await eventually('channel 1 back to state 1', async () => (await channelState(1))?.state === 1);
      assert.deepEqual(
        seen.calls.map((c) => `${c.action}:${c.status}`),
        ['auth:200', 'open_live:201', 'list_live:200', 'close_live:200'],
      );
    } finally {
      await client.close();
    }
  });

  test("a token is renewed 30 s before it ends, or 10 % of its lifetime, but with a second of the run's token checks left", () => {
    assert.equal(refreshMarginMs(3_600_000), 30_000);
    assert.equal(refreshMarginMs(60_000), 6_000);
    // 4 s tokens checked once a second: renewed 2 s before they end, never after.
    assert.equal(refreshMarginMs(4_000), 2_000);
    assert.equal(refreshMarginMs(1_500), 750);
  });

  test('a token past its lifetime is refreshed by a new login before the next call', async () => {
    const client = new ApiClient(plan());
    try {
      assert.equal((await client.call('list_live', {})).status, 200);
      assert.equal(client.logins, 1);
      // The platform's tokens live 1.5 s; the client renews at half of that.
      await new Promise((r) => setTimeout(r, TOKEN_TTL_MS + 200));
      assert.equal((await client.call('list_live', {})).status, 200);
      assert.equal(client.logins, 2);
    } finally {
      await client.close();
    }
  });

  test('an expired or unknown token gets 401 from the platform; the client logs in again and retries once', async () => {
    const expired = await fetch(`${ivc.httpUrl}/api/live`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    assert.equal(expired.status, 401);
    await expired.arrayBuffer();
    // A client whose clock runs slow keeps its token too long: the platform's 401 makes it log in again.
    let skew = 0;
    const client = new ApiClient(plan(), { now: () => Date.now() - skew });
    try {
      assert.equal((await client.call('list_live', {})).status, 200);
      skew = 60_000;
      await new Promise((r) => setTimeout(r, TOKEN_TTL_MS + 100));
      const r = await client.call('list_live', {});
      assert.equal(r.status, 200);
      assert.equal(client.logins, 2);
    } finally {
      await client.close();
    }
  });

  test('a wrong password fails the login with a clear error that does not show the password', async () => {
    const wrong = 'wrong-password-xyz-123';
    const client = new ApiClient(plan(wrong));
    try {
      await assert.rejects(client.login(), (error: Error) => {
        assert.ok(error instanceof ApiAuthError);
        assert.match(error.message, /api\.auth: POST http:\/\/127\.0\.0\.1:\d+\/api\/login answered 401/);
        assert.ok(!error.message.includes(wrong), error.message);
        return true;
      });
      const r = await client.call('list_live', {});
      assert.equal(r.outcome, 'error');
      assert.ok(!String(r.error).includes(wrong));
    } finally {
      await client.close();
    }
  });

  test('the user API keeps the admin guard: a foreign Host is refused, a POST must be JSON', async () => {
    const { request } = await import('undici');
    const foreign = await request(`${ivc.httpUrl}/api/login`, {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'operator', password: API_PASSWORD }),
    });
    assert.equal(foreign.statusCode, 403);
    await foreign.body.text();
    const form = await fetch(`${ivc.httpUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=operator',
    });
    assert.equal(form.status, 415);
    await form.arrayBuffer();
  });
});
