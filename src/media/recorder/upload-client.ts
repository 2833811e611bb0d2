// The HTTP side of one cloud recording (contract item 5): the cbk_url callbacks (create, fail,
// save) on one keep-alive connection and the segment PUTs on another, with the contract's
// retries. Knows nothing of segments or queues: cloud-recorder.ts decides what to send when.
import { Client, errors } from 'undici';
import type { Scheduler } from '../../core/scheduler.js';
import type { CreateFailure, HttpFailure } from './observer.js';
import { PacedBody } from './paced-body.js';

export interface UploadClientOptions {
  /** The StartCloudRecord `cbk_url`; `ivr://` is taken as `http://`. */
  cbkUrl: string;
  scheduler: Scheduler;
  /** Local source address for both connections (spreads load over 127.0.0.x). */
  localAddress?: string;
  /** Bound on one callback POST, and on a PUT beyond its pacing time, ms (default 30 s). */
  timeoutMs?: number;
  /** Random source in [0, 1) for the retry pauses (default Math.random). */
  random?: () => number;
  /** A new TCP connection for every request, as the vendor's segment writer does (default false). */
  connectionPerRequest?: boolean;
}

/** What a create answered. `slot` null = "not now" (empty name or uri). */
export type CreateResult =
  | { ok: true; slot: { name: string; uri: string } | null; ms: number }
  | { ok: false; reason: CreateFailure };

export type PutResult = { ok: true; ms: number } | { ok: false; reason: HttpFailure };

export interface SegmentInfo {
  /** Bytes of the TS file. */
  size: number;
  /** Epoch seconds. */
  start: number;
  durationSec: number;
}

