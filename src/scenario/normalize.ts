// The conversion step: a schema-valid ScenarioFile becomes a Scenario (defaults applied, units
// converted, paths resolved), and the checks a schema cannot express (cross-field rules,
// loopback addresses, templates) add their problems with the field path they concern.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import type { ApiPlan } from '../api/actions.js';
import { channelPlaceholdersOf } from '../api/http-load-action.js';
import { capacityLoad, churnEvents, DEFAULT_CHURN, defaultServiceLevels } from '../capacity/staircase.js';
import { DEFAULT_HARDWARE_MODEL } from '../core/device-defaults.js';
import { formatDuration, parseDuration, UnitError } from '../core/duration.js';
import { QUALITIES } from '../core/quality.js';
import { closest } from '../core/suggest.js';
import { parseBitrate, parseRate, parseSize } from '../core/units.js';
import { BITRATE_WINDOW_S } from '../metrics/catalogue.js';
import type { ThresholdsConfig } from '../metrics/thresholds.js';
import { expandAddress, isLoopbackHost } from './addresses.js';
import { normalizeApi } from './api.js';
import type { FieldProblem } from './errors.js';
import { normalizeHttpLoad } from './http-load.js';
import type { PathSegment } from './locate.js';
import type { ScenarioFile } from './schema.js';
import { maskUrl, resolvePassword } from './secrets.js';
import { stagesDurationMs } from './stages.js';
import { normalizeTags } from './tags.js';
import { checkLoginCode, LOGIN_CODE_PLACEHOLDERS, TemplateError } from './template.js';
import { checkThresholds } from './thresholds.js';
import type {
  AlarmPlan,
  AlarmType,
  CapacityPlan,
  DevicePush,
  Devices,
  Faults,
  Load,
  MixEntry,
  OrderPlan,
  Parameters,
  PlatformPlan,
  Quality,
  RecordPlan,
  Scenario,
  ScenarioEvent,
  Stage,
  Target,
} from './types.js';
import { normalizeViewers } from './viewers.js';

/** Where the platform's orders go: its own code (embedded) or its API (remote, through `api:`). */
interface RemoteApi {
  remote: boolean;
  plan: ApiPlan | null;
}

/** More steps than any limit search needs (each holds for seconds at least). */
const MAX_CAPACITY_STEPS = 1000;

export interface NormalizeContext {
  /** Absolute path of the scenario file, or null for an in-memory text. */
  file: string | null;
  /** Directory that relative paths in the file (ca, password file, baseline) are relative to. */
  baseDir: string;
  /** Directory the output dir is relative to. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** `${VAR}` names and `--set` overrides the loader applied. */
  parameters?: Parameters;
}

export const DEFAULTS = {
  seed: 1,
  loginCode: 'sim-{index:05}',
  hardwareModel: DEFAULT_HARDWARE_MODEL,
  firmwareModel: 'ivtfarm-sim-1.0.0',
  nvrChannels: 4,
  holdMs: 60_000,
  rebootDowntimeMs: 30_000,
  upgradeDurationMs: 30_000,
  alarmDurationMs: 20_000,
  alarmTypes: { motion: 0.7, tripwire: 0.2, external: 0.1 } as Record<AlarmType, number>,
  media: { ld: 256_000, sd: 512_000, hd: 2_000_000, fhd: 4_000_000 } as Record<Quality, number>,
  publishAfterMs: 5_000,
  segDuration: 10,
  segMaxSize: 4 * 1024 * 1024,
  segMaxCount: 5,
  outputDir: 'reports',
  percentiles: [50, 90, 95, 99],
} as const;

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  slowAnswerMs: 0,
  dropAnswerProbability: 0,
  malformedProbability: 0,
});

type Unit = string | number;

