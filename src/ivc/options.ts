import type { RegistryEntry } from './credentials.js';
import type { UserApiOptions } from './user-api.js';

/** One firmware of the catalogue `GetFirmware` answers from. */
export interface FirmwareEntry {
  /** Only devices of this hardware model get it; absent: any model (the fallback entry). */
  hardware_model?: string;
  /** Newest firmware version reported to the device. */
  firmware_model: string;
  /** File name under `/firmware/`; defaults to `<firmware_model>.bin`. */
  name?: string;
  /** Size of the generated blob in bytes (default 1 MiB). */
  size?: number;
}

export interface IngestOptions {
  /** RTMP port (default 0: a free one). */
  port?: number;
  /** Only count bytes of a publish, do not parse tags (cheaper under load). */
  discard?: boolean;
  /** Test knob: refuse a publish (NetStream.Publish.BadName) once this many streams are live. */
  maxStreams?: number;
}

/** How logins are checked. Every given check must pass; with none given every login is accepted. */
export interface AuthOptions {
  /** One password shared by every device. */
  password?: string;
  /** Login codes must match this regex (anchored: the whole code must match). */
  loginCodePattern?: string | RegExp;
  /** A JSON or YAML file: a list (or `{devices: [...]}`) of `{login_code, password, disabled?}`. */
  registryFile?: string;
  /** The same list given in-process. */
  registry?: RegistryEntry[];
}

/** Test knobs of the cloud-recording endpoints (contract item 5). */
export interface RecordOptions {
  /** The first N `op=create` of each session answer an empty name/uri ("not now": pre-recording). */
  emptyCreates?: number;
  /** Every segment PUT is refused with HTTP 500 (to exercise the device's retry and `op=fail`). */
  failPuts?: boolean;
}

export interface IvcOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** TCP port; 0 picks a free one (default 0). */
  port?: number;
  auth?: AuthOptions;
  /** Refuse logins with HTTP 503 once this many devices are online (test knob for limit finding). */
  maxDevices?: number;
  /** Artificial delay before a login is answered, in ms (simulates a slow platform). */
  loginDelayMs?: number;
  /** Time the platform waits for a device's answer before the timeout fault closes it (default 20000). */
  rpcTimeoutMs?: number;
  /** The platform's own first request seq (default 1). */
  firstSeq?: number;
  /** Close a device whose answer carries an unexpected seq (default true, as the document says). */
  closeOnSeqMismatch?: boolean;
  /**
   * Largest accepted WebSocket message in bytes (default 1 MiB): a larger frame is refused from its
   * header, before it is buffered, and the device closed with 1009 (`limit_message`).
   */
  maxPayload?: number;
  /** Expected keepalive period in ms (default 10000). */
  keepaliveMs?: number;
  /** Allowed drift of a keepalive interval either way before it counts as late/early (default 2000 ms). */
  keepaliveToleranceMs?: number;
  /** The first keepalive must arrive this soon after login (default 3000 ms). */
  firstKeepaliveMs?: number;
  /** Firmware catalogue for `GetFirmware` (default: one 1 MiB entry "ivc-fw-1.0.0"). */
  firmware?: FirmwareEntry[];
  /** Base of RTMP publish URLs ordered by command plans, e.g. `rtmp://127.0.0.1:1935/live`. */
  rtmpUrlBase?: string;
  /**
   * Run the RTMP ingest server alongside (default off): `true` or `{port, discard}`. Unless
   * `rtmpUrlBase` is given, publish orders then point at `rtmp://<host>:<port>/live`.
   */
  rtmpIngest?: boolean | IngestOptions;
  record?: RecordOptions;
  /** Host name used in URLs handed to devices (default: the bound host). */
  publicHost?: string;
  /**
   * Bearer token every admin API and monitor request must carry (default none). Required when
   * `host` is not a loopback address. Never logged or echoed.
   */
  adminToken?: string;
  /**
   * More origins (`https://ivc.example:8443`) or host names (`ivc.lab`) the admin API and the
   * monitor accept besides loopback names, the bound host and `publicHost`.
   */
  allowedOrigins?: string[];
  /**
   * The user API (`POST /api/login`, live views, recordings; see user-api.ts): who may log in and
   * how long a token lives (default none: every login is refused with 403). Never logged.
   */
  userApi?: UserApiOptions;
  /** A connection must complete its request head or WebSocket upgrade within this time (default 10000 ms). */
  handshakeTimeoutMs?: number;
  /** A whole HTTP request, body included, must arrive within this time (default 120000 ms). */
  requestTimeoutMs?: number;
  /** A logged-in device silent for this many keepalive periods is closed (default 3). */
  keepaliveMissingPeriods?: number;
  limits?: LimitOptions;
  /**
   * Count the vendor firmware's known deviations (conformance.ts `vendorQuirkRules`) as
   * violations too (default false: they are counted apart, as `vendor_quirk`).
   */
  strict?: boolean;
  /**
   * Scheme of the `cbk_url` handed out in StartCloudRecord (default `ivr`: the vendor's segment
   * writer knows only `ivr://`, which means plain http on the same host and port).
   */
  recordUrlScheme?: 'ivr' | 'http';
}

