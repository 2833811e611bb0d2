import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { startIvc } from '../src/ivc/index.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import { RpcError } from '../src/protocol/errors.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';
import { CHROMIUM, hasChromium, launchChromium } from './browser-support.js';

/** A device that answers GetNetConfig and nothing else. */
class NetDevice implements PeerHandler {
  handleRequest(method: string): unknown {
    if (method !== 'GetNetConfig') throw new RpcError(101);
    return [
      {
        name: 'eth0',
        ip: '192.0.2.77',
        gateway: '192.0.2.1',
        netmask: '255.255.255.0',
        dns1: '',
        dns2: '',
        mac: '02:00:00:00:00:01',
        dhcp: true,
      },
    ];
  }
  handleEvent(): void {}
  onPeerClose(_info: CloseInfo): void {}
}

/** Distinct byte values of a PNG's decompressed pixel data: a blank page has only a handful. */
function distinctPixelBytes(png: Buffer): number {
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return new Set(inflateSync(Buffer.concat(idat))).size;
}

test('the monitor page shows live keepalives and the answer to a hand-sent GetNetConfig', {
  timeout: 60_000,
}, async (t) => {
  if (!hasChromium()) {
    t.skip(`${CHROMIUM} is missing: the browser test of the monitor page did not run`);
    return;
  }
  const ivc = await startIvc();
  const browser = await launchChromium();
  const dir = mkdtempSync(join(tmpdir(), 'ivc-web-'));
  let timer: NodeJS.Timeout | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The page is opened before the device exists: it waits for it.
    await page.goto(`${ivc.httpUrl}/?login_code=web-1`);
    await page.locator('#status', { hasText: 'waiting for the device' }).waitFor({ timeout: 10_000 });

    // A hostile hardware model must show as text, never as markup.
    const q = new URLSearchParams({
      login_code: 'web-1',
      login_passwd: 'pw',
      hardware_model: '<img id="pwn" src=x onerror="document.title=\'pwned\'">',
      firmware_model: 'FW-1',
    });
    const ws = new WebSocket(`${ivc.url}?${q}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const peer = new RpcPeer(ws, new NetDevice());
    const keepalive = () =>
      void peer.call('Keepalive', { state: 1, channels: [{ channel: 0, state: 1 }] }).catch(() => {});
    keepalive();
    timer = setInterval(keepalive, 300);

    await page.locator('#status', { hasText: 'online' }).waitFor({ timeout: 10_000 });
    await page.locator('.entry.in', { hasText: '"Keepalive"' }).nth(1).waitFor({ timeout: 10_000 });
    await page.locator('.entry.out', { hasText: '"resp": {}' }).first().waitFor({ timeout: 10_000 });

    await page.fill('#packet', '{"req":"GetNetConfig","params":{"channel":0}}');
    await page.click('#send');
    await page.locator('.entry.out', { hasText: '"GetNetConfig"' }).waitFor({ timeout: 10_000 });
    const answer = page.locator('.entry.in', { hasText: '192.0.2.77' });
    await answer.waitFor({ timeout: 10_000 });
    assert.match((await answer.textContent()) ?? '', /"seq": 1/);

    assert.equal(await page.locator('#pwn').count(), 0);
    // Shown as JSON text (quotes escaped), not parsed as an element.
    assert.match((await page.locator('#device').textContent()) ?? '', /<img id=\\"pwn\\"/);
    assert.notEqual(await page.title(), 'pwned');
    assert.deepEqual(pageErrors, []);

    const shot = join(dir, 'ivc-monitor.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.ok(png.length > 10_000, `screenshot only ${png.length} bytes`);
    assert.ok(distinctPixelBytes(png) > 50, 'screenshot looks blank');
    peer.close();
  } finally {
    if (timer) clearInterval(timer);
    await browser.close();
    await ivc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A device that counts the GetNetConfig calls it answers. */
class CountingDevice extends NetDevice {
  calls = 0;
  override handleRequest(method: string): unknown {
    this.calls++;
    return super.handleRequest(method);
  }
}

async function countingDevice(
  ivcUrl: string,
  loginCode: string,
): Promise<{ device: CountingDevice; peer: RpcPeer }> {
  const q = new URLSearchParams({
    login_code: loginCode,
    login_passwd: 'pw',
    hardware_model: 'HW',
    firmware_model: 'FW',
  });
  const ws = new WebSocket(`${ivcUrl}?${q}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const device = new CountingDevice();
  const peer = new RpcPeer(ws, device);
  await peer.call('Keepalive', { state: 1, channels: [{ channel: 0, state: 1 }] });
  return { device, peer };
}

/** What a page on another origin tries against the platform; it stores what it could see. */
function hostilePage(httpUrl: string, loginCode: string): string {
  const target = JSON.stringify(httpUrl);
  const code = JSON.stringify(loginCode);
  return `<!doctype html><title>elsewhere</title><script>
window.results = {};
const target = ${target}, code = ${code};
const rpc = JSON.stringify({ req: 'GetNetConfig', params: { channel: 0 } });
(async () => {
  try {
    const r = await fetch(target + '/api/devices/' + code + '/rpc', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: rpc });
    results.plain = 'sent, response ' + r.type;
  } catch (e) { results.plain = 'error'; }
  try {
    const r = await fetch(target + '/api/devices/' + code + '/rpc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: rpc });
    results.json = 'read: ' + (await r.text());
  } catch (e) { results.json = 'error'; }
  try {
    results.list = 'read: ' + (await (await fetch(target + '/api/devices')).text());
  } catch (e) { results.list = 'error'; }
  results.ws = await new Promise((resolve) => {
    const ws = new WebSocket(target.replace('http', 'ws') + '/monitor?login_code=' + code);
    ws.onmessage = (e) => resolve('message: ' + e.data);
    ws.onerror = () => resolve('error');
    ws.onclose = (e) => resolve('closed ' + e.code);
  });
  results.done = true;
})();
</script>`;
}

test('a page on another origin can neither call an admin RPC nor read the monitor socket', {
  timeout: 60_000,
}, async (t) => {
  if (!hasChromium()) {
    t.skip(`${CHROMIUM} is missing: the cross-origin browser test did not run`);
    return;
  }
  const ivc = await startIvc();
  const { device, peer } = await countingDevice(ivc.url, 'victim');
  // The other origin: a second server on another loopback address.
  const elsewhere = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(hostilePage(ivc.httpUrl, 'victim'));
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/`);
    // (Browser-side expressions as strings: the tests compile without the DOM library.)
    await page.waitForFunction('window.results.done === true', null, { timeout: 20_000 });
    const results = (await page.evaluate('window.results')) as Record<string, string>;
    // The no-cors post leaves the browser, but the platform refuses it: the device is never called.
    assert.equal(results.plain, 'sent, response opaque');
    assert.equal(results.json, 'error');
    assert.equal(results.list, 'error');
    assert.match(results.ws!, /^(error|closed 1006)$/);
    assert.equal(device.calls, 0);
    const stats = (await (await fetch(`${ivc.httpUrl}/api/stats`)).json()) as { rpc: { calls: number } };
    assert.equal(stats.rpc.calls, 0);
    peer.close();
  } finally {
    await browser.close();
    await new Promise((resolve) => elsewhere.close(resolve));
    await ivc.close();
  }
});

test('with an admin token the monitor page asks for it once, then watches the device', {
  timeout: 60_000,
}, async (t) => {
  if (!hasChromium()) {
    t.skip(`${CHROMIUM} is missing: the browser test of the token form did not run`);
    return;
  }
  const token = 'monitor-token-0123456789';
  const ivc = await startIvc({ adminToken: token });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${ivc.httpUrl}/?login_code=tok-web`);
    await page.locator('#status', { hasText: 'admin token needed' }).waitFor({ timeout: 10_000 });
    await page.fill('#token', 'not-the-right-token');
    await page.click('#login button');
    await page.locator('#login-error', { hasText: 'wrong token' }).waitFor({ timeout: 10_000 });
    await page.fill('#token', token);
    await page.click('#login button');
    await page.locator('#status', { hasText: 'waiting for the device' }).waitFor({ timeout: 10_000 });
    const { device, peer } = await countingDevice(ivc.url, 'tok-web');
    await page.locator('#status', { hasText: 'online' }).waitFor({ timeout: 10_000 });
    await page.fill('#packet', '{"req":"GetNetConfig","params":{"channel":0}}');
    await page.click('#send');
    await page.locator('.entry.in', { hasText: '192.0.2.77' }).waitFor({ timeout: 10_000 });
    assert.equal(device.calls, 1);
    // The session cookie is HttpOnly: the page's script cannot read it, nor the token.
    assert.equal(await page.evaluate('document.cookie'), '');
    assert.ok(!(await page.content()).includes(token));
    peer.close();
  } finally {
    await browser.close();
    await ivc.close();
  }
});
