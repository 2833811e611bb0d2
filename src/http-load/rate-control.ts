// Changes the request rate of a running autocannon instance. autocannon fixes `overallRate` when
// it starts and splits it over its connections (each sends at most `client.rate` requests per
// second of its own). Stages and the `api_rate` staircase need the rate to move without opening
// new connections, so the clients handed to `setupClient` get their share set here, every
// control tick. This relies on autocannon 9's Client (test/http-load.test.ts checks it still
// holds): `rate` is read on every request and a client over its share waits for its next second;
// a negative share never sends (0 would mean "no limit"); a client left without a share must be
// started again by `_doRequest()` (its own second only retries once), and its request timer
// (`timeoutTicker`) held off, or the idle connection would be counted as a timeout.

import type autocannon from 'autocannon';

/** The part of autocannon's Client this module touches. */
interface RateLimitedClient {
  rate: number;
  timeout: number;
  timeoutTicker: { reschedule(ms: number): void };
  pipelinedRequests: { size(): number };
  destroyed: boolean;
  _doRequest(): void;
}

export const PAUSED = -1;

/** Requests per second for connection `i` of `n`, as autocannon splits `overallRate`; PAUSED for none. */
export function shareOf(total: number, i: number, n: number): number {
  const whole = Math.max(0, Math.round(total));
  const share = Math.floor(whole / n) + (i < whole % n ? 1 : 0);
  return share > 0 ? share : PAUSED;
}

/** autocannon needs a start rate of at least one request per connection, or it drops connections. */
export function startRateFor(connections: number): number {
  return connections * 1_000_000;
}

export class RateControl {
  private readonly clients: RateLimitedClient[] = [];
  private total: number;

  /** `initial` null: no limit (the connections send as fast as they are answered) until `pause`. */
  constructor(private readonly initial: number | null) {
    this.total = initial ?? 0;
  }

  get limited(): boolean {
    return this.initial !== null;
  }

  /** For autocannon's `setupClient`: takes the connection's share before its first request. */
  readonly adopt = (client: autocannon.Client): void => {
    this.clients.push(client as unknown as RateLimitedClient);
    if (this.limited) this.spread();
  };

  get rate(): number {
    return this.total;
  }

  set(total: number): void {
    if (!this.limited || Math.round(total) === Math.round(this.total)) return;
    this.total = total;
    this.spread();
  }

  /** No connection sends another request (answers still arrive). */
  pause(): void {
    this.total = 0;
    for (const c of this.clients) c.rate = PAUSED;
  }

  /** Every control tick: connections without a share are idle on purpose, not timing out. */
  holdIdle(): void {
    for (const c of this.clients)
      if (c.rate === PAUSED && !c.destroyed) c.timeoutTicker.reschedule(c.timeout);
  }

  private spread(): void {
    const n = this.clients.length;
    for (let i = 0; i < n; i++) {
      const c = this.clients[i]!;
      const was = c.rate;
      c.rate = shareOf(this.total, i, n);
      if (was === PAUSED && c.rate !== PAUSED && !c.destroyed && c.pipelinedRequests.size() === 0)
        c._doRequest();
    }
  }
}
