import type { ApiPlan } from '../api/actions.js';
import type { VendorTraits } from '../device/profile.js';
// The resolved scenario handed to the rest of the farm: defaults applied, durations in
// milliseconds, rates per second, bitrates in bit/s, sizes in bytes, paths absolute.
// Plain data only (no classes), so it crosses worker_threads and JSON unchanged.

import type { AlarmTypeName } from '../core/alarm-types.js';
import type { Quality } from '../core/quality.js';
import type { ThresholdsConfig } from '../metrics/thresholds.js';

export type { Quality };
export type AlarmType = AlarmTypeName;

export type DeviceKind = 'camera' | 'nvr';
export type DeviceProfile = 'spec' | 'vendor';
export type ReportFormat = 'html' | 'json' | 'junit';
export type PlatformEventName =
  | 'SyncTime'
  | 'UpgradeFirmware'
  | 'CtrlPTZ'
  | 'GotoPTZPreset'
  | 'CtrlPTZPresetTour'
  | 'CtrlPTZPatrol';

export type Target =
  | { kind: 'embedded' }
  | {
      kind: 'remote';
      /** The first of `urls` (a single-URL target has only this one). */
      url: string;
      /** Every device endpoint (a platform's access gateways); devices spread by `targetUrlFor`. */
      urls: string[];
      /** absolute path */
      ca: string | null;
      insecure: boolean;
    };

/** Where the password came from; safe to print (never the value). */
export type PasswordSource =
  | { kind: 'default' }
  | { kind: 'literal' }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string };

/** Misbehaviour injected into a device; same fields as the device layer's DeviceFaults. 0 = never. */
export interface Faults {
  /** Delay before answering each platform request. */
  slowAnswerMs: number;
  /** Probability that a platform request is never answered (the platform's 20 s timeout). */
  dropAnswerProbability: number;
  /** Probability, per keepalive, of sending a malformed packet just before it. */
  malformedProbability: number;
}

/** `tags:` of the run or of a mix entry: carried into summary.json, the report, JUnit and Prometheus. */
export type Tags = Record<string, string>;

/** How the file was parameterised; values of secret fields are masked wherever they are shown. */
export interface Parameters {
  /** Names of the `${VAR}` variables the file used (never their values). */
  variables: string[];
  /** `--set path=value` overrides, in the order given. */
  overrides: Array<{ path: string; value: unknown }>;
}

export interface MixEntry {
  name: string;
  tags: Tags;
  weight: number;
  kind: DeviceKind;
  channels: number;
  profile: DeviceProfile;
  /** Habits switched over the profile's (src/device/profile.ts `VendorTraits`); null: none. */
  traits: Partial<VendorTraits> | null;
  faults: Faults;
  hardwareModel: string;
  firmwareModel: string;
}

export interface Devices {
  count: number;
  /** Template: `{index}`, `{index:05}`, `{shard}`; see `compileLoginCode`. */
  loginCode: string;
  /** The secret itself. Never log it: use `maskSecrets(scenario)`. */
  password: string;
  passwordSource: PasswordSource;
  mix: MixEntry[];
  /** Empty: let the OS choose. CIDR blocks are already expanded. */
  sourceAddresses: string[];
  startupJitterMs: number;
  /** Devices that publish by themselves (a standing SetRTMPPublishConfig), or null. */
  push: DevicePush | null;
}

/** `devices.push`: a share of the devices push RTMP from login on, without being asked. */
export interface DevicePush {
  /** `embedded` (the embedded platform's ingest) or an rtmp:// template with {login_code} and {channel}. */
  url: string;
  quality: Quality;
  /** The first N channels of each pushing device push. */
  channels: number;
  fraction: number;
}

export interface Stage {
  /** For `during: <name>` in thresholds. */
  name?: string;
  durationMs: number;
  /** Concurrent devices (closed model) or logins per second (open model). */
  target: number;
}

export type Load =
  | { model: 'closed'; stages: Stage[] }
  | { model: 'open' /** logins per second at t = 0 */; startRate: number; stages: Stage[] };