/** The longest delay setTimeout accepts (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class Normalizer {
  readonly problems: FieldProblem[] = [];

  constructor(private readonly ctx: NormalizeContext) {}

  problem(path: PathSegment[], message: string, expected?: string, anchor?: 'key'): void {
    this.problems.push({ path, message, ...(expected ? { expected } : {}), ...(anchor ? { anchor } : {}) });
  }

  /** Runs a unit converter; values passed the schema pattern, but e.g. `1/0s` still fails here. */
  unit(parse: (v: Unit) => number, value: Unit, path: PathSegment[]): number {
    try {
      return parse(value);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      this.problem(path, err.message);
      return 0;
    }
  }

  duration(value: Unit, path: PathSegment[]): number {
    return this.timerSafe(this.unit(parseDuration, value, path), path);
  }

  /** Timers cannot wait longer than MAX_TIMER_MS: past it, Node fires them after 1 ms instead. */
  timerSafe(ms: number, path: PathSegment[]): number {
    if (ms > MAX_TIMER_MS)
      this.problem(path, 'longer than a timer can wait (about 24.8 days)', 'at most 24d');
    return ms;
  }

  run(raw: ScenarioFile): Scenario {
    const target = this.target(raw);
    const onLoopback =
      target.kind === 'embedded' || target.urls.every((u) => isLoopbackHost(new URL(u).hostname));
    const devices = this.devices(raw, target, onLoopback);
    const capacity = raw.capacity ? this.capacity(raw, devices) : null;
    const load = capacity ? capacityLoad(capacity, devices.count) : this.load(raw, devices.count);
    const durationMs = this.runDuration(raw, load);
    const api = raw.api ? normalizeApi(raw.api, this) : null;
    const loadMs = Math.min(durationMs, stagesDurationMs(load.stages) || durationMs);
    const httpLoad = normalizeHttpLoad(
      raw.http_load,
      this,
      loadMs,
      capacity?.mode === 'api_rate',
      api ? new Set(Object.keys(api.actions)) : null,
    );
    httpLoad.forEach((h, i) => {
      if (h.send.kind !== 'action' || !api) return;
      const used = channelPlaceholdersOf(api, h.send.action);
      if (used.length > 0)
        this.problem(
          ['http_load', i, 'action'],
          `action "${h.send.action}" uses {${used.join('}, {')}}: an HTTP load sends one request for all, with no device or channel`,
          'an action without device placeholders, or a `url` of its own',
        );
    });
    const name = raw.name ?? (this.ctx.file ? basename(this.ctx.file, extname(this.ctx.file)) : 'scenario');
    return {
      file: this.ctx.file,
      name,
      description: raw.description ?? '',
      tags: normalizeTags(raw.tags, ['tags'], this.problems),
      parameters: this.ctx.parameters ?? { variables: [], overrides: [] },
      seed: raw.seed ?? DEFAULTS.seed,
      durationMs,
      target,
      devices,
      load,
      events: [...this.events(raw, durationMs, devices.mix), ...(capacity ? churnEvents(capacity) : [])].sort(
        (a, b) => a.atMs - b.atMs,
      ),
      alarms: raw.alarms ? this.alarms(raw.alarms, ['alarms']) : null,
      viewers: normalizeViewers(raw, target, devices.push, durationMs, this),
      platform: this.platform(raw, target, durationMs, api),
      api,
      media: this.media(raw),
      thresholds: this.thresholds(raw, load),
      capacity,
      httpLoad,
      k6: raw.k6
        ? {
            script: this.existing(raw.k6.script, ['k6', 'script']),
            args: raw.k6.args ?? [],
            env: raw.k6.env ?? {},
          }
        : null,
      workers: raw.workers ?? availableParallelism(),
      onWorkerCrash: raw.on_worker_crash ?? 'continue',
      checks: {
        preflight: raw.checks?.preflight ?? true,
        anyOnline: raw.checks?.any_online ?? true,
        neverOnline: raw.checks?.never_online === false ? null : (raw.checks?.never_online ?? 0),
        lostDevices: raw.checks?.lost_devices ?? true,
        lostViewers: raw.checks?.lost_viewers ?? true,
        capacityHeld: raw.checks?.capacity_held ?? true,
      },
      output: { dir: resolve(this.ctx.cwd, raw.output?.dir ?? DEFAULTS.outputDir) },
      report: {
        title: raw.report?.title ?? name,
        formats: raw.report?.formats ?? ['html', 'json', 'junit'],
        percentiles: raw.report?.percentiles ?? [...DEFAULTS.percentiles],
        baseline: raw.report?.baseline ? this.existing(raw.report.baseline, ['report', 'baseline']) : null,
      },
    };
  }

  /** Resolves a path relative to the scenario file and checks that it exists. */
  existing(path: string, at: PathSegment[]): string {
    const absolute = resolve(this.ctx.baseDir, path);
    if (!existsSync(absolute)) this.problem(at, `file not found: ${absolute}`);
    return absolute;
  }

  target(raw: ScenarioFile): Target {
    const t = raw.target ?? 'embedded';
    const spec = typeof t === 'string' || Array.isArray(t) ? { url: t } : t;
    const path: PathSegment[] = typeof t === 'string' || Array.isArray(t) ? ['target'] : ['target', 'url'];
    const tlsOnly = (field: 'ca' | 'insecure') =>
      this.problem(['target', field], `only applies to a wss:// target`, undefined, 'key');
    if (spec.url === 'embedded') {
      if ('ca' in spec && spec.ca !== undefined) tlsOnly('ca');
      if ('insecure' in spec && spec.insecure !== undefined) tlsOnly('insecure');
      return { kind: 'embedded' };
    }
    const listed = Array.isArray(spec.url) ? spec.url : [spec.url];
    const urls: string[] = [];
    for (const [i, text] of listed.entries()) {
      const at = Array.isArray(spec.url) ? [...path, i] : path;
      try {
        new URL(text);
      } catch {
        this.problem(at, 'not a valid URL', 'ws://host:port/ivc or wss://host:port/ivc');
        continue;
      }
      if (urls.includes(text)) this.problem(at, `${maskUrl(text)} is listed twice`, 'each URL once');
      else urls.push(text);
    }
    if (urls.length === 0) return { kind: 'embedded' };
    const ca = 'ca' in spec ? spec.ca : undefined;
    const insecure = 'insecure' in spec ? spec.insecure : undefined;
    if (!urls.some((u) => u.startsWith('wss:'))) {
      if (ca !== undefined) tlsOnly('ca');
      if (insecure !== undefined) tlsOnly('insecure');
      return { kind: 'remote', url: urls[0]!, urls, ca: null, insecure: false };
    }
    if (ca !== undefined && insecure === true) {
      this.problem(
        ['target', 'insecure'],
        'give either `ca` or `insecure: true`, not both',
        undefined,
        'key',
      );
    }
    return {
      kind: 'remote',
      url: urls[0]!,
      urls,
      ca: ca !== undefined ? this.existing(ca, ['target', 'ca']) : null,
      insecure: insecure ?? false,
    };
  }

  devices(raw: ScenarioFile, target: Target, onLoopback: boolean): Scenario['devices'] {
    const d = raw.devices;
    const loginCode = d.login_code ?? DEFAULTS.loginCode;
    try {
      checkLoginCode(loginCode, d.count);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.problem(['devices', 'login_code'], err.message, `placeholders ${LOGIN_CODE_PLACEHOLDERS}`);
    }
    if (d.password === undefined && target.kind === 'remote') {
      this.problem(
        ['devices', 'password'],
        'missing required field (a remote platform checks it)',
        '{ env: VAR }',
      );
    }
    const { password, source } = resolvePassword(d.password, this.ctx, this.problems);
    const hardwareModel = d.hardware_model ?? DEFAULTS.hardwareModel;
    const firmwareModel = d.firmware_model ?? DEFAULTS.firmwareModel;
    const mix: MixEntry[] = (d.mix ?? [{}]).map((m, i) => {
      const kind = m.kind ?? 'camera';
      if (kind === 'camera' && m.channels !== undefined && m.channels !== 1) {
        this.problem(
          ['devices', 'mix', i, 'channels'],
          'a camera has exactly one channel',
          '1, or kind: nvr',
        );
      }
      const channels = kind === 'camera' ? 1 : (m.channels ?? d.channels ?? DEFAULTS.nvrChannels);
      const profile = m.profile ?? 'spec';
      if (m.name !== undefined && !/^[A-Za-z0-9_./-]{1,64}$/.test(m.name))
        this.problem(
          ['devices', 'mix', i, 'name'],
          'not usable as a metric label',
          'up to 64 of A-Z a-z 0-9 _ . / -',
        );
      return {
        name:
          m.name ?? `${kind === 'nvr' ? `nvr-${channels}` : 'camera'}/${profile}${m.faults ? '/faulty' : ''}`,
        tags: normalizeTags(m.tags, ['devices', 'mix', i, 'tags'], this.problems),
        weight: m.weight ?? 1,
        kind,
        channels,
        profile,
        traits: m.traits ?? null,
        faults: m.faults ? this.faults(m.faults, ['devices', 'mix', i, 'faults']) : NO_FAULTS,
        hardwareModel: m.hardware_model ?? hardwareModel,
        firmwareModel: m.firmware_model ?? firmwareModel,
      };
    });
    if (mix.reduce((sum, m) => sum + m.weight, 0) <= 0) {
      this.problem(['devices', 'mix'], 'the weights add up to 0', 'at least one weight > 0');
    }
    const sourceAddresses = new Set<string>();
    (d.source_addresses ?? []).forEach((entry, i) => {
      const { addresses, error, expected } = expandAddress(entry, onLoopback);
      if (error) this.problem(['devices', 'source_addresses', i], error, expected);
      for (const a of addresses) sourceAddresses.add(a);
    });
    return {
      count: d.count,
      loginCode,
      password,
      passwordSource: source,
      mix,
      sourceAddresses: [...sourceAddresses],
      startupJitterMs:
        d.startup_jitter !== undefined ? this.duration(d.startup_jitter, ['devices', 'startup_jitter']) : 0,
      push: d.push ? this.push(d.push, target) : null,
    };
  }

  push(p: NonNullable<ScenarioFile['devices']['push']>, target: Target): DevicePush {
    const path: PathSegment[] = ['devices', 'push', 'url'];
    if (p.url === 'embedded') {
      if (target.kind !== 'embedded')
        this.problem(path, '`embedded` needs the embedded target', 'an rtmp:// URL');
    } else if (!/^rtmps?:\/\/[^/]+\/.+/.test(p.url)) {
      this.problem(path, 'not an RTMP URL', 'rtmp://host:port/app/{login_code}-{channel}');
    } else if (!p.url.includes('{login_code}')) {
      this.problem(
        path,
        'every device needs its own stream name',
        'a template with {login_code} (and {channel})',
      );
    }
    return { url: p.url, quality: p.quality ?? 'sd', channels: p.channels ?? 1, fraction: p.fraction ?? 1 };
  }

  faults(
    f: NonNullable<NonNullable<ScenarioFile['devices']['mix']>[number]['faults']>,
    path: PathSegment[],
  ): Faults {
    return {
      slowAnswerMs:
        f.slow_answers !== undefined ? this.duration(f.slow_answers, [...path, 'slow_answers']) : 0,
      dropAnswerProbability: f.drop_answers ?? 0,
      malformedProbability: f.malformed_packets ?? 0,
    };
  }

  load(raw: ScenarioFile, count: number): Load {
    if (raw.stages && raw.arrival) {
      this.problem(
        ['arrival'],
        'give either `stages` (closed model) or `arrival` (open model), not both',
        undefined,
        'key',
      );
    }
    if (raw.arrival) {
      const a = raw.arrival;
      if (a.rate === undefined && a.stages === undefined) {
        this.problem(['arrival'], 'needs `rate`, `stages` or both', '{ rate: 100/s, stages: [...] }');
      }
      const stages = (a.stages ?? []).map((s, i) => ({
        durationMs: this.duration(s.duration, ['arrival', 'stages', i, 'duration']),
        target: this.unit(parseRate, s.target, ['arrival', 'stages', i, 'target']),
      }));
      const startRate = a.rate !== undefined ? this.unit(parseRate, a.rate, ['arrival', 'rate']) : 0;
      return { model: 'open', startRate, stages };
    }
    if (raw.stages) {
      const names = new Set<string>();
      const stages: Stage[] = raw.stages.map((s, i) => {
        if (s.target > count) {
          this.problem(['stages', i, 'target'], `exceeds devices.count (${count})`, `at most ${count}`);
        }
        if (s.name !== undefined) {
          if (names.has(s.name))
            this.problem(['stages', i, 'name'], `"${s.name}" names an earlier stage too`);
          names.add(s.name);
        }
        const durationMs = this.duration(s.duration, ['stages', i, 'duration']);
        return { ...(s.name !== undefined ? { name: s.name } : {}), durationMs, target: s.target };
      });
      return { model: 'closed', stages };
    }
    // No load shape: every device logs in at the start (spread by startup_jitter) and stays.
    const hold = raw.duration !== undefined ? this.duration(raw.duration, ['duration']) : DEFAULTS.holdMs;
    return {
      model: 'closed',
      stages: [
        { durationMs: 0, target: count },
        { durationMs: hold, target: count },
      ],
    };
  }

  /**
   * Streams mode without platform orders: the devices' own pushes are the streams, so every
   * device must push the same number of them (the staircase steps devices). Null when there are
   * no pushes (the caller then asks for `platform.publish`).
   */
  private standingPushes(devices: Devices): number | null {
    const push = devices.push;
    if (!push) return null;
    if (push.fraction !== 1) {
      this.problem(
        ['devices', 'push', 'fraction'],
        'streams capacity by standing pushes needs every device to push (each step adds devices)',
        '1',
      );
    }
    const perDevice = new Set(devices.mix.map((m) => Math.min(push.channels, m.channels)));
    if (perDevice.size > 1) {
      this.problem(
        ['devices', 'mix'],
        `streams capacity by standing pushes needs every device to push as many streams; this mix pushes ${[...perDevice].join(' or ')}`,
        'one kind of device, or devices.push.channels no more than the fewest channels',
      );
    }
    return Math.max(1, ...perDevice);
  }

  capacity(raw: ScenarioFile, devices: Devices): CapacityPlan {
    const c = raw.capacity!;
    const count = devices.count;
    const mode = c.mode ?? 'devices';
    const streamsPerDevice =
      mode === 'streams' && !raw.platform?.publish ? this.standingPushes(devices) : null;
    for (const other of ['stages', 'arrival'] as const) {
      if (raw[other]) {
        this.problem(
          [other],
          `give either \`capacity\` (the limit finder plays its own steps) or \`${other}\``,
          undefined,
          'key',
        );
      }
    }
    const max = c.max ?? (mode === 'devices' ? count : c.start + 9 * c.step);
    if (mode === 'streams' && streamsPerDevice === null) {
      const remote = raw.target !== undefined && raw.target !== 'embedded';
      if (remote && !raw.api) {
        this.problem(
          ['capacity', 'mode'],
          '`streams` against a remote platform opens the streams through its API: `api` is missing',
          '`api:` with an action such as open_live, named by platform.publish.action',
        );
      } else if (!raw.platform?.publish) {
        this.problem(
          ['capacity', 'mode'],
          '`streams` needs `platform.publish` (quality, max_bitrate of the orders), or `devices.push` (standing pushes)',
          '{ quality: sd }',
        );
      }
    }
    if (mode === 'viewers' && !raw.viewers?.length) {
      this.problem(['capacity', 'mode'], '`viewers` needs a `viewers` block (the players it steps)');
    }
    if (mode === 'devices' && max > count) {
      this.problem(['capacity', 'max'], `exceeds devices.count (${count})`, `at most ${count}`);
    }
    if (streamsPerDevice !== null && Math.ceil(max / streamsPerDevice) > count) {
      const most = count * streamsPerDevice;
      this.problem(
        ['capacity', 'max'],
        `exceeds the streams devices.count devices push (${count} × ${streamsPerDevice} = ${most})`,
        `at most ${most}`,
      );
    }
    if (max < c.start) this.problem(['capacity', 'max'], 'is below `start`', `at least ${c.start}`);
    // The staircase is built step by step: 1e308 / 100 steps would never finish.
    const steps = Math.floor((max - c.start) / c.step + 1e-9) + 1;
    const tooManySteps = !(steps <= MAX_CAPACITY_STEPS);
    if (tooManySteps) {
      this.problem(
        ['capacity', c.max !== undefined ? 'max' : 'step'],
        `gives more than ${MAX_CAPACITY_STEPS} steps from \`start\` by \`step\``,
        `a \`max\` of at most start + ${MAX_CAPACITY_STEPS - 1} × step`,
      );
    }
    const levels =
      c.service_levels ?? defaultServiceLevels(mode, { standingPushes: streamsPerDevice !== null });
    if (c.service_levels) {
      this.problems.push(
        ...checkThresholds(c.service_levels, { model: 'closed', stages: [] }, ['capacity', 'service_levels']),
      );
    }
    if (c.churn !== undefined && mode !== 'devices') {
      this.problem(['capacity', 'churn'], 'only applies to `mode: devices`', undefined, 'key');
    }
    const plan: CapacityPlan = {
      mode,
      start: c.start,
      step: c.step,
      // Kept buildable when refused, so the rest of the file is still checked.
      max: tooManySteps ? c.start : max,
      rampMs: c.ramp !== undefined ? this.duration(c.ramp, ['capacity', 'ramp']) : 10_000,
      holdMs: c.hold !== undefined ? this.duration(c.hold, ['capacity', 'hold']) : 30_000,
      sustainMs: c.sustain !== undefined ? this.duration(c.sustain, ['capacity', 'sustain']) : 10_000,
      // api_rate: the share of each step's request rate achieved (autocannon sends in per-second bursts).
      onlineRatio: c.online_ratio ?? (mode === 'api_rate' ? 0.95 : 0.99),
      churn: mode === 'devices' ? (c.churn ?? DEFAULT_CHURN) : 0,
      streamsPerDevice,
      serviceLevels: Object.entries(levels).map(([metric, expression]) => ({ metric, expression })),
    };
    if (plan.holdMs <= 0)
      this.problem(['capacity', 'hold'], 'must be longer than 0', 'a duration such as 30s');
    // A stream is first sampled BITRATE_WINDOW_S after it went live, and a stream of the step's
    // ramp may go live at its end, up to the publish start limit (2 s) later.
    const minBitrateHoldMs = (BITRATE_WINDOW_S + 3) * 1000;
    const bitrateJudged = plan.serviceLevels.some((l) => l.metric.startsWith('bitrate_achieved_ratio'));
    if (bitrateJudged && plan.holdMs > 0 && plan.holdMs < minBitrateHoldMs) {
      this.problem(
        ['capacity', 'hold'],
        `is too short for the service level bitrate_achieved_ratio: a stream is first measured ${BITRATE_WINDOW_S} s after it went live, so a step's last streams would have no sample and the step would stay unjudged`,
        `at least ${minBitrateHoldMs / 1000}s`,
      );
    }
    if (plan.sustainMs > plan.holdMs) {
      this.problem(
        ['capacity', 'sustain'],
        'is longer than `hold`: no step could ever break',
        `at most ${plan.holdMs / 1000}s`,
      );
    }
    if (mode === 'login_rate') {
      const needed = capacityLoad(plan).stages.reduce((n, s) => n + (s.durationMs / 1000) * s.target, 0);
      if (needed > count) {
        this.problem(
          ['devices', 'count'],
          `too few devices for the login-rate steps (they need about ${Math.ceil(needed)} logins)`,
          `at least ${Math.ceil(needed)}`,
        );
      }
    }
    return plan;
  }

  runDuration(raw: ScenarioFile, load: Load): number {
    if (raw.duration !== undefined) {
      const ms = this.duration(raw.duration, ['duration']);
      if (ms <= 0) this.problem(['duration'], 'must be longer than 0', 'a duration such as 10m');
      return ms;
    }
    const ms = this.timerSafe(stagesDurationMs(load.stages), [
      raw.capacity ? 'capacity' : raw.arrival ? 'arrival' : 'stages',
    ]);
    if (ms <= 0) {
      const where = load.model === 'open' ? 'a constant arrival rate' : 'stages of zero length';
      this.problem(
        ['duration'],
        `missing required field (with ${where} the run has no end)`,
        'a duration such as 10m',
      );
    }
    return ms;
  }

  atWithin(value: Unit, path: PathSegment[], durationMs: number): number {
    const at = this.duration(value, path);
    // durationMs <= 0 was already reported as a missing duration.
    if (durationMs > 0 && at > durationMs)
      this.problem(path, `after the end of the run (${formatDuration(durationMs)})`);
    return at;
  }

  events(raw: ScenarioFile, durationMs: number, mix: MixEntry[]): ScenarioEvent[] {
    const maxChannels = Math.max(...mix.map((m) => m.channels));
    const events = (raw.events ?? []).flatMap((e, i): ScenarioEvent[] => {
      const path: PathSegment[] = ['events', i];
      const actions = (['disconnect', 'reboot', 'upgrade', 'alarms'] as const).filter(
        (k) => e[k] !== undefined,
      );
      if (actions.length !== 1) {
        this.problem(
          path,
          actions.length === 0 ? 'no action' : `several actions (${actions.join(', ')}) in one event`,
          'exactly one of disconnect, reboot, upgrade, alarms; split them into separate events',
        );
        return [];
      }
      const base = {
        atMs: this.atWithin(e.at, [...path, 'at'], durationMs),
        overMs: e.over !== undefined ? this.duration(e.over, [...path, 'over']) : 0,
      };
      if (e.disconnect) {
        const after = e.disconnect.reconnect_after;
        return [
          {
            ...base,
            action: 'disconnect',
            fraction: e.disconnect.fraction,
            reconnectAfterMs:
              after !== undefined ? this.duration(after, [...path, 'disconnect', 'reconnect_after']) : null,
          },
        ];
      }
      if (e.reboot) {
        const channel = e.reboot.channel ?? null;
        if (channel !== null && channel >= maxChannels) {
          this.problem(
            [...path, 'reboot', 'channel'],
            `no device has channel ${channel}`,
            `0 to ${maxChannels - 1}`,
          );
        }
        const downtime = e.reboot.downtime;
        return [
          {
            ...base,
            action: 'reboot',
            fraction: e.reboot.fraction,
            channel,
            downtimeMs:
              downtime !== undefined
                ? this.duration(downtime, [...path, 'reboot', 'downtime'])
                : DEFAULTS.rebootDowntimeMs,
          },
        ];
      }
      if (e.upgrade) {
        const d = e.upgrade.duration;
        return [
          {
            ...base,
            action: 'upgrade',
            fraction: e.upgrade.fraction,
            firmwareModel: e.upgrade.firmware_model ?? null,
            durationMs:
              d !== undefined
                ? this.duration(d, [...path, 'upgrade', 'duration'])
                : DEFAULTS.upgradeDurationMs,
          },
        ];
      }
      return [{ ...base, action: 'alarms', alarms: this.alarms(e.alarms!, [...path, 'alarms']) }];
    });
    // Stable sort keeps the file's order for events at the same time.
    return events.sort((a, b) => a.atMs - b.atMs);
  }

  alarms(a: NonNullable<ScenarioFile['alarms']>, path: PathSegment[]): AlarmPlan {
    const weights = a.types
      ? { motion: a.types.motion ?? 0, tripwire: a.types.tripwire ?? 0, external: a.types.external ?? 0 }
      : { ...DEFAULTS.alarmTypes };
    const sum = weights.motion + weights.tripwire + weights.external;
    if (sum <= 0) this.problem([...path, 'types'], 'the weights add up to 0', 'at least one weight > 0');
    // Weights that already add up to 1 are kept as written (no 0.7000000000000001).
    const share = (w: number) => (Math.abs(sum - 1) < 1e-9 ? w : sum > 0 ? w / sum : 0);
    return {
      perChannelRate: this.unit(parseRate, a.per_channel, [...path, 'per_channel']),
      types: {
        motion: share(weights.motion),
        tripwire: share(weights.tripwire),
        external: share(weights.external),
      },
      durationMs:
        a.duration !== undefined
          ? this.duration(a.duration, [...path, 'duration'])
          : DEFAULTS.alarmDurationMs,
      picture: a.picture ?? true,
    };
  }

  order(
    o: NonNullable<NonNullable<ScenarioFile['platform']>['publish']>,
    path: PathSegment[],
    quality: Quality,
    api: RemoteApi,
    defaults: [start: string, stop: string],
  ): OrderPlan {
    if (o.fraction !== undefined && o.count !== undefined) {
      this.problem([...path, 'count'], 'give either `fraction` or `count`, not both', undefined, 'key');
    }
    const action = this.actionOf(o.action, [...path, 'action'], api, defaults[0], true);
    const stopAction = this.actionOf(o.stop_action, [...path, 'stop_action'], api, defaults[1], false);
    if (api.remote && o.duration !== undefined && stopAction === null)
      this.problem(
        [...path, 'duration'],
        'ending the order needs `stop_action`',
        `stop_action: ${defaults[1]}`,
      );
    return {
      action,
      stopAction,
      fraction: o.fraction ?? (o.count !== undefined ? 0 : 1),
      count: o.count ?? null,
      quality: o.quality ?? quality,
      maxBitrate:
        o.max_bitrate !== undefined ? this.unit(parseBitrate, o.max_bitrate, [...path, 'max_bitrate']) : 0,
      afterMs: o.after !== undefined ? this.duration(o.after, [...path, 'after']) : DEFAULTS.publishAfterMs,
      durationMs: o.duration !== undefined ? this.duration(o.duration, [...path, 'duration']) : null,
    };
  }

  /**
   * The `api.actions` entry an order or event names (or the conventional name when the API has
   * it); null when none applies. Only a remote platform is asked through its API.
   */
  actionOf(
    name: string | undefined,
    path: PathSegment[],
    api: RemoteApi,
    conventional: string | null,
    required: boolean,
  ): string | null {
    if (!api.remote) {
      if (name !== undefined)
        this.problem(
          path,
          'only applies to a remote target (the embedded platform orders by itself)',
          undefined,
          'key',
        );
      return null;
    }
    const actions = Object.keys(api.plan?.actions ?? {});
    const chosen =
      name ?? (conventional !== null && actions.includes(conventional) ? conventional : undefined);
    if (chosen === undefined) {
      if (required)
        this.problem(
          path,
          'missing required field (a remote platform is asked through its API)',
          actions.length > 0
            ? `one of ${actions.join(', ')}`
            : `an action of \`api.actions\`, e.g. ${conventional}`,
        );
      return null;
    }
    if (!actions.includes(chosen)) {
      const guess = closest(chosen, actions);
      this.problem(
        path,
        `no api action named ${chosen}${guess ? ` (did you mean ${guess}?)` : ''}`,
        actions.length > 0 ? `one of ${actions.join(', ')}` : 'an `api.actions` entry',
      );
    }
    return chosen;
  }

  platform(
    raw: ScenarioFile,
    target: Target,
    durationMs: number,
    apiPlan: ApiPlan | null,
  ): PlatformPlan | null {
    const p = raw.platform;
    const api: RemoteApi = { remote: target.kind !== 'embedded', plan: apiPlan };
    if (api.remote) {
      if (!p) return null;
      if (!apiPlan)
        this.problem(
          ['platform'],
          'a remote platform is asked through its API: `api` is missing',
          '`api: { actions: … }`',
          'key',
        );
      for (const knob of ['refuse_logins_after', 'refuse_streams_after', 'strict'] as const)
        if (p[knob] !== undefined)
          this.problem(['platform', knob], 'only applies to the embedded target', undefined, 'key');
    }
    const record = p?.record;
    const recordPlan: RecordPlan | null = record
      ? {
          ...this.order(record, ['platform', 'record'], 'ld', api, ['start_record', 'stop_record']),
          segDuration: record.seg_duration ?? DEFAULTS.segDuration,
          segMaxSize:
            record.seg_max_size !== undefined
              ? this.unit(parseSize, record.seg_max_size, ['platform', 'record', 'seg_max_size'])
              : DEFAULTS.segMaxSize,
          segMaxCount: record.seg_max_count ?? DEFAULTS.segMaxCount,
          prerecordSeconds: record.prerecord_seconds ?? 0,
        }
      : null;
    return {
      publish: p?.publish
        ? this.order(p.publish, ['platform', 'publish'], 'sd', api, ['open_live', 'close_live'])
        : null,
      record: recordPlan,
      events: (p?.events ?? []).map((e, i) => ({
        atMs: this.atWithin(e.at, ['platform', 'events', i, 'at'], durationMs),
        event: e.event,
        fraction: e.fraction ?? 1,
        params: e.params ?? null,
        action: this.actionOf(e.action, ['platform', 'events', i, 'action'], api, null, true),
      })),
      refuseLoginsAfter: p?.refuse_logins_after ?? null,
      refuseStreamsAfter: p?.refuse_streams_after ?? null,
      strict: p?.strict ?? false,
    };
  }

  media(raw: ScenarioFile): Record<Quality, number> {
    const out = { ...DEFAULTS.media };
    for (const q of QUALITIES) {
      const v = raw.media?.[q];
      if (v !== undefined) out[q] = this.unit(parseBitrate, v, ['media', q]);
      if (out[q] <= 0) this.problem(['media', q], 'must be more than 0 bit/s', 'a bitrate such as 512k');
    }
    return out;
  }

  /** Thresholds stay as written; their mistakes are found now, so `validate` shows them with their line. */
  thresholds(raw: ScenarioFile, load: Load): ThresholdsConfig {
    const config = (raw.thresholds ?? {}) as ThresholdsConfig;
    this.problems.push(...checkThresholds(config, load, ['thresholds']));
    return config;
  }
}

export function normalize(
  raw: ScenarioFile,
  ctx: NormalizeContext,
): { scenario: Scenario; problems: FieldProblem[] } {
  const n = new Normalizer(ctx);
  const scenario = n.run(raw);
  return { scenario, problems: n.problems };
}
