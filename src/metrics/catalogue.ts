// Every metric the farm records: name, kind, unit, labels, and for counters what `rate` divides by.
// The registry refuses names or label keys not listed here, so a typo fails at handle creation
// instead of producing a silently empty series. docs/metrics.md explains each entry.

import { ALARM_TYPE_NAMES } from '../core/alarm-types.js';
import { DISCONNECT_REASONS } from '../core/disconnect-reasons.js';
import type { LabelKey, Labels } from './labels.js';

/**
 * Each second, each live stream's achieved bitrate is recorded over the trailing window of this
 * many seconds: one second alone swings with the GOP (a key frame is several times a P frame).
 * A stream's first sample is therefore taken this long after it went live.
 */
export const BITRATE_WINDOW_S = 5;

export type MetricKind = 'counter' | 'gauge' | 'histogram';
export type MetricUnit = 'ms' | 'bytes' | 'ratio' | 'percent' | 'count';

/**
 * `rate` of a counter selection = selected increments / denominator increments.
 * Denominator = counter `of` (with `where` applied), filtered by the threshold's own label
 * filter restricted to the denominator's labels, minus the `outcome` labels. With `of` equal to
 * the metric itself this is "fraction of events having this outcome".
 */
export interface RateDef {
  of: string;
  where?: Labels;
  outcome?: readonly LabelKey[];
}

export interface MetricDef {
  name: string;
  kind: MetricKind;
  unit: MetricUnit;
  description: string;
  labels: readonly LabelKey[];
  /** Known label values, for documentation and dashboards (not enforced). */
  values?: Partial<Record<LabelKey, readonly string[]>>;
  /** How gauges of several workers/shards combine: sum (default) or max. */
  combine?: 'sum' | 'max';
  rate?: RateDef;
}

/** Integer units per metric unit inside the HDR histograms (ms are kept at 1 µs resolution). */
export function histogramScale(unit: MetricUnit): number {
  switch (unit) {
    case 'ms':
      return 1000;
    case 'ratio':
      return 1_000_000;
    case 'percent':
      return 1000;
    default:
      return 1;
  }
}

