// Changes the request rate of a running autocannon instance. autocannon fixes `overallRate` when
// it starts and splits it over its connections (each sends at most `client.rate` requests per
// second of its own). Stages and the `api_rate` staircase need the rate to move without opening
// new connections, so the clients handed to `setupClient` get their share set here, every
// control tick. This relies on autocannon 9's Client: `rate` is read on every request, a
// client over its share pauses and resumes on its next second, and a negative share never
// sends (a share of 0 would mean "no limit"). test/http-load.test.ts checks that it still does.

import type autocannon from 'autocannon';

/** The part of autocannon's Client this module touches. */
interface RateLimitedClient {
  rate: number;
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

  private spread(): void {
    const n = this.clients.length;
    for (let i = 0; i < n; i++) this.clients[i]!.rate = shareOf(this.total, i, n);
  }
}
