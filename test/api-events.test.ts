import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiClient, type ApiPlan } from '../src/api/index.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { ApiOrders } from '../src/run/api-orders.js';
import { eventually } from '../support/eventually.js';

// A remote platform's events (`platform.events` with `action:`) are one API call per chosen
// device, naming one of its channels: an NVR's cameras each get their share, not only channel 0.
// The "platform" is a real HTTP server on loopback that records what it was asked.
test('platform events through an API action name any channel of an NVR, one call per chosen device', async () => {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const plan: ApiPlan = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 4,
    timeoutMs: 5000,
    auth: null,
    actions: {
      ptz: {
        name: 'ptz',
        method: 'POST',
        url: '/api/cameras/{login_code}/channels/{channel}/ptz',
        headers: {},
        body: null,
        capture: {},
      },
    },
  };
  const client = new ApiClient(plan);
  const orders = new ApiOrders(
    client,
    {
      publish: null,
      record: null,
      events: [{ atMs: 0, event: 'CtrlPTZ', fraction: 1, params: null, action: 'ptz' }],
      refuseLoginsAfter: null,
      refuseStreamsAfter: null,
      strict: false,
    },
    new MetricsRegistry({ source: 'test' }),
    7,
    () => {},
  );
  try {
    for (let i = 0; i < 40; i++)
      orders.notice({ type: 'device', loginCode: `nvr-${i}`, channels: 4, pushing: 0 });
    orders.notice({ type: 'device', loginCode: 'nvr-0', channels: 0, pushing: 0 }); // went offline
    orders.start();
    await eventually('39 calls, one per online NVR', () => asked.length >= 39, 10_000, 20);
    assert.equal(orders.events.CtrlPTZ, 39);
    const parsed = asked.map((u) => /^\/api\/cameras\/(nvr-\d+)\/channels\/(\d+)\/ptz$/.exec(u));
    assert.ok(
      parsed.every((m) => m !== null),
      asked.join(' '),
    );
    assert.ok(!parsed.some((m) => m![1] === 'nvr-0'), 'an offline device gets no event');
    const channels = new Set(parsed.map((m) => Number(m![2])));
    assert.ok(
      [...channels].every((c) => c >= 0 && c < 4),
      [...channels].join(','),
    );
    assert.ok(channels.size >= 3, `channels named: ${[...channels].join(',')}`);
  } finally {
    await orders.stop();
    await client.close();
    server.close();
  }
});
