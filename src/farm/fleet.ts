import { Scheduler } from '../core/scheduler.js';
import { targetUrlFor } from '../core/target-choice.js';
import { SimulatedDevice } from '../device/device.js';
import { type MediaSink, noMediaPath } from '../device/media-sink.js';
import type { VendorTraits } from '../device/profile.js';
import { defaultMediaDir, QUALITIES, type Quality } from '../media/catalogue.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import { maskUrl } from '../scenario/secrets.js';
import { compileLoginCode } from '../scenario/template.js';
import { AlarmGenerator } from './alarm-generator.js';
import { FleetObserver, FleetTotals, fleetLine } from './fleet-status.js';
import { createMediaSink, type FarmMediaSink } from './media-sink.js';
import { within } from './within.js';

/** What an HTTP refusal of the login means (also used by the run's preflight). */
export { refusalMeaning } from './fleet-status.js';

export interface FleetOptions {
  /** The platform's device endpoints (access gateways); each device takes `targetUrlFor` of them. */
  urls: string[];
  count: number;
  channels: number;
  loginCode: string;
  firstIndex: number;
  password: string;
  profile: 'spec' | 'vendor';
  /** Habits switched over the profile's (`--trait name=on|off`). */
  trait?: Partial<VendorTraits>;
  hardwareModel: string;
  firmwareModel: string;
  sourceAddress?: string[];
  ca?: string;
  insecure?: boolean;
  startupJitterMs: number;
  /**
   * Real media (default): RTMP pushes of the ladder, cloud recordings, alarm pictures. False: a
   * signalling-only fleet that answers RTMPPublish/StartCloudRecord with 101 (not supported).
   */
  media: boolean;
  /** The rendition ladder (default: the repository's `media/`). */
  mediaDir?: string;
  /** Motion alarms started per channel per minute (0: none). */
  alarmRate?: number;
  maxMessageBytes?: number;
  firmwareMaxBytes?: number;
  firmwareTimeoutMs?: number;
  out: NodeJS.WritableStream;
  /** Resolves to stop the fleet (default: SIGINT/SIGTERM). */
  until?: Promise<unknown>;
  statusEveryMs?: number;
}

/** How long the wind-down may take: devices close, then recordings upload their last segment. */
const STOP_DEVICES_MS = 3000;
const CLOSE_MEDIA_MS = 12_000;
const ALARM_DURATION_MS = 10_000;

/** Runs `count` devices in this process until stopped (`ivtfarm device`). */
export async function runDevices(options: FleetOptions): Promise<void> {
  const scheduler = new Scheduler();
  const registry = new MetricsRegistry({ source: 'fleet' });
  const totals = new FleetTotals();
  const observer = new FleetObserver(
    registry,
    options.out,
    (d) => new URL(targetUrlFor(d.loginCode, options.urls)).host,
  );
  const addresses = options.sourceAddress ?? [];
  const sink = options.media
    ? createMediaSink(
        { mediaDir: options.mediaDir ?? defaultMediaDir(), sourceAddresses: addresses },
        registry,
        scheduler,
      )
    : null;
  const ticker = startDeltaTicker(registry, (delta) => totals.add(delta), { beforeTake: () => sink?.tick() });
  const devices = buildDevices(options, scheduler, observer, sink ?? noMediaPath, sink);
  const kind = options.channels > 1 ? `NVR-${options.channels}` : 'camera';
  const media = sink
    ? `media from ${sink.catalogue.dir}`
    : 'no media (--no-media: RTMPPublish and StartCloudRecord answer 101)';
  options.out.write(
    `starting ${options.count} ${kind} device(s) against ${spread(devices, options.urls)}; ${media}\n`,
  );
  for (const d of devices) d.start();
  const alarms = new AlarmGenerator(
    scheduler,
    Math.random,
    () => devices.length,
    (i) => devices[i]!,
  );
  if (options.alarmRate)
    alarms.setPlan({
      perChannelRate: options.alarmRate / 60,
      types: { external: 0, motion: 1, tripwire: 0 },
      durationMs: ALARM_DURATION_MS,
      picture: true,
    });
  const line = () => `${fleetLine(totals, options.count, sink !== null)}\n`;
  const timer = setInterval(() => options.out.write(line()), options.statusEveryMs ?? 5000);
  const until =
    options.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await until;
  clearInterval(timer);
  alarms.setPlan(null);
  options.out.write('stopping devices…\n');
  await within(Promise.all(devices.map((d) => d.stop())), STOP_DEVICES_MS);
  if (sink) await within(sink.close(), CLOSE_MEDIA_MS);
  ticker.stop(true);
  options.out.write(line());
}

function buildDevices(
  options: FleetOptions,
  scheduler: Scheduler,
  observer: FleetObserver,
  media: MediaSink,
  sink: FarmMediaSink | null,
): SimulatedDevice[] {
  const code = compileLoginCode(options.loginCode);
  const kind = options.channels > 1 ? 'nvr' : 'camera';
  const tls = options.ca || options.insecure ? { caFile: options.ca, insecure: options.insecure } : undefined;
  const addresses = options.sourceAddress ?? [];
  // The bitrate a device declares (checked against max_bitrate) is the one its ladder sends.
  const bitrates = sink ? ladderBitrates(sink) : undefined;
  const timings = {
    startDelayMaxMs: options.startupJitterMs,
    ...(options.firmwareTimeoutMs ? { firmwareTimeoutMs: options.firmwareTimeoutMs } : {}),
  };
  const limits = {
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    ...(options.firmwareMaxBytes ? { firmwareMaxBytes: options.firmwareMaxBytes } : {}),
  };
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < options.count; i++) {
    const index = options.firstIndex + i;
    const loginCode = code(index, 0);
    devices.push(
      new SimulatedDevice(
        {
          url: targetUrlFor(loginCode, options.urls),
          loginCode,
          password: options.password,
          index,
          kind,
          channels: options.channels,
          profile: options.profile,
          traits: options.trait,
          hardwareModel: options.hardwareModel,
          firmwareModel: options.firmwareModel,
          localAddress: addresses.length > 0 ? addresses[i % addresses.length] : undefined,
          tls,
          bitrates,
          timings,
          limits,
        },
        { scheduler, observer, media },
      ),
    );
  }
  return devices;
}

/** The banner's target: the URL, or each URL with how many devices go to it (in the order given). */
function spread(devices: readonly SimulatedDevice[], urls: readonly string[]): string {
  if (urls.length === 1) return maskUrl(urls[0]!);
  const counts = new Map(urls.map((u) => [u, 0]));
  for (const d of devices) {
    const url = targetUrlFor(d.loginCode, urls);
    counts.set(url, counts.get(url)! + 1);
  }
  return `${urls.length} URLs: ${urls.map((u) => `${maskUrl(u)} (${counts.get(u)} devices)`).join(', ')}`;
}

function ladderBitrates(sink: FarmMediaSink): Record<Quality, number> {
  const out = {} as Record<Quality, number>;
  for (const q of QUALITIES) out[q] = sink.catalogue.rendition(q).nominalBitrate;
  return out;
}
