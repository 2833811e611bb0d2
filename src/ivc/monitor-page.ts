import type { ServerResponse } from 'node:http';

/**
 * The device monitor page (`GET /?login_code=X`): static HTML with a small inline script, no
 * framework, no external resources. Device strings only ever reach the DOM through
 * `textContent`, never `innerHTML`.
 */
export const monitorPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IVC device monitor</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #status { font-weight: 600; }
  #status.online { color: #5fd38d; } #status.offline { color: #f0a35e; }
  main { display: grid; grid-template-columns: 1fr 360px; gap: 12px; padding: 12px; }
  #log { background: #fff; border: 1px solid #d5d9e0; height: calc(100vh - 110px); overflow: auto; padding: 4px; }
  .entry { border-bottom: 1px solid #eceef2; padding: 4px 6px; }
  .entry .meta { color: #667; font-size: 12px; }
  .entry pre { margin: 2px 0 0; white-space: pre-wrap; word-break: break-all; font: 12px/1.35 ui-monospace, monospace; }
  .entry.in { border-left: 4px solid #3b7ddd; } .entry.out { border-left: 4px solid #32a067; }
  .entry.violation { border-left: 4px solid #d9534f; background: #fff4f4; }
  .entry.quirk { border-left: 4px solid #f0ad4e; background: #fffaf0; }
  .entry.note { border-left: 4px solid #999; color: #555; }
  aside { background: #fff; border: 1px solid #d5d9e0; padding: 10px; }
  select { width: 100%; margin-bottom: 4px; }
  textarea { width: 100%; box-sizing: border-box; height: 180px; font: 12px ui-monospace, monospace; }
  #device { font-size: 12px; color: #445; white-space: pre-wrap; }
  form.pick { padding: 24px; }
</style>
</head>
<body>
<header><h1>IVC device monitor</h1><span id="code"></span><span id="status" class="offline">connecting…</span></header>
<form class="pick" id="login" hidden>
  <label>Admin token <input id="token" type="password" autocomplete="current-password" required></label>
  <button>Open</button> <span id="login-error"></span>
</form>
<form class="pick" id="pick" hidden method="get" action="/">
  <label>Login code <input name="login_code" required></label> <button>Watch</button>
</form>
<main id="main" hidden>
  <div id="log" aria-live="polite"></div>
  <aside>
    <h3>Send a packet</h3>
    <p>A request <code>{"req": …, "params": …}</code> gets its seq from the platform; an event <code>{"event": …, "params": …}</code> is sent as is.</p>
    <select id="template">
      <option value="">— template —</option>
      <option>{"req":"GetNetConfig","params":{"channel":0}}</option>
      <option>{"req":"GetRTMPPublishConfig"}</option>
      <option>{"req":"RebootChannel","params":{"channel":0}}</option>
      <option>{"req":"GetPTZPresetList","params":{"channel":0}}</option>
      <option>{"req":"GetWifiStatusAndConfig","params":{"channel":0}}</option>
      <option>{"event":"SyncTime","params":{"datetime":"2016-12-05T02:15:32","offset":5}}</option>
      <option>{"event":"CtrlPTZ","params":{"channel":0,"op":"left","value":50}}</option>
      <option>{"event":"UpgradeFirmware"}</option>
    </select>
    <textarea id="packet" spellcheck="false">{"req":"GetNetConfig","params":{"channel":0}}</textarea>
    <label><input type="checkbox" id="raw"> send as is (malformed-packet test)</label><br>
    <button id="send">Send</button> <button id="clear" type="button">Clear log</button>
    <h3>Device</h3>
    <div id="device">not seen yet</div>
  </aside>
</main>
<script>
(() => {
  'use strict';
  const MAX_ENTRIES = 1000;
  const code = new URLSearchParams(location.search).get('login_code');
  const $ = (id) => document.getElementById(id);
  if (!code) { $('pick').hidden = false; $('status').textContent = ''; return; }
  $('code').textContent = code;
  document.title = 'IVC monitor: ' + code;
  const log = $('log');

  function add(kind, meta, body) {
    const div = document.createElement('div');
    div.className = 'entry ' + kind;
    div.dataset.dir = kind;
    const m = document.createElement('div');
    m.className = 'meta';
    m.textContent = meta;
    div.appendChild(m);
    if (body !== undefined) {
      const pre = document.createElement('pre');
      pre.textContent = body;
      div.appendChild(pre);
    }
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.appendChild(div);
    while (log.childElementCount > MAX_ENTRIES) log.firstElementChild.remove();
    if (stick) log.scrollTop = log.scrollHeight;
  }
  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
  }
  function showDevice(d) {
    const s = $('status');
    if (!d) { s.textContent = 'waiting for the device to connect…'; s.className = 'offline'; return; }
    s.textContent = d.online ? 'online' : 'offline';
    s.className = d.online ? 'online' : 'offline';
    $('device').textContent = JSON.stringify(d, null, 2);
  }

  // With an admin token, the page trades it once for an HttpOnly session cookie that the
  // monitor WebSocket then carries; the token itself is never stored by the page.
  async function start() {
    let session;
    try {
      session = await (await fetch('/api/session', { cache: 'no-store' })).json();
    } catch {
      setTimeout(start, 1000);
      return;
    }
    if (session.token_required && !session.authenticated) {
      $('main').hidden = true;
      $('login').hidden = false;
      $('status').textContent = 'admin token needed';
      $('status').className = 'offline';
      return;
    }
    $('login').hidden = true;
    $('main').hidden = false;
    connect();
  }
  $('login').onsubmit = async (e) => {
    e.preventDefault();
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: $('token').value }),
    });
    $('token').value = '';
    if (res.ok) start();
    else $('login-error').textContent = 'wrong token';
  };

  let ws = null;
  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/monitor?login_code=' + encodeURIComponent(code));
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      if (m.type === 'hello' || m.type === 'status') {
        showDevice(m.device);
        if (m.type === 'status' && m.device) add('note', new Date().toISOString() + '  device ' + (m.device.online ? 'online' : 'offline'));
      } else if (m.type === 'packet') {
        add(m.dir, m.at + (m.dir === 'in' ? '  device → platform' : '  platform → device'), pretty(m.text));
      } else if (m.type === 'violation') {
        // A deviation the vendor's own firmware makes is shown apart from a real fault.
        if (m.severity === 'vendor_quirk') add('quirk', m.at + '  vendor quirk: ' + m.rule, m.detail);
        else add('violation', m.at + '  conformance: ' + m.rule, m.detail);
      } else if (m.type === 'error') {
        add('note', new Date().toISOString() + '  not sent: ' + m.message);
      }
    };
    ws.onclose = () => {
      $('status').textContent = 'monitor disconnected, retrying…';
      $('status').className = 'offline';
      setTimeout(start, 1000);
    };
  }
  start();

  $('template').onchange = (e) => { if (e.target.value) $('packet').value = e.target.value; };
  $('clear').onclick = () => { log.textContent = ''; };
  $('send').onclick = () => {
    if (!ws || ws.readyState !== WebSocket.OPEN) { add('note', 'monitor not connected'); return; }
    ws.send(JSON.stringify({ type: 'send', text: $('packet').value, raw: $('raw').checked }));
  };
})();
</script>
</body>
</html>
`;

/** Serves the page (the caller checked the site: it is only served under the platform's names). */
export function sendMonitorPage(res: ServerResponse, method: string): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(monitorPageHtml),
    // The page loads nothing from elsewhere, and no other page may frame it.
    'content-security-policy':
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
  });
  res.end(method === 'HEAD' ? undefined : monitorPageHtml);
}
