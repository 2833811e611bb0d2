// The scenario file's schema, as written by the user (snake_case keys, unit strings). TypeBox
// gives both the JSON Schema that ajv validates and the TypeScript type of a valid file. Every
// node that would otherwise produce a cryptic message carries an `expected` annotation, which
// the error formatter quotes ("… (expected a duration such as 30s)").
import { type Static, Type } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../core/duration.js';
import { QUALITIES } from '../core/quality.js';
import { BITRATE_PATTERN, RATE_PATTERN, SIZE_PATTERN } from '../core/units.js';
import { vendorTraitNames } from '../device/profile.js';
import { CAPTURE_NAME, CAPTURE_PATH } from '../http-load/capture.js';

/** A string limited to `values`; one `enum` keyword gives one clear error instead of an anyOf. */
function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    expected: `one of ${values.join(', ')}`,
    ...options,
  });
}

/** Closed object: an unknown key is an error (and gets a "did you mean" suggestion). */
function Strict<T extends Parameters<typeof Type.Object>[0]>(properties: T, expected?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(expected ? { expected } : {}) });
}

export const DEVICE_KINDS = ['camera', 'nvr'] as const;
export const DEVICE_PROFILES = ['spec', 'vendor'] as const;
export const REPORT_FORMATS = ['html', 'json', 'junit'] as const;
/** Events an IVT accepts from the platform (protocol section "Events the IVT accepts"). */
export const PLATFORM_EVENTS = [
  'SyncTime',
  'UpgradeFirmware',
  'CtrlPTZ',
  'GotoPTZPreset',
  'CtrlPTZPresetTour',
  'CtrlPTZPatrol',
] as const;

export const DurationSchema = Type.Union(
  [Type.String({ pattern: DURATION_PATTERN }), Type.Number({ minimum: 0 })],
  {
    expected: 'a duration such as 500ms, 30s, 2m or 1h30m, or a number of seconds',
  },
);
export const RateSchema = Type.Union([Type.String({ pattern: RATE_PATTERN }), Type.Number({ minimum: 0 })], {
  expected: 'a rate such as 100/s or 1/15m, or a number per second',
});
export const BitrateSchema = Type.Union(
  [Type.String({ pattern: BITRATE_PATTERN }), Type.Integer({ minimum: 0 })],
  { expected: 'a bitrate in bit/s such as 256k, 2M or 2000000' },
);
export const SizeSchema = Type.Union([Type.String({ pattern: SIZE_PATTERN }), Type.Integer({ minimum: 0 })], {
  expected: 'a size in bytes such as 1000000, 512k or 4M, where k = 1024',
});
export const FractionSchema = Type.Number({ minimum: 0, maximum: 1, expected: 'a fraction between 0 and 1' });
const Count = (min: number, max: number) =>
  Type.Integer({ minimum: min, maximum: max, expected: `an integer from ${min} to ${max}` });
const Text = (expected = 'a string') => Type.String({ expected });
const NonEmpty = (expected: string) => Type.String({ minLength: 1, expected });

/** Several device endpoints of one platform (its access gateways); each device keeps to one. */
const TargetUrlList = Type.Array(
  Type.String({ pattern: '^wss?://\\S+$', expected: 'a ws:// or wss:// URL' }),
  { minItems: 1, expected: 'a list of ws:// or wss:// URLs' },
);

export const TargetSchema = Type.Union(
  [
    Type.String({ pattern: '^(?:embedded|wss?://\\S+)$' }),
    TargetUrlList,
    Strict(
      {
        url: Type.Union(
          [
            Type.String({
              pattern: '^(?:embedded|wss?://\\S+)$',
              expected: '`embedded` or a ws:// or wss:// URL',
            }),
            TargetUrlList,
          ],
          { expected: '`embedded`, a ws:// or wss:// URL, or a list of them' },
        ),
        ca: Type.Optional(NonEmpty('a path to a PEM file with the CA certificate(s)')),
        insecure: Type.Optional(Type.Boolean({ expected: 'true or false' })),
      },
      'an object { url, ca, insecure }',
    ),
  ],
  {
    expected: '`embedded`, a ws:// or wss:// URL, a list of them, or { url, ca, insecure }',
  },
);