export const CATALOGUE: readonly MetricDef[] = [
  // --- fleet and connections
  {
    name: 'devices',
    kind: 'gauge',
    unit: 'count',
    labels: ['state'],
    values: { state: ['waiting', 'connecting', 'online', 'backoff', 'upgrading', 'rebooting'] },
    description: 'Simulated devices currently in each connection state.',
  },
  {
    name: 'devices_started',
    kind: 'counter',
    unit: 'count',
    labels: [],
    description: 'Devices started at least once (each counted once per run).',
  },
  {
    name: 'devices_reached_online',
    kind: 'counter',
    unit: 'count',
    labels: [],
    description:
      'Devices that logged in at least once (each counted once per run); the run checks compare it with devices_started.',
  },
  {
    name: 'devices_target',
    kind: 'gauge',
    unit: 'count',
    labels: [],
    description: 'Devices the current stage wants running (the ramp target).',
  },
  {
    name: 'logins',
    kind: 'counter',
    unit: 'count',
    labels: ['result', 'reason', 'mix'],
    values: {
      result: ['ok', 'refused', 'failed'],
      reason: ['http_401', 'http_403', 'http_other', 'timeout', 'network', 'tls'],
    },
    rate: { of: 'logins', outcome: ['result', 'reason'] },
    description:
      'Login attempts (WebSocket upgrades) by outcome: ok, refused (the platform answered the upgrade with an error status), failed (no answer: network, timeout).',
  },
  {
    name: 'login_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description:
      'From opening the TCP connection to the accepted WebSocket upgrade (successful logins only).',
  },
  {
    name: 'keepalive_rtt',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'Keepalive request sent → its response received.',
  },
  {
    name: 'keepalive_lateness',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description:
      'How late each periodic keepalive left the device after it was due (timer lateness of the load generator, not the platform).',
  },
  {
    name: 'rpcs',
    kind: 'counter',
    unit: 'count',
    labels: ['method', 'direction', 'mix'],
    values: { direction: ['to_ivc', 'from_ivc'] },
    description:
      'RPCs completed, by method and direction: to_ivc = the device called the platform (answered or timed out); from_ivc = the platform called the device (device answered).',
  },
  {
    name: 'rpc_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['method', 'direction'],
    values: { direction: ['to_ivc', 'from_ivc'] },
    description:
      'RPC request → response time, by method and direction (to_ivc: platform response time seen by the device; from_ivc: device handling time). Timeouts are not recorded here.',
  },
  {
    name: 'rpc_errors',
    kind: 'counter',
    unit: 'count',
    labels: ['method', 'code', 'mix'],
    rate: { of: 'rpcs' },
    description:
      'RPCs that ended in an error response (code = the protocol error code) or without any (code = timeout).',
  },
  {
    name: 'disconnects',
    kind: 'counter',
    unit: 'count',
    labels: ['reason', 'mix'],
    values: { reason: DISCONNECT_REASONS },
    rate: { of: 'logins', where: { result: 'ok' } },
    description: 'Established sessions that ended, by reason.',
  },
  {
    name: 'alarms',
    kind: 'counter',
    unit: 'count',
    labels: ['type', 'mix'],
    values: { type: ALARM_TYPE_NAMES },
    description: 'Alarms raised by devices (AlarmNotify with state start).',
  },
  {
    name: 'alarm_rtt',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'AlarmNotify request → response.',
  },
  {
    name: 'alarm_picture_upload_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'POST of the alarm JPEG to pic_upload_url, request start → response end.',
  },
  {
    name: 'events_received',
    kind: 'counter',
    unit: 'count',
    labels: ['event', 'mix'],
    rate: { of: 'events_received', outcome: ['event'] },
    description: 'Events received from the platform, by event name (unknown names counted as event=other).',
  },
  {
    name: 'unknown_events',
    kind: 'counter',
    unit: 'count',
    labels: [],
    rate: { of: 'events_received' },
    description: 'Events with a name the device does not know (ignored, as the contract says).',
  },
  // --- media
  {
    name: 'publish_start_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['quality'],
    description: 'RTMPPublish received → first media tag written to the RTMP server.',
  },
  {
    name: 'publishes',
    kind: 'counter',
    unit: 'count',
    labels: ['result', 'reason', 'quality'],
    values: { result: ['ok', 'refused', 'failed'] },
    rate: { of: 'publishes', outcome: ['result', 'reason'] },
    description:
      'RTMPPublish requests by outcome: ok (streaming started), refused (error 11/12 answered), failed (RTMP connect/publish failed).',
  },
  {
    name: 'streams_live',
    kind: 'gauge',
    unit: 'count',
    labels: ['quality'],
    description: 'RTMP streams currently being pushed.',
  },
  {
    name: 'recordings_live',
    kind: 'gauge',
    unit: 'count',
    labels: [],
    description: 'Cloud recordings currently running.',
  },
  {
    name: 'bytes_sent',
    kind: 'counter',
    unit: 'bytes',
    labels: ['kind'],
    values: { kind: ['rtmp', 'upload', 'picture'] },
    description: 'Payload bytes written: RTMP media, TS segment uploads, alarm pictures.',
  },
  {
    name: 'bitrate_achieved_ratio',
    kind: 'histogram',
    unit: 'ratio',
    labels: ['quality'],
    description:
      'Per stream and second: bytes actually written × 8 / nominal bitrate over the last 5 s (1 = on time); a stream is first sampled 5 s after it went live.',
  },
  {
    name: 'pacing_lag',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'How late a media write happened relative to its timestamp schedule.',
  },
  {
    name: 'segments_created',
    kind: 'counter',
    unit: 'count',
    labels: [],
    description: 'TS segments cut by recordings (before any upload).',
  },
  {
    name: 'segment_create_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'POST cbk_url op=create → response.',
  },
  {
    name: 'segment_upload_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description: 'PUT of one TS segment, request start → response end (includes the deliberate pacing).',
  },
  {
    name: 'uploads_failed',
    kind: 'counter',
    unit: 'count',
    labels: ['reason'],
    rate: { of: 'segments_created' },
    description: 'Segment uploads that failed after the retry (op=fail sent).',
  },
  {
    name: 'segments_dropped',
    kind: 'counter',
    unit: 'count',
    labels: ['reason'],
    rate: { of: 'segments_created' },
    description:
      'Finished segments never uploaded: queue_full (the pre-record queue or memory bound was full), stopped (still waiting when the recording stopped). Segments under 1 s, which the contract discards, are not counted.',
  },
  {
    name: 'segment_creates_failed',
    kind: 'counter',
    unit: 'count',
    labels: ['reason'],
    description:
      'op=create (or fail/save) requests to cbk_url without a usable answer: http_<status>, network, timeout, bad_answer. An empty name/uri ("not now") is not a failure.',
  },
  // --- what devices refused or were told to do
  {
    name: 'firmware_checks',
    kind: 'counter',
    unit: 'count',
    labels: ['result'],
    values: { result: ['upgraded', 'skipped', 'failed', 'too_large', 'too_slow'] },
    rate: { of: 'firmware_checks', outcome: ['result'] },
    description:
      'Firmware checks (UpgradeFirmware, daily check) by outcome: upgraded, skipped (same version or not http), failed, too_large (download passed the byte cap), too_slow (not done within the time cap).',
  },
  {
    name: 'events_rejected',
    kind: 'counter',
    unit: 'count',
    labels: ['event'],
    rate: { of: 'events_received' },
    description:
      'Known events the device ignored: invalid params, a channel that does not exist or is offline, an unknown preset or tour.',
  },
  {
    name: 'media_failures',
    kind: 'counter',
    unit: 'count',
    labels: ['kind'],
    values: { kind: ['publish', 'record'] },
    description:
      'Pushes and recordings a channel dropped because the media layer failed (the channel went back to state 1).',
  },
  {
    name: 'faults_injected',
    kind: 'counter',
    unit: 'count',
    labels: ['type'],
    values: { type: ['slow_answer', 'dropped_answer', 'malformed_packet'] },
    description: 'Faults the scenario told devices to show, as they actually fired.',
  },
  // --- HTTP load beside the devices (`http_load:`, src/http-load) and k6 results folded in (src/k6)
  {
    name: 'http_requests',
    kind: 'counter',
    unit: 'count',
    labels: ['load', 'result', 'status'],
    values: { result: ['ok', 'error', 'failed'] },
    rate: { of: 'http_requests', outcome: ['result', 'status'] },
    description:
      'HTTP requests of an `http_load:` block (load = its name; k6 = a k6 script) by outcome: ok (status < 400), error (status >= 400), failed (no answer: status timeout or network).',
  },
  {
    name: 'http_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['load'],
    description:
      'HTTP request written → response complete, per `http_load:` block (every answered request, whatever its status).',
  },
  {
    name: 'http_rate',
    kind: 'gauge',
    unit: 'count',
    labels: ['load'],
    description:
      'Requests per second an `http_load:` block achieved in the last second (answers and failures); the `api_rate` limit finder compares it with each step.',
  },
  {
    name: 'http_rate_target',
    kind: 'gauge',
    unit: 'count',
    labels: ['load'],
    description: 'Requests per second an `http_load:` block aims at now (its rate, stages or capacity step).',
  },
  {
    name: 'k6_counter',
    kind: 'counter',
    unit: 'count',
    labels: ['metric'],
    description: 'A k6 counter metric (metric = its k6 name) from a k6 script run beside the devices.',
  },
  {
    name: 'k6_gauge',
    kind: 'gauge',
    unit: 'count',
    labels: ['metric'],
    combine: 'max',
    description: 'A k6 gauge metric (its last value in each second).',
  },
  {
    name: 'k6_trend',
    kind: 'histogram',
    unit: 'ms',
    labels: ['metric'],
    description:
      'A k6 trend metric (k6 time trends are in ms; a trend of other values keeps its numbers, read as ms).',
  },
  {
    name: 'k6_rate',
    kind: 'counter',
    unit: 'count',
    labels: ['metric', 'result'],
    values: { result: ['true', 'false'] },
    rate: { of: 'k6_rate', outcome: ['result'] },
    description:
      "A k6 rate metric (checks, http_req_failed, custom rates): its samples by value; `k6_rate{metric:checks,result:false}: rate<0.01` is k6's `checks: rate>0.99`.",
  },
  // --- load generator health
  {
    name: 'eventloop_delay',
    kind: 'histogram',
    unit: 'ms',
    labels: ['worker'],
    description: 'Event-loop delay per thread (perf_hooks.monitorEventLoopDelay, resolution subtracted).',
  },
  {
    name: 'cpu_percent',
    kind: 'gauge',
    unit: 'percent',
    labels: ['worker'],
    combine: 'max',
    description:
      'worker=<id>: 100 × event-loop utilisation of that thread; worker=process: process CPU time / wall time × 100 (may exceed 100 with several threads).',
  },
  {
    name: 'rss_bytes',
    kind: 'gauge',
    unit: 'bytes',
    labels: [],
    description: 'Resident set size of the generator process.',
  },
  {
    name: 'heap_used_bytes',
    kind: 'gauge',
    unit: 'bytes',
    labels: ['worker'],
    description: 'V8 heap in use per thread.',
  },
  {
    name: 'heap_trim_pause',
    kind: 'histogram',
    unit: 'ms',
    labels: ['worker'],
    description:
      'Memory-reducing GCs a device thread ran once its devices settled after a burst (count), and how long each held its event loop.',
  },
  // --- the platform's own HTTP API (`api:`, src/api) and the streams its users order through it
  {
    name: 'api_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['action'],
    description:
      'Platform API request → whole answer read, by action (`api.actions` name; `auth` for the login step). Requests without an answer (timeout, network error) are counted in api_requests only.',
  },
  {
    name: 'api_requests',
    kind: 'counter',
    unit: 'count',
    labels: ['action', 'status'],
    rate: { of: 'api_requests', outcome: ['status'] },
    description:
      'Platform API requests by action and outcome: the HTTP status of the answer, or timeout / error when none came.',
  },
  {
    name: 'order_delivery_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['method'],
    values: { method: ['RTMPPublish', 'StartCloudRecord'] },
    description:
      'A user API call that orders a stream or recording → the device receiving the order (RTMPPublish, StartCloudRecord) from the platform.',
  },
  {
    name: 'time_to_live',
    kind: 'histogram',
    unit: 'ms',
    labels: [],
    description:
      "A user API call that opens a live view → the platform's RTMP server accepting the stream (NetStream.Publish.Start) and the first media tag written to it.",
  },
  // --- viewers (src/viewer): players pulling streams back; kind = protocol (rtmp, http-flv, hls)
  {
    name: 'viewer_ttff',
    kind: 'histogram',
    unit: 'ms',
    labels: ['kind'],
    description: 'Player start (connect / first request) → first key frame received: time to first frame.',
  },
  {
    name: 'viewer_stalls',
    kind: 'counter',
    unit: 'count',
    labels: ['kind'],
    description:
      'Stalls: a video frame arrived after its playout time in the playout buffer model (docs/viewers.md).',
  },
  {
    name: 'viewer_stall_duration',
    kind: 'histogram',
    unit: 'ms',
    labels: ['kind'],
    description: 'Per stall: frozen time until playback resumed (includes the re-buffering).',
  },
  {
    name: 'viewer_delay',
    kind: 'histogram',
    unit: 'ms',
    labels: ['kind'],
    description:
      'End-to-end delay per stamped key frame: receive time − the send time the publisher put in the stream.',
  },
  {
    name: 'viewer_bytes',
    kind: 'counter',
    unit: 'bytes',
    labels: ['kind'],
    description: 'Bytes received by players (protocol overhead, playlists included).',
  },
  {
    name: 'viewers_playing',
    kind: 'gauge',
    unit: 'count',
    labels: ['kind'],
    description: 'Players that have received a first frame and are still playing.',
  },
  {
    name: 'viewer_failures',
    kind: 'counter',
    unit: 'count',
    labels: ['kind', 'reason'],
    description:
      'Players that failed: bad_url, connect_refused, connect_timeout, handshake_failed, play_refused, http_status, no_media, closed, protocol_error, socket_error.',
  },
];

export type Catalogue = ReadonlyMap<string, MetricDef>;

export function buildCatalogue(defs: readonly MetricDef[] = CATALOGUE): Catalogue {
  return new Map(defs.map((d) => [d.name, d]));
}

export const DEFAULT_CATALOGUE: Catalogue = buildCatalogue();
