import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { secretsEqual } from './credentials.js';
import type { ResolvedOptions } from './options.js';

/** Why an admin or monitor request was refused, as an HTTP status and a message with no secret in it. */
export interface Refusal {
  status: 401 | 403 | 415;
  message: string;
}

/** Name of the cookie the monitor page gets after it proves the admin token (`POST /api/session`). */
const SESSION_COOKIE = 'ivc_session';
/** Browser sessions remembered at once; the oldest is forgotten first. */
const MAX_BROWSER_SESSIONS = 1000;
const MIN_TOKEN_LENGTH = 16;

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** Whether an address to bind only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** `Host`-header form of a host name: lower case, IPv6 in brackets. */
function hostKey(name: string): string {
  const bare = name.replace(/^\[|\]$/g, '').toLowerCase();
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/**
 * Who may use the admin API and the monitor: the request's `Host` must name this platform
 * (defeats DNS rebinding), a browser's `Origin` must be the platform's own (defeats other pages
 * in the operator's browser), state-changing requests must be `application/json` (a form or a
 * `text/plain` post from another page cannot be), and with an admin token every request carries
 * it as `Authorization: Bearer …` or as the session cookie the monitor page gets for it.
 */
export class AdminGuard {
  private readonly hostNames = new Set<string>();
  private readonly extraOrigins = new Set<string>();
  private readonly browserSessions = new Set<string>();
  private port = 0;

  constructor(private readonly options: ResolvedOptions) {
    const token = options.adminToken;
    if (token !== null && token.length < MIN_TOKEN_LENGTH)
      throw new Error(`the admin token must be at least ${MIN_TOKEN_LENGTH} characters long`);
    if (token === null && !isLoopbackHost(options.host)) {
      throw new Error(
        `binding ${options.host || 'every address'} makes the admin API reachable from the network: ` +
          'give an admin token (adminToken; for ivtfarm ivc: IVC_ADMIN_TOKEN or --admin-token-file)',
      );
    }
    for (const name of ['localhost', '127.0.0.1', '::1']) this.hostNames.add(hostKey(name));
    if (WILDCARD.has(options.host)) {
      for (const list of Object.values(networkInterfaces()))
        for (const address of list ?? []) this.hostNames.add(hostKey(address.address));
    } else {
      this.hostNames.add(hostKey(options.host));
    }
    if (options.publicHost) this.hostNames.add(hostKey(options.publicHost));
    for (const entry of options.allowedOrigins) {
      const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
      let url: URL;
      try {
        url = new URL(withScheme ? entry : `http://${entry}`);
      } catch {
        throw new Error(`allowed origin "${entry}" is neither an origin (http://name:port) nor a host name`);
      }
      if (withScheme) this.extraOrigins.add(url.origin);
      this.hostNames.add(hostKey(url.hostname));
    }
  }

  /** The platform's own origins end in its port, known once it listens. */
  listening(port: number): void {
    this.port = port;
  }

  get tokenRequired(): boolean {
    return this.options.adminToken !== null;
  }

  /** Host and Origin only: for the monitor page and `/api/session`, which hold no data. */
  checkSite(req: IncomingMessage): Refusal | null {
    const host = req.headers.host ?? '';
    let hostname: string;
    try {
      hostname = hostKey(new URL(`http://${host}`).hostname);
    } catch {
      return { status: 403, message: 'the Host header is not a host name' };
    }
    if (!this.hostNames.has(hostname)) {
      return {
        status: 403,
        message: `Host ${hostname} is not a name of this platform (add it with --allow-origin)`,
      };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.originAllowed(origin)) {
      return {
        status: 403,
        message: `requests from pages of origin ${origin.slice(0, 200)} are not allowed (add it with --allow-origin)`,
      };
    }
    return null;
  }

  /** Every admin API request and monitor upgrade: site, token, and for state changes the JSON content type. */
  check(req: IncomingMessage, stateChanging: boolean): Refusal | null {
    const site = this.checkSite(req);
    if (site) return site;
    if (!this.authenticated(req)) {
      return { status: 401, message: 'admin token required (Authorization: Bearer <token>)' };
    }
    if (stateChanging) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        return { status: 415, message: 'state-changing requests must have Content-Type: application/json' };
      }
    }
    return null;
  }

  /** Whether the request carries the token, or the cookie of a browser session that proved it. */
  authenticated(req: IncomingMessage): boolean {
    const token = this.options.adminToken;
    if (token === null) return true;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && secretsEqual(auth.slice(7).trim(), token)) return true;
    const session = readCookie(req.headers.cookie, SESSION_COOKIE);
    return session !== null && this.browserSessions.has(session);
  }

  /**
   * Trades a correct token for a session cookie (HttpOnly, SameSite=Strict), so the monitor
   * page's WebSocket — which cannot carry a header — is authenticated too. Null: wrong token.
   */
  openBrowserSession(givenToken: unknown): string | null {
    const token = this.options.adminToken;
    if (token === null || typeof givenToken !== 'string' || !secretsEqual(givenToken, token)) return null;
    const id = randomBytes(32).toString('base64url');
    this.browserSessions.add(id);
    if (this.browserSessions.size > MAX_BROWSER_SESSIONS) {
      const oldest = this.browserSessions.values().next().value as string;
      this.browserSessions.delete(oldest);
    }
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`;
  }

  private originAllowed(origin: string): boolean {
    if (this.extraOrigins.has(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // "null" (sandboxed pages, file://) included
    }
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      port === this.port &&
      this.hostNames.has(hostKey(url.hostname))
    );
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