export const PasswordSchema = Type.Union(
  [
    Type.String(),
    Strict({
      env: Type.Optional(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', expected: 'an environment variable name' }),
      ),
      file: Type.Optional(NonEmpty('a path to a file holding the password')),
    }),
  ],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shows the user the ${VAR} syntax
  { expected: 'a string (may use ${VAR}), { env: VAR } or { file: path }' },
);

export const FaultsSchema = Strict({
  slow_answers: Type.Optional(DurationSchema),
  drop_answers: Type.Optional(FractionSchema),
  malformed_packets: Type.Optional(FractionSchema),
});

/** `tags:` — names are checked by the normalizer (Prometheus label rules, no clash with metric labels). */
export const TagsSchema = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()], { expected: 'a string, number or boolean' }),
  { expected: 'an object of name: value, e.g. { env: staging, build: 1234 }' },
);

/** Single habits of IVR-RPC.md "Observed on the wire" switched over the profile's: `{ malformedClose: false }`. */
export const TraitsSchema = Strict(
  Object.fromEntries(
    vendorTraitNames.map((name) => [name, Type.Optional(Type.Boolean({ expected: 'true or false' }))]),
  ),
);

export const MixEntrySchema = Strict({
  name: Type.Optional(Text()),
  tags: Type.Optional(TagsSchema),
  weight: Type.Optional(Type.Number({ minimum: 0, expected: 'a number >= 0' })),
  kind: Type.Optional(StringEnum(DEVICE_KINDS)),
  channels: Type.Optional(Count(1, 256)),
  profile: Type.Optional(StringEnum(DEVICE_PROFILES)),
  traits: Type.Optional(TraitsSchema),
  faults: Type.Optional(FaultsSchema),
  hardware_model: Type.Optional(NonEmpty('a non-empty string')),
  firmware_model: Type.Optional(NonEmpty('a non-empty string')),
});

export const DevicesSchema = Strict({
  count: Count(1, 1_000_000),
  login_code: Type.Optional(NonEmpty('a template such as sim-{index:05}')),
  password: Type.Optional(PasswordSchema),
  hardware_model: Type.Optional(NonEmpty('a non-empty string')),
  firmware_model: Type.Optional(NonEmpty('a non-empty string')),
  channels: Type.Optional(Count(1, 256)),
  mix: Type.Optional(Type.Array(MixEntrySchema, { minItems: 1, expected: 'a non-empty list of profiles' })),
  source_addresses: Type.Optional(
    Type.Array(NonEmpty('an IP address or a CIDR block such as 127.0.1.0/24'), {
      expected: 'a list of IP addresses',
    }),
  ),
  startup_jitter: Type.Optional(DurationSchema),
  push: Type.Optional(
    Strict({
      url: NonEmpty('"embedded", or rtmp://host:port/app/{login_code}-{channel}'),
      quality: Type.Optional(StringEnum(QUALITIES)),
      channels: Type.Optional(Count(1, 256)),
      fraction: Type.Optional(FractionSchema),
    }),
  ),
});

export const StageSchema = Strict({
  name: Type.Optional(NonEmpty('a stage name, for `during:` in thresholds')),
  duration: DurationSchema,
  target: Type.Integer({ minimum: 0, expected: 'a number of concurrent devices (integer >= 0)' }),
});

export const ArrivalStageSchema = Strict({ duration: DurationSchema, target: RateSchema });

export const ArrivalSchema = Strict({
  rate: Type.Optional(RateSchema),
  stages: Type.Optional(
    Type.Array(ArrivalStageSchema, { minItems: 1, expected: 'a non-empty list of stages' }),
  ),
});

export const AlarmsSchema = Strict({
  per_channel: RateSchema,
  types: Type.Optional(
    Strict(
      {
        motion: Type.Optional(Type.Number({ minimum: 0, expected: 'a weight >= 0' })),
        tripwire: Type.Optional(Type.Number({ minimum: 0, expected: 'a weight >= 0' })),
        external: Type.Optional(Type.Number({ minimum: 0, expected: 'a weight >= 0' })),
      },
      'weights of motion, tripwire, external',
    ),
  ),
  duration: Type.Optional(DurationSchema),
  picture: Type.Optional(Type.Boolean({ expected: 'true or false' })),
});

