import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from './http-util.js';
import type { IvcPlatform } from './platform.js';
import { TsChecker } from './ts-check.js';

/** One cloud recording as its callbacks and uploads reach the platform. */
interface Recording {
  loginCode: string | null;
  creates: number;
  /** Names handed out and not yet uploaded, with the size announced by op=create. */
  readonly awaiting: Map<string, number>;
  nextIndex: number;
  segments: number;
  bytes: number;
  fails: number;
  saved: boolean;
  lastName: string;
}

/** Recordings remembered at once; past it the oldest ordered one is forgotten. */
const MAX_RECORDINGS = 10_000;
const MAX_AWAITING = 64;

/**
 * The cloud-recording endpoints of contract item 5: `POST /record/<session>` (form
 * `op=create|fail|save`) hands out upload names and URIs, `PUT /upload/record/<session>/<name>`
 * takes a TS segment, checking it as it streams in. Only sessions the platform ordered exist:
 * a callback for any other id gets 404 and leaves nothing behind. Test knobs: empty answers for the first N
 * creates (pre-recording) and failing every PUT with 500.
 */
export class Recordings {
  private readonly sessions = new Map<string, Recording>();

  constructor(private readonly platform: IvcPlatform) {}

  /** Recording sessions remembered now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Opens a session for a StartCloudRecord the platform sends, remembering its device; false
   * for an id longer than `limits.maxStringLength` (its callbacks will find no session).
   */
  expect(sessionId: string, loginCode: string): boolean {
    if (sessionId.length > this.platform.options.limits.maxStringLength) return false;
    if (!this.sessions.has(sessionId)) {
      this.sessions.set(sessionId, {
        loginCode,
        creates: 0,
        awaiting: new Map(),
        nextIndex: 1,
        segments: 0,
        bytes: 0,
        fails: 0,
        saved: false,
        lastName: '',
      });
      if (this.sessions.size > MAX_RECORDINGS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    this.sessions.get(sessionId)!.loginCode = loginCode;
    return true;
  }

  /** A snapshot for the admin API. */
  describe(sessionId: string): Record<string, unknown> | null {
    const r = this.sessions.get(sessionId);
    if (!r) return null;
    return {
      session_id: sessionId,
      login_code: r.loginCode,
      creates: r.creates,
      segments: r.segments,
      bytes: r.bytes,
      fails: r.fails,
      saved: r.saved,
      last_name: r.lastName,
    };
  }

  async handleCallback(sessionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = this.sessions.get(sessionId);
    if (!r) {
      this.refuseUnknown(sessionId, req, res);
      return;
    }
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(req, 64 * 1024)).toString());
    } catch (error) {
      sendJson(res, error instanceof BodyTooLargeError ? 413 : 400, { info: (error as Error).message });
      return;
    }
    const maxString = this.platform.options.limits.maxStringLength;
    for (const field of ['name', 'last_file_name']) {
      if ((form.get(field) ?? '').length > maxString) {
        sendJson(res, 400, { info: `${field} longer than ${maxString} characters` });
        return;
      }
    }
    const stats = this.platform.stats;
    const op = form.get('op');
    if (op === 'create') {
      const size = Number(form.get('size'));
      if (!Number.isInteger(size) || size < 0) {
        sendJson(res, 400, { info: 'op=create needs an integer size' });
        return;
      }
      r.creates++;
      stats.recordCreates++;
      const confirmed = form.get('last_file_name');
      if (confirmed) r.lastName = confirmed;
      if (r.creates <= this.platform.options.record.emptyCreates || r.awaiting.size >= MAX_AWAITING) {
        sendJson(res, 200, { name: '', uri: '' });
        return;
      }
      const name = `${String(r.nextIndex++).padStart(4, '0')}.ts`;
      r.awaiting.set(name, size);
      sendJson(res, 200, {
        name,
        uri: `${this.platform.httpBase}/upload/record/${encodeURIComponent(sessionId)}/${name}`,
      });
    } else if (op === 'fail') {
      r.fails++;
      stats.recordFails++;
      r.awaiting.delete(form.get('name') ?? '');
      sendJson(res, 200, {});
    } else if (op === 'save') {
      r.saved = true;
      stats.recordSaves++;
      const name = form.get('name');
      if (name) r.lastName = name;
      sendJson(res, 200, {});
    } else {
      sendJson(res, 400, { info: 'op must be create, fail or save' });
    }
  }

  handleUpload(sessionId: string, name: string, req: IncomingMessage, res: ServerResponse): void {
    const r = this.sessions.get(sessionId);
    if (!r) {
      this.refuseUnknown(sessionId, req, res);
      return;
    }
    const announced = r.awaiting.get(name);
    if (announced === undefined) {
      req.resume();
      sendJson(res, 404, {
        info: `no upload ${name.slice(0, 100)} expected in session ${sessionId.slice(0, 100)}`,
      });
      return;
    }
    if (this.platform.options.record.failPuts) {
      req.resume();
      req.on('end', () => sendJson(res, 500, { info: 'upload refused (failPuts test knob)' }));
      return;
    }
    const checker = new TsChecker();
    req.on('data', (chunk: Buffer) => checker.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      r.awaiting.delete(name);
      r.segments++;
      r.bytes += checker.bytes;
      this.platform.stats.recordSegments++;
      this.platform.stats.recordBytes += checker.bytes;
      const device = r.loginCode ? this.platform.devices.get(r.loginCode) : undefined;
      if (device) {
        device.recordSegments++;
        device.recordBytes += checker.bytes;
      }
      const valid = checker.finish();
      if (!valid && device) this.platform.violation(device, 'record_ts', `${name}: ${checker.firstError}`);
      if (checker.bytes !== announced && device) {
        this.platform.violation(
          device,
          'record_size',
          `${name}: ${checker.bytes} bytes, announced ${announced}`,
        );
      }
      sendJson(res, 200, { name, bytes: checker.bytes, valid_ts: valid });
    });
  }

  private refuseUnknown(sessionId: string, req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    this.platform.stats.recordUnknown++;
    sendJson(res, 404, {
      info: `no recording session ${sessionId.slice(0, 100)} was ordered by this platform`,
    });
  }
}
