// The preflight: before anything starts, one connection to each target the scenario names — a
// device login on the WebSocket endpoint, a TCP connect to each RTMP/HTTP endpoint — so a dead
// or mistyped target stops the run at once with a plain message instead of a run of failures.

import { connect } from 'node:net';
import { targetUrlFor } from '../core/target-choice.js';
import { classifyLoginError, loginUrl, openSocket } from '../device/connect.js';
import { refusalMeaning } from '../farm/fleet.js';
import type { PlannedDevice } from '../farm/plan.js';
import { maskUrl } from '../scenario/secrets.js';
import type { Scenario } from '../scenario/types.js';
import { ExitCode, RunRefused } from './exit-codes.js';

const PREFLIGHT_TIMEOUT_MS = 10_000;
const NOTHING_STARTED = 'Nothing was started (turn this check off with `checks: { preflight: false }`).';

const defaultPorts: Record<string, number> = { 'rtmp:': 1935, 'http:': 80, 'https:': 443 };

function refused(message: string, hint: string): RunRefused {
  const end = /[?.!]$/.test(hint) ? '' : '.';
  return new RunRefused(`preflight: ${message} — ${hint}${end} ${NOTHING_STARTED}`, ExitCode.PreflightFailed);
}

/** One device login to `endpoint` with the scenario's credentials; resolves once the platform accepted it. */
function tryLogin(scenario: Scenario, endpoint: string, device: PlannedDevice): Promise<void> {
  if (scenario.target.kind !== 'remote') return Promise.resolve();
  const target = scenario.target;
  const shown = maskUrl(endpoint);
  const url = loginUrl(
    endpoint,
    device.loginCode,
    scenario.devices.password,
    device.hardwareModel,
    device.firmwareModel,
  );
  return new Promise((resolve, reject) => {
    let ws: ReturnType<typeof openSocket>;
    try {
      ws = openSocket(url, {
        localAddress: undefined,
        tls: { caFile: target.ca ?? undefined, insecure: target.insecure },
      });
    } catch (error) {
      reject(refused(`cannot open ${shown}`, (error as Error).message));
      return;
    }
    const timer = setTimeout(() => {
      ws.terminate();
      reject(
        refused(
          `no answer from ${shown} within ${PREFLIGHT_TIMEOUT_MS / 1000} s`,
          'is the host right and reachable?',
        ),
      );
    }, PREFLIGHT_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close(1000);
      resolve();
    });
    // The error never carries the URL (it holds the password): only its classification is shown.
    ws.once('error', (error) => {
      clearTimeout(timer);
      ws.terminate();
      const failure = classifyLoginError(error);
      if (failure.kind === 'refused')
        reject(
          refused(
            `${shown} refused the login of ${device.loginCode} with HTTP ${failure.status} (${refusalMeaning[failure.status] ?? 'see the platform'})`,
            'check devices.password and devices.login_code against the platform',
          ),
        );
      else if (failure.reason === 'connection_refused')
        reject(
          refused(`cannot connect to ${shown}: connection refused`, 'is the platform running on that port?'),
        );
      else if (failure.reason === 'tls')
        reject(
          refused(
            `TLS handshake with ${shown} failed`,
            'give the CA with target.ca, or target.insecure: true for a test certificate',
          ),
        );
      else
        reject(refused(`cannot connect to ${shown} (${failure.reason})`, 'is the host right and reachable?'));
    });
  });
}

/** A TCP connect to an rtmp:// or http(s):// endpoint (a URL template: only host and port count). */
function tryConnect(what: string, template: string): Promise<void> {
  let host: string;
  let port: number;
  try {
    const u = new URL(template);
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port ? Number(u.port) : (defaultPorts[u.protocol] ?? 0);
  } catch {
    return Promise.reject(refused(`${what} ${maskUrl(template)} is not a URL`, 'fix it in the scenario'));
  }
  const shown = `${what} ${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: PREFLIGHT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(refused(`no answer from ${shown}`, 'is the host right and reachable?'));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(
        error.code === 'ECONNREFUSED'
          ? refused(`cannot connect to ${shown}: connection refused`, 'is the server running on that port?')
          : refused(
              `cannot connect to ${shown} (${error.code ?? error.message})`,
              'is the host right and reachable?',
            ),
      );
    });
  });
}

/**
 * Connects once to every target the scenario names — each of several device URLs with a device
 * that will use it — and throws `RunRefused` (exit 3) when one cannot be reached or refuses the
 * credentials. The embedded platform needs no check.
 */
export async function preflight(scenario: Scenario, planned: readonly PlannedDevice[]): Promise<void> {
  const first = planned[0];
  if (first && scenario.target.kind === 'remote') {
    const urls = scenario.target.urls;
    for (const endpoint of urls) {
      // Planned devices that use this URL: a registry-checked platform knows only its own.
      const device =
        urls.length > 1 ? planned.find((d) => targetUrlFor(d.loginCode, urls) === endpoint) : first;
      await tryLogin(scenario, endpoint, device ?? first);
    }
  }
  const push = scenario.devices.push;
  if (push && push.url !== 'embedded') await tryConnect('devices.push.url', push.url);
  for (const [i, load] of scenario.httpLoad.entries())
    if (load.origin) await tryConnect(`http_load[${i}].url`, load.origin);
}