export const EventSchema = Strict({
  at: DurationSchema,
  over: Type.Optional(DurationSchema),
  disconnect: Type.Optional(
    Strict({ fraction: FractionSchema, reconnect_after: Type.Optional(DurationSchema) }),
  ),
  reboot: Type.Optional(
    Strict({
      fraction: FractionSchema,
      channel: Type.Optional(Count(0, 255)),
      downtime: Type.Optional(DurationSchema),
    }),
  ),
  upgrade: Type.Optional(
    Strict({
      fraction: FractionSchema,
      firmware_model: Type.Optional(NonEmpty('a non-empty string')),
      duration: Type.Optional(DurationSchema),
    }),
  ),
  alarms: Type.Optional(AlarmsSchema),
});

const ActionName = (expected: string) => Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$', expected });

const OrderCommon = {
  action: Type.Optional(ActionName('the name of an `api.actions` entry that places the order')),
  stop_action: Type.Optional(ActionName('the name of an `api.actions` entry that ends it')),
  fraction: Type.Optional(FractionSchema),
  count: Type.Optional(Count(0, 10_000_000)),
  max_bitrate: Type.Optional(BitrateSchema),
  after: Type.Optional(DurationSchema),
  duration: Type.Optional(DurationSchema),
};

export const PublishPlanSchema = Strict({
  ...OrderCommon,
  quality: Type.Optional(StringEnum(QUALITIES)),
});

export const RecordPlanSchema = Strict({
  ...OrderCommon,
  quality: Type.Optional(StringEnum(QUALITIES)),
  seg_duration: Type.Optional(Count(1, 3600)),
  seg_max_size: Type.Optional(SizeSchema),
  seg_max_count: Type.Optional(Count(1, 10_000)),
  prerecord_seconds: Type.Optional(Count(0, 3600)),
});

export const PlatformEventSchema = Strict({
  at: DurationSchema,
  event: StringEnum(PLATFORM_EVENTS),
  fraction: Type.Optional(FractionSchema),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { expected: 'an object' })),
  action: Type.Optional(ActionName('the name of an `api.actions` entry called for each chosen channel')),
});

export const PlatformSchema = Strict({
  publish: Type.Optional(PublishPlanSchema),
  record: Type.Optional(RecordPlanSchema),
  events: Type.Optional(Type.Array(PlatformEventSchema)),
  refuse_logins_after: Type.Optional(Count(0, 10_000_000)),
  refuse_streams_after: Type.Optional(Count(0, 10_000_000)),
  /** Embedded platform: count the vendor firmware's known deviations as violations. */
  strict: Type.Optional(Type.Boolean({ expected: 'true or false' })),
});

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const HeadersSchema = Type.Record(Type.String(), Type.String({ expected: 'a header value (a string)' }), {
  expected: 'an object of header: value',
});

const ApiRequestFields = {
  method: Type.Optional(StringEnum(HTTP_METHODS)),
  url: NonEmpty('a URL, or a path under `api.base_url` such as /api/cameras/{login_code}/live'),
  headers: Type.Optional(HeadersSchema),
  body: Type.Optional(Type.Unknown()),
};

export const ApiActionSchema = Strict({
  ...ApiRequestFields,
  capture: Type.Optional(
    Type.Record(Type.String(), NonEmpty('a JSON path such as $.stream_id'), {
      expected: 'an object of name: JSON path, e.g. { stream_id: $.stream_id }',
    }),
  ),
});

/** The login step: a request whose answer holds a token (`token:` path), sent with every action. */
export const ApiAuthSchema = Strict({
  request: Strict(ApiRequestFields, 'the login request { method, url, headers, body }'),
  token: NonEmpty('a JSON path to the token in the answer, such as $.token'),
  expires_in: Type.Optional(NonEmpty('a JSON path to the lifetime in seconds, such as $.expires_in')),
  ttl: Type.Optional(DurationSchema),
  headers: Type.Optional(HeadersSchema),
});

export const ApiSchema = Strict({
  base_url: Type.Optional(
    Type.String({ pattern: '^https?://\\S+$', expected: 'an http:// or https:// URL' }),
  ),
  connections: Type.Optional(Count(1, 10_000)),
  timeout: Type.Optional(DurationSchema),
  auth: Type.Optional(ApiAuthSchema),
  actions: Type.Record(Type.String(), ApiActionSchema, {
    expected: 'an object of name: { method, url, headers, body, capture }',
  }),
});

