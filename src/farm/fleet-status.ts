import type { DeviceIdentity, DisconnectReason, FirmwareOutcome, LoginFailure } from '../device/observer.js';
import type { MetricsDelta } from '../metrics/delta.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { DeviceMetrics } from './device-metrics.js';

export const refusalMeaning: Record<number, string> = {
  400: 'the platform says the login request is incomplete',
  401: 'bad login code or password',
  403: 'the device is disabled on the platform',
  503: 'the platform refuses more devices',
};

/**
 * The observer of `ivtfarm device`: the farm's device metrics (so the standalone fleet counts
 * exactly what a run counts), plus a plain explanation of the first failure of each kind.
 */
export class FleetObserver extends DeviceMetrics {
  private readonly explained = new Set<string>();

  constructor(
    registry: MetricsRegistry,
    private readonly out: NodeJS.WritableStream,
    /** The `host:port` a device connects to (named when it cannot). */
    private readonly targetOf: (d: DeviceIdentity) => string,
  ) {
    super(registry, 'fleet');
  }

  override loginFailed(d: DeviceIdentity, failure: LoginFailure, ms: number): void {
    super.loginFailed(d, failure, ms);
    if (failure.kind === 'refused') {
      this.explainOnce(
        `refused ${failure.status}`,
        `${d.loginCode}: login refused with HTTP ${failure.status} (${refusalMeaning[failure.status] ?? 'see the platform'}); retrying with back-off`,
      );
      return;
    }
    const target = this.targetOf(d);
    const why =
      failure.reason === 'connection_refused'
        ? `cannot connect to ${target}: connection refused — is the platform running on that port?`
        : failure.reason === 'timeout'
          ? `no answer from ${target} within the handshake timeout`
          : failure.reason === 'tls'
            ? `TLS handshake with ${target} failed (use --ca FILE or --insecure for a test certificate)`
            : `cannot connect to ${target} (${failure.reason})`;
    // Once per kind and endpoint: each dead gateway of several is named.
    this.explainOnce(`failed ${failure.reason} ${target}`, `${why}; retrying with back-off`);
  }

  override disconnected(d: DeviceIdentity, reason: DisconnectReason, detail: string): void {
    super.disconnected(d, reason, detail);
    this.explainOnce(
      `disconnect ${reason}`,
      `${d.loginCode}: disconnected (${reason}${detail ? `: ${detail}` : ''})`,
    );
  }

  override firmwareChecked(d: DeviceIdentity, outcome: FirmwareOutcome, bytes: number): void {
    super.firmwareChecked(d, outcome, bytes);
    if (outcome === 'too_large' || outcome === 'too_slow')
      this.explainOnce(
        `firmware ${outcome}`,
        `${d.loginCode}: firmware download abandoned (${outcome === 'too_large' ? `over the size cap after ${bytes} bytes` : 'over the time cap'}; see --firmware-max-bytes, --firmware-timeout-ms)`,
      );
  }

  override mediaFailed(d: DeviceIdentity, channel: number, kind: 'publish' | 'record', detail: string): void {
    super.mediaFailed(d, channel, kind, detail);
    this.explainOnce(`media ${kind}`, `${d.loginCode}: channel ${channel} ${kind} failed (${detail})`);
  }

  private explainOnce(key: string, message: string): void {
    if (this.explained.has(key)) return;
    this.explained.add(key);
    this.out.write(`${message}\n`);
  }
}

/** The fleet's metrics since it started: counters summed, gauges as of the last second. */
export class FleetTotals {
  private readonly counters = new Map<string, number>();
  private readonly histogramCounts = new Map<string, number>();
  private gauges: Record<string, number> = {};

  add(delta: MetricsDelta): void {
    for (const [key, n] of Object.entries(delta.counters))
      this.counters.set(key, (this.counters.get(key) ?? 0) + n);
    for (const [key, h] of Object.entries(delta.histograms))
      this.histogramCounts.set(key, (this.histogramCounts.get(key) ?? 0) + h.count);
    this.gauges = delta.gauges;
  }

  /** Sum of the counters whose series key starts with `prefix` (`logins{result:ok` …). */
  counter(prefix: string): number {
    return sumByPrefix(this.counters, prefix);
  }

  gauge(prefix: string): number {
    return sumByPrefix(Object.entries(this.gauges), prefix);
  }

  /** Samples recorded in the histograms whose key starts with `prefix`. */
  samples(prefix: string): number {
    return sumByPrefix(this.histogramCounts, prefix);
  }
}

function sumByPrefix(entries: Iterable<[string, number]>, prefix: string): number {
  let sum = 0;
  for (const [key, v] of entries) if (key.startsWith(prefix)) sum += v;
  return sum;
}

/** The status line of `ivtfarm device`; the media part only when the fleet sends media. */
export function fleetLine(t: FleetTotals, count: number, media: boolean): string {
  const waiting = t.gauge('devices{state:waiting}');
  const parts = [
    `online ${t.gauge('devices{state:online}')}/${count}`,
    ...(waiting > 0 ? [`waiting ${waiting}`] : []),
    `connecting ${t.gauge('devices{state:connecting}')}`,
    `backoff ${t.gauge('devices{state:backoff}')}`,
    `logins ok ${t.counter('logins{result:ok')} refused ${t.counter('logins{result:refused')} failed ${t.counter('logins{result:failed')}`,
    `keepalives ${t.counter('rpcs{method:Keepalive,direction:to_ivc')}`,
    `disconnects ${t.counter('disconnects{')}`,
  ];
  if (media) {
    parts.push(
      `streams live ${t.gauge('streams_live{')} (started ${t.counter('publishes{result:ok')}, failed ${t.counter('publishes{result:failed')})`,
      `recordings live ${t.gauge('recordings_live')} (segments uploaded ${t.samples('segment_upload_duration')}, failed ${t.counter('uploads_failed{')})`,
      `alarm pictures ${t.samples('alarm_picture_upload_duration')}`,
    );
  }
  const firmware = t.counter('firmware_checks{');
  if (firmware > 0)
    parts.push(
      `firmware upgraded ${t.counter('firmware_checks{result:upgraded')} refused ${t.counter('firmware_checks{result:too_')}`,
    );
  return parts.join('  ');
}