export interface AlarmPlan {
  /** Alarm starts per channel per second. */
  perChannelRate: number;
  /** Probabilities (sum 1) by alarm type. */
  types: Record<AlarmType, number>;
  /** Time from `start` to `end`. */
  durationMs: number;
  /** Upload a JPEG after each start. */
  picture: boolean;
}

interface EventBase {
  atMs: number;
  /** The affected devices are spread evenly over this time (0 = all at once: a storm). */
  overMs: number;
}
export type ScenarioEvent =
  | (EventBase & {
      action: 'disconnect';
      fraction: number /** null: the device's own back-off */;
      reconnectAfterMs: number | null;
    })
  | (EventBase & {
      action: 'reboot';
      fraction: number /** null: the whole device */;
      channel: number | null;
      downtimeMs: number;
    })
  | (EventBase & { action: 'upgrade'; fraction: number; firmwareModel: string | null; durationMs: number })
  | (EventBase & { action: 'alarms'; alarms: AlarmPlan });

export interface OrderPlan {
  /** Share of online channels that get the order. */
  fraction: number;
  /** Exact number of channels instead of a fraction (null: use `fraction`). */
  count: number | null;
  quality: Quality;
  /** bit/s; 0 = no limit. */
  maxBitrate: number;
  /** Delay after the channel comes online. */
  afterMs: number;
  /** How long before the platform stops it; null = until the end of the run. */
  durationMs: number | null;
  /** Remote target: the `api.actions` entry that places the order (open a live view, start recording). */
  action: string | null;
  /** Remote target: the `api.actions` entry that ends it after `durationMs` (null: none). */
  stopAction: string | null;
}

export interface RecordPlan extends OrderPlan {
  segDuration: number;
  segMaxSize: number;
  segMaxCount: number;
  prerecordSeconds: number;
}

export interface PlatformEvent {
  atMs: number;
  event: PlatformEventName;
  fraction: number;
  params: Record<string, unknown> | null;
  /** Remote target: the `api.actions` entry called for each chosen channel instead of sending the event. */
  action: string | null;
}

/**
 * What the platform orders once devices are online: the embedded reference IVC orders it itself;
 * a remote platform is asked through its user API (`api:` actions named in the plan).
 */
export interface PlatformPlan {
  publish: OrderPlan | null;
  record: RecordPlan | null;
  events: PlatformEvent[];
  /** Test knob: refuse every login after this many successful ones (null: never). */
  refuseLoginsAfter: number | null;
  /** Test knob: the embedded ingest refuses publishes past this many live streams (null: never). */
  refuseStreamsAfter: number | null;
  /** The embedded platform counts vendor quirks as violations. */
  strict: boolean;
}

/** `viewers:` — one group of players pulling the pushed streams back (docs/viewers.md). */
export interface ViewerGroup {
  protocol: 'rtmp' | 'http-flv' | 'hls';
  /** Template with {login_code}, {channel}, {quality}; `embedded`: the embedded ingest's playback. */
  url: string;
  /** Players per chosen stream. */
  perStream: number;
  /** Share of the pushed streams that get players (chosen by the seed). */
  fraction: number;
  /** Since the load began: the first player starts. */
  startMs: number;
  /** Players start spread over this. */
  rampMs: number;
  /** How long all of them play after the ramp; null: until the end of the run. */
  durationMs: number | null;
  bufferMs: number;
  firstFrameTimeoutMs: number;
  liveEdgeSegments: number;
}

/** One service level judged at every step of the limit finder. */
export interface ServiceLevel {
  /** Metric key as written, e.g. `logins{result:refused}`. */
  metric: string;
  /** k6-style expression, e.g. `rate<0.001`. */
  expression: string;
}

/** The limit finder (`capacity:`): the load steps up until a service level breaks. */
export interface CapacityPlan {
  /**
   * What steps up: concurrent devices, concurrent streams (platform orders or standing pushes),
   * logins/s, players, or the request rate of the `http_load:` blocks that give no rate of their
   * own (`api_rate`).
   */
  mode: 'devices' | 'streams' | 'login_rate' | 'viewers' | 'api_rate';
  start: number;
  step: number;
  max: number;
  rampMs: number;
  holdMs: number;
  /** A service level must fail this long within a hold for the step to count as broken. */
  sustainMs: number;
  /** Devices / streams mode: at least this share of the level must be online / live during each hold. */
  onlineRatio: number;
  /** Devices mode: share of the online devices that reconnect per second during each hold (0: none). */
  churn: number;
  /**
   * Streams mode by standing pushes (`devices.push`, no `platform.publish`): the streams each
   * device pushes; the staircase then steps the devices (level / this, rounded up). Null: the
   * platform's orders climb the staircase.
   */
  streamsPerDevice: number | null;
  serviceLevels: ServiceLevel[];
}