export const MediaSchema = Strict({
  ld: Type.Optional(BitrateSchema),
  sd: Type.Optional(BitrateSchema),
  hd: Type.Optional(BitrateSchema),
  fhd: Type.Optional(BitrateSchema),
});

export const ThresholdEntrySchema = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Strict({
      threshold: NonEmpty('an expression such as "p(95)<800"'),
      abort_on_fail: Type.Optional(Type.Boolean({ expected: 'true or false' })),
      delay_abort_eval: Type.Optional(DurationSchema),
      window: Type.Optional(DurationSchema),
      during: Type.Optional(NonEmpty('a stage name, or a time range such as 30s..90s')),
    }),
  ],
  {
    expected: 'an expression string such as "p(99)<1000" or { threshold, abort_on_fail, window, during }',
  },
);

export const ThresholdsSchema = Type.Record(
  Type.String(),
  Type.Union([Type.Array(ThresholdEntrySchema, { minItems: 1 }), Type.String({ minLength: 1 })], {
    expected: 'a list of threshold expressions',
  }),
  { expected: 'an object of metric: [expressions]' },
);

export const VIEWER_PROTOCOLS = ['rtmp', 'http-flv', 'hls'] as const;

/** `viewers:` — players pulling the streams the devices push (docs/viewers.md). */
export const ViewerGroupSchema = Strict({
  protocol: Type.Optional(StringEnum(VIEWER_PROTOCOLS)),
  url: NonEmpty('"embedded", or a template such as rtmp://host:port/live/{login_code}-{channel}'),
  per_stream: Type.Optional(Count(1, 10_000)),
  fraction: Type.Optional(FractionSchema),
  start: Type.Optional(DurationSchema),
  ramp: Type.Optional(DurationSchema),
  duration: Type.Optional(DurationSchema),
  buffer: Type.Optional(DurationSchema),
  first_frame_timeout: Type.Optional(DurationSchema),
  live_edge_segments: Type.Optional(Count(1, 100)),
});

/** One request of an `http_load:` sequence (autocannon's `requests` array). */
export const HttpSequenceStepSchema = Strict({
  path: Type.String({ pattern: '^/', expected: 'a path such as /api/stats?x=1' }),
  method: Type.Optional(StringEnum(HTTP_METHODS)),
  headers: Type.Optional(HeadersSchema),
  body: Type.Optional(Type.String({ expected: 'the request body as a string' })),
  capture: Type.Optional(
    Type.Record(
      Type.String({ pattern: CAPTURE_NAME }),
      Type.String({ pattern: CAPTURE_PATH, expected: 'a JSON path such as $.data.token or $.items[0].id' }),
      { expected: 'an object of name: JSON path, e.g. { token: $.token }' },
    ),
  ),
});

/** `http_load:` — steady HTTP requests beside the devices (autocannon), src/http-load. */
export const HttpLoadSchema = Strict({
  name: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_./-]{1,64}$', expected: 'up to 64 of A-Z a-z 0-9 _ . / -' }),
  ),
  url: Type.Optional(
    Type.String({
      pattern: '^(?:https?://\\S+|/\\S*)$',
      expected: 'an http(s):// URL, or a path such as /api/stats on the target platform',
    }),
  ),
  action: Type.Optional(NonEmpty('the name of an action of the `api:` block')),
  method: Type.Optional(StringEnum(HTTP_METHODS)),
  headers: Type.Optional(HeadersSchema),
  body: Type.Optional(Type.String({ expected: 'the request body as a string' })),
  requests: Type.Optional(
    Type.Array(HttpSequenceStepSchema, {
      minItems: 1,
      expected: 'a non-empty list of { path, method, headers, body }',
    }),
  ),
  connections: Type.Optional(Count(1, 10_000)),
  rate: Type.Optional(RateSchema),
  stages: Type.Optional(
    Type.Array(ArrivalStageSchema, {
      minItems: 1,
      expected: 'a non-empty list of { duration, target: rate }',
    }),
  ),
  start: Type.Optional(DurationSchema),
  duration: Type.Optional(DurationSchema),
  timeout: Type.Optional(DurationSchema),
});

export const CAPACITY_MODES = ['devices', 'streams', 'login_rate', 'viewers', 'api_rate'] as const;

