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

/** Bounds on what strangers can make the platform remember. */
const MAX_RECORDINGS = 100_000;
const MAX_AWAITING = 64;

/**
 * The cloud-recording endpoints of contract item 5: `POST /record/<session>` (form
 * `op=create|fail|save`) hands out upload names and URIs, `PUT /upload/record/<session>/<name>`
 * takes a TS segment, checking it as it streams in. Test knobs: empty answers for the first N
 * creates (pre-recording) and failing every PUT with 500.
 */
export class Recordings {
  private readonly sessions = new Map<string, Recording>();

  constructor(private readonly platform: IvcPlatform) {}

  /** Remembers which device a session belongs to (set by the command that starts it). */
  expect(sessionId: string, loginCode: string): void {
    this.get(sessionId).loginCode = loginCode;
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
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(req, 64 * 1024)).toString());
    } catch (error) {
      sendJson(res, error instanceof BodyTooLargeError ? 413 : 400, { info: (error as Error).message });
      return;
    }
    if (!this.sessions.has(sessionId) && this.sessions.size >= MAX_RECORDINGS) {
      sendJson(res, 503, { info: 'too many recordings' });
      return;
    }
    const r = this.get(sessionId);
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
      sendJson(res, 200, { name, uri: `${this.platform.httpBase}/upload/record/${sessionId}/${name}` });
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
    const announced = r?.awaiting.get(name);
    if (!r || announced === undefined) {
      req.resume();
      sendJson(res, 404, { info: `no upload ${name} expected in session ${sessionId}` });
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

  private get(sessionId: string): Recording {
    let r = this.sessions.get(sessionId);
    if (!r) {
      r = {
        loginCode: null,
        creates: 0,
        awaiting: new Map(),
        nextIndex: 1,
        segments: 0,
        bytes: 0,
        fails: 0,
        saved: false,
        lastName: '',
      };
      this.sessions.set(sessionId, r);
    }
    return r;
  }
}