/** One HTTP request as autocannon writes it: the path (with query) goes to the load's origin. */
export interface HttpRequestSpec {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** null: no body. */
  body: string | null;
  /** Values taken from the answer (name → JSON path) for `{name}` in the sequence's later requests. */
  capture: Record<string, string>;
}

/** What an `http_load:` block sends: its own requests, or an action of the `api:` block. */
export type HttpLoadRequests =
  | {
      kind: 'requests' /** One request, or a sequence each connection loops over. */;
      requests: HttpRequestSpec[];
    }
  | {
      kind: 'action' /** Resolved against the scenario's `api:` block when the run starts. */;
      action: string;
    };

/** `http_load:` — steady HTTP load beside the devices, run by autocannon (src/http-load). */
export interface HttpLoadPlan {
  /** The `load` label of its metrics. */
  name: string;
  /** `http(s)://host:port`; null: the target platform's own HTTP origin, known when the run starts. */
  origin: string | null;
  send: HttpLoadRequests;
  connections: number;
  /** Requests per second when the load starts; null: as fast as the connections answer. */
  rate: number | null;
  /** The rate over time (from `rate`, or 0); empty: `rate` throughout. */
  stages: Stage[];
  /** The `api_rate` limit finder sets this block's rate (it gives neither `rate` nor `stages`). */
  steppedByCapacity: boolean;
  /** From the load start. */
  startMs: number;
  durationMs: number;
  timeoutMs: number;
}

/** `k6:` — a k6 script run beside the devices when a `k6` binary is on the PATH (src/k6). */
export interface K6Plan {
  /** Absolute path. */
  script: string;
  args: string[];
  env: Record<string, string>;
}

/** `checks:` — the built-in run checks; each can be turned off. */
export interface RunChecks {
  /** Connect once to each target before the load starts; stop at once when one is unreachable or refuses. */
  preflight: boolean;
  /** Fail when no device ever came online. */
  anyOnline: boolean;
  /** Fail when more than this share of the started devices never came online (null: off). */
  neverOnline: number | null;
  /** Fail when devices were lost to a crashed worker. */
  lostDevices: boolean;
  /** Fail when players were lost to a crashed viewer thread. */
  lostViewers: boolean;
  /** Fail a capacity search in which no step held (it names no capacity). */
  capacityHeld: boolean;
}

export interface Scenario {
  /** Absolute path of the file, null when parsed from a string. */
  file: string | null;
  name: string;
  description: string;
  tags: Tags;
  parameters: Parameters;
  seed: number;
  /** Hard cap of the run. */
  durationMs: number;
  target: Target;
  devices: Devices;
  load: Load;
  events: ScenarioEvent[];
  alarms: AlarmPlan | null;
  /** Players pulling the pushed streams back (empty: none). */
  viewers: ViewerGroup[];
  /** The embedded platform's orders, or a remote one's through `api:` (null: none). */
  platform: PlatformPlan | null;
  /** The platform's own HTTP API (`api:`): actions the platform plan and HTTP load call. */
  api: ApiPlan | null;
  media: Record<Quality, number>;
  /** As written in the file; parsed (once) by metrics/thresholds.ts. */
  thresholds: ThresholdsConfig;
  /** The limit finder; when set, `load` is the staircase it plays. */
  capacity: CapacityPlan | null;
  /** `http_load:` blocks, in file order (empty: none). */
  httpLoad: HttpLoadPlan[];
  k6: K6Plan | null;
  workers: number;
  /** A crashed worker's devices are lost; the run goes on with the others, or stops. */
  onWorkerCrash: 'continue' | 'abort';
  checks: RunChecks;
  output: { dir: string };
  report: { title: string; formats: ReportFormat[]; percentiles: number[]; baseline: string | null };
}