/** The limit finder: step the load up until a service level breaks; the last level that held is the capacity. */
export const CapacitySchema = Strict({
  mode: Type.Optional(StringEnum(CAPACITY_MODES)),
  start: Type.Number({
    exclusiveMinimum: 0,
    expected: 'the first level (devices, streams, logins per second or viewers)',
  }),
  step: Type.Number({ exclusiveMinimum: 0, expected: 'the increase per step' }),
  max: Type.Optional(Type.Number({ exclusiveMinimum: 0, expected: 'the last level to try' })),
  ramp: Type.Optional(DurationSchema),
  hold: Type.Optional(DurationSchema),
  sustain: Type.Optional(DurationSchema),
  online_ratio: Type.Optional(FractionSchema),
  churn: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, expected: 'a share of the devices per second, e.g. 0.01' }),
  ),
  service_levels: Type.Optional(
    Type.Record(Type.String(), Type.String({ minLength: 1 }), {
      expected: 'an object of metric: "expression", e.g. login_duration: "p(99)<1000"',
    }),
  ),
});

export const OutputSchema = Strict({ dir: Type.Optional(NonEmpty('a directory path')) });

export const ReportSchema = Strict({
  title: Type.Optional(Text()),
  formats: Type.Optional(Type.Array(StringEnum(REPORT_FORMATS), { uniqueItems: true })),
  percentiles: Type.Optional(
    Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100, expected: 'a percentile in (0, 100]' }), {
      minItems: 1,
    }),
  ),
  baseline: Type.Optional(NonEmpty('a path to a previous run’s JSON results')),
});

/** `checks:` — the built-in run checks (docs/scenarios.md#checks), each on unless turned off. */
export const ChecksSchema = Strict({
  preflight: Type.Optional(Type.Boolean()),
  any_online: Type.Optional(Type.Boolean()),
  never_online: Type.Optional(
    Type.Union([Type.Literal(false), FractionSchema], {
      expected: 'a fraction between 0 and 1 (the share allowed never to come online), or false',
    }),
  ),
  lost_devices: Type.Optional(Type.Boolean()),
  lost_viewers: Type.Optional(Type.Boolean()),
  capacity_held: Type.Optional(Type.Boolean()),
});

// `x-…` top-level keys are ignored, as in docker-compose: a place for YAML anchors to share.
export const ScenarioFileSchema = Type.Object(
  {
    name: Type.Optional(NonEmpty('a non-empty string')),
    description: Type.Optional(Text()),
    tags: Type.Optional(TagsSchema),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 0xffffffff, expected: 'an integer from 0 to 4294967295' }),
    ),
    duration: Type.Optional(DurationSchema),
    target: Type.Optional(TargetSchema),
    devices: DevicesSchema,
    stages: Type.Optional(Type.Array(StageSchema, { minItems: 1, expected: 'a non-empty list of stages' })),
    arrival: Type.Optional(ArrivalSchema),
    events: Type.Optional(Type.Array(EventSchema)),
    alarms: Type.Optional(AlarmsSchema),
    viewers: Type.Optional(Type.Array(ViewerGroupSchema, { expected: 'a list of viewer groups' })),
    platform: Type.Optional(PlatformSchema),
    api: Type.Optional(ApiSchema),
    media: Type.Optional(MediaSchema),
    thresholds: Type.Optional(ThresholdsSchema),
    capacity: Type.Optional(CapacitySchema),
    http_load: Type.Optional(
      Type.Array(HttpLoadSchema, {
        minItems: 1,
        expected: 'a list of HTTP loads { url, rate, connections, … }',
      }),
    ),
    k6: Type.Optional(
      Strict({
        script: NonEmpty('a path to a k6 script (.js)'),
        args: Type.Optional(Type.Array(Type.String(), { expected: 'a list of extra k6 arguments' })),
        env: Type.Optional(
          Type.Record(Type.String(), Type.String(), { expected: 'an object of NAME: value' }),
        ),
      }),
    ),
    workers: Type.Optional(Count(1, 1024)),
    on_worker_crash: Type.Optional(StringEnum(['continue', 'abort'] as const)),
    checks: Type.Optional(ChecksSchema),
    output: Type.Optional(OutputSchema),
    report: Type.Optional(ReportSchema),
  },
  { additionalProperties: false, patternProperties: { '^x-': {} } },
);

/** A scenario file as written, once it passed the schema. */
export type ScenarioFile = Static<typeof ScenarioFileSchema>;
