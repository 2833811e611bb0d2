import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