/** Bounds on what one client can make the platform keep (each breach is a counted violation). */
export interface LimitOptions {
  /** Channels kept per device; a Keepalive with more keeps the first ones (default 256). */
  maxChannels?: number;
  /** Longest string kept from a device: login code, models, stream ids, recording names (default 256). */
  maxStringLength?: number;
  /** Largest Keepalive message whose channels are kept (default 65536 bytes). */
  maxKeepaliveBytes?: number;
  /** Offline device records kept; past it the oldest are forgotten (default 10000). */
  maxOfflineDevices?: number;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  host: string;
  port: number;
  auth: AuthOptions;
  maxDevices: number;
  loginDelayMs: number;
  rpcTimeoutMs: number;
  firstSeq: number;
  closeOnSeqMismatch: boolean;
  maxPayload: number;
  keepaliveMs: number;
  keepaliveToleranceMs: number;
  firstKeepaliveMs: number;
  firmware: Required<FirmwareEntry>[];
  rtmpUrlBase: string | null;
  rtmpIngest: Required<IngestOptions> | null;
  record: Required<RecordOptions>;
  publicHost: string | null;
  adminToken: string | null;
  allowedOrigins: string[];
  userApi: UserApiOptions | null;
  handshakeTimeoutMs: number;
  requestTimeoutMs: number;
  keepaliveMissingPeriods: number;
  limits: Required<LimitOptions>;
  strict: boolean;
  recordUrlScheme: 'ivr' | 'http';
}

export function resolveOptions(o: IvcOptions): ResolvedOptions {
  const firmware = (o.firmware ?? [{ firmware_model: 'ivc-fw-1.0.0' }]).map((f) => ({
    hardware_model: f.hardware_model ?? '',
    firmware_model: f.firmware_model,
    name: f.name ?? `${f.firmware_model}.bin`,
    size: f.size ?? 1024 * 1024,
  }));
  for (const f of firmware) {
    if (!/^[\w.-]+$/.test(f.name))
      throw new Error(`firmware name "${f.name}" may only use letters, digits, . _ -`);
    if (!Number.isInteger(f.size) || f.size < 0)
      throw new Error(`firmware ${f.name}: size must be an integer ≥ 0`);
  }
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    auth: o.auth ?? {},
    maxDevices: o.maxDevices ?? Number.POSITIVE_INFINITY,
    loginDelayMs: o.loginDelayMs ?? 0,
    rpcTimeoutMs: o.rpcTimeoutMs ?? 20_000,
    firstSeq: o.firstSeq ?? 1,
    closeOnSeqMismatch: o.closeOnSeqMismatch ?? true,
    maxPayload: o.maxPayload ?? 1024 * 1024,
    keepaliveMs: o.keepaliveMs ?? 10_000,
    keepaliveToleranceMs: o.keepaliveToleranceMs ?? 2_000,
    firstKeepaliveMs: o.firstKeepaliveMs ?? 3_000,
    firmware,
    rtmpUrlBase: o.rtmpUrlBase ?? null,
    rtmpIngest: o.rtmpIngest
      ? {
          port: (o.rtmpIngest === true ? undefined : o.rtmpIngest.port) ?? 0,
          discard: (o.rtmpIngest === true ? undefined : o.rtmpIngest.discard) ?? false,
          maxStreams:
            (o.rtmpIngest === true ? undefined : o.rtmpIngest.maxStreams) ?? Number.POSITIVE_INFINITY,
        }
      : null,
    record: { emptyCreates: o.record?.emptyCreates ?? 0, failPuts: o.record?.failPuts ?? false },
    publicHost: o.publicHost ?? null,
    adminToken: o.adminToken || null,
    allowedOrigins: o.allowedOrigins ?? [],
    userApi: o.userApi ?? null,
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, 10_000),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 120_000),
    keepaliveMissingPeriods: positive('keepaliveMissingPeriods', o.keepaliveMissingPeriods, 3),
    limits: {
      maxChannels: positive('limits.maxChannels', o.limits?.maxChannels, 256),
      maxStringLength: positive('limits.maxStringLength', o.limits?.maxStringLength, 256),
      maxKeepaliveBytes: positive('limits.maxKeepaliveBytes', o.limits?.maxKeepaliveBytes, 64 * 1024),
      maxOfflineDevices: positive('limits.maxOfflineDevices', o.limits?.maxOfflineDevices, 10_000),
    },
    strict: o.strict ?? false,
    recordUrlScheme: recordUrlScheme(o.recordUrlScheme),
  };
}

function recordUrlScheme(value: string | undefined): 'ivr' | 'http' {
  if (value === undefined || value === 'ivr' || value === 'http') return value ?? 'ivr';
  throw new Error(`recordUrlScheme must be ivr or http (got ${value})`);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new Error(`${name} must be a number > 0 (got ${value})`);
  return value;
}