/** `ivr://host/path` means plain HTTP; anything else must be http(s). */
export function resolveCbkUrl(cbkUrl: string): URL {
  const url = new URL(cbkUrl.replace(/^ivr:\/\//i, 'http://'));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`cbk_url must be ivr://, http:// or https://, not ${url.protocol}`);
  }
  return url;
}

/** The form body of an `op=create`: numbers with 6 decimals, as the vendor's device writes them. */
export function createForm(segment: SegmentInfo, lastFileName: string): string {
  let body = `op=create&content_type=video%2Fmp2t&size=${segment.size}&start=${segment.start.toFixed(6)}&duration=${segment.durationSec.toFixed(6)}`;
  if (lastFileName !== '') body += `&last_file_name=${encodeURIComponent(lastFileName)}`;
  return body;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const TRANSPORT_RETRIES = 2;

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export class UploadClient {
  readonly cbk: URL;
  readonly #scheduler: Scheduler;
  readonly #localAddress: string | undefined;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  /** undici closes the connection after each request, so the next one opens its own. */
  readonly #reset: boolean;
  readonly #post: Client;
  #put: Client | null = null;
  #putOrigin = '';
  /** Aborts whatever is in flight when the recording gives up on it. */
  #abort = new AbortController();
  #closed = false;

  constructor(options: UploadClientOptions) {
    this.cbk = resolveCbkUrl(options.cbkUrl);
    this.#scheduler = options.scheduler;
    this.#localAddress = options.localAddress;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#random = options.random ?? Math.random;
    this.#reset = options.connectionPerRequest === true;
    this.#post = this.#client(this.cbk.origin);
  }

  async create(segment: SegmentInfo, lastFileName: string): Promise<CreateResult> {
    const t0 = this.#scheduler.now();
    let text: string;
    try {
      text = await this.#callback(createForm(segment, lastFileName));
    } catch (error) {
      return { ok: false, reason: failureOf(error) };
    }
    const ms = this.#scheduler.now() - t0;
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'bad_answer' };
    }
    if (typeof answer !== 'object' || answer === null) return { ok: false, reason: 'bad_answer' };
    const { name, uri } = answer as { name?: unknown; uri?: unknown };
    if (typeof name !== 'string' || typeof uri !== 'string') return { ok: false, reason: 'bad_answer' };
    if (name === '' || uri === '') return { ok: true, slot: null, ms };
    return { ok: true, slot: { name, uri }, ms };
  }

  /** `op=fail&name=…`: resolves with the failure, or null when the platform took it. */
  async fail(name: string): Promise<CreateFailure | null> {
    return this.#op(`op=fail&name=${encodeURIComponent(name)}`);
  }

  /** `op=save&name=…` (the last uploaded name; empty when nothing was uploaded). */
  async save(name: string): Promise<CreateFailure | null> {
    return this.#op(`op=save&name=${encodeURIComponent(name)}`);
  }

  /**
   * `PUT uri` with the segment's bytes paced over `paceMs`. A status ≥ 400 is retried once on a
   * new connection; a transport error twice after a random 1–27 ms pause.
   */
  async put(uri: string, bytes: Uint8Array, paceMs: number): Promise<PutResult> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return { ok: false, reason: 'network' };
    }
    const t0 = this.#scheduler.now();
    let statusRetried = false;
    let transportLeft = TRANSPORT_RETRIES;
    for (;;) {
      const client = this.#putClient(url.origin);
      const body = new PacedBody(bytes, { durationMs: paceMs, scheduler: this.#scheduler });
      try {
        const res = await client.request({
          path: url.pathname + url.search,
          method: 'PUT',
          headers: { 'content-type': 'video/mp2t', 'content-length': String(bytes.length) },
          body,
          reset: this.#reset,
          signal: this.#abort.signal,
          headersTimeout: paceMs + this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode < 400) return { ok: true, ms: this.#scheduler.now() - t0 };
        if (statusRetried) return { ok: false, reason: `http_${res.statusCode}` };
        statusRetried = true;
        this.#dropPutClient();
      } catch (error) {
        body.destroy();
        const reason = failureOf(error);
        if (!retriable(error) || transportLeft-- === 0 || this.#closed) return { ok: false, reason };
        await this.#pause();
      }
    }
  }

  /** Aborts requests in flight (they end as `timeout` failures: the caller gave up waiting). */
  abort(): void {
    this.#abort.abort();
    this.#abort = new AbortController();
  }

  /** Closes both connections; requests in flight are aborted. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    const put = this.#put;
    this.#put = null;
    await Promise.all([this.#post.destroy(), put?.destroy()]);
  }

  async #op(form: string): Promise<CreateFailure | null> {
    try {
      await this.#callback(form);
      return null;
    } catch (error) {
      return failureOf(error);
    }
  }

  /** One callback POST with transport retries; resolves with the 2xx body, throws otherwise. */
  async #callback(form: string): Promise<string> {
    let transportLeft = TRANSPORT_RETRIES;
    for (;;) {
      try {
        const res = await this.#post.request({
          path: this.cbk.pathname + this.cbk.search,
          method: 'POST',
          headers: FORM,
          body: form,
          reset: this.#reset,
          signal: this.#abort.signal,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
        const text = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) return text;
        throw new HttpStatusError(res.statusCode);
      } catch (error) {
        if (!retriable(error) || transportLeft-- === 0 || this.#closed) throw error;
        await this.#pause();
      }
    }
  }

  #pause(): Promise<void> {
    const ms = 1 + Math.floor(this.#random() * 27);
    return new Promise((resolve) => this.#scheduler.after(ms, resolve));
  }

  #client(origin: string): Client {
    return new Client(origin, {
      pipelining: 1,
      keepAliveTimeout: 60_000,
      ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
    });
  }

  #putClient(origin: string): Client {
    if (this.#put && this.#putOrigin === origin) return this.#put;
    this.#dropPutClient();
    this.#put = this.#client(origin);
    this.#putOrigin = origin;
    return this.#put;
  }

  /** The next PUT opens a new connection (the contract's retry after an error status). */
  #dropPutClient(): void {
    const old = this.#put;
    this.#put = null;
    if (old) void old.close().catch(() => {});
  }
}

/** A transport error worth the contract's quick retries: not a status, a timeout or our own abort. */
function retriable(error: unknown): boolean {
  if (error instanceof errors.RequestAbortedError || (error as Error | null)?.name === 'AbortError')
    return false;
  return failureOf(error) === 'network';
}

function failureOf(error: unknown): HttpFailure {
  if (error instanceof HttpStatusError) return `http_${error.status}`;
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError)
    return 'timeout';
  if (error instanceof errors.ConnectTimeoutError) return 'timeout';
  // Only our own bound aborts a request (a stop that waited long enough): a timeout too.
  if (error instanceof errors.RequestAbortedError || (error as Error | null)?.name === 'AbortError')
    return 'timeout';
  return 'network';
}
