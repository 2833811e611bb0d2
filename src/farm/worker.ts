/**
 * Worker thread entry: runs one shard of devices on this thread's event loop, with one batched
 * scheduler for all of them, and ships metric deltas to the coordinator once a second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HeapTrimmer } from '../core/heap-trim.js';
import { deviceSeed, seededRandom } from '../core/random.js';
import { Scheduler } from '../core/scheduler.js';
import { targetUrlFor } from '../core/target-choice.js';
import { SimulatedDevice } from '../device/device.js';
import { GeneratorHealthSampler } from '../metrics/health.js';
import { type GaugeHandle, MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import type { RTMPPublishConfigEntry } from '../protocol/methods.js';
import type { AlarmPlan } from '../scenario/types.js';
import { AlarmGenerator } from './alarm-generator.js';
import { DeviceMetrics } from './device-metrics.js';
import { createMediaSink } from './media-sink.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { NoticedDeviceMetrics, type OrderNotice } from './order-notices.js';
import { pushedChannels, pushUrl } from './plan.js';
import { within } from './within.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

const registry = new MetricsRegistry({ source: `worker-${init.workerIndex}` });
/** One observer per mix entry: the `mix` label is resolved once per entry, not per sample. */
const observers = new Map<string, DeviceMetrics>();
const notify = (notice: OrderNotice) => post({ type: 'notice', notice });
const observerOf = (mix: string) =>
  observers.get(mix) ??
  observers
    .set(
      mix,
      init.noticeOrders
        ? new NoticedDeviceMetrics(registry, mix, notify, (d) => channelsOf(d.index))
        : new DeviceMetrics(registry, mix),
    )
    .get(mix)!;
const health = new GeneratorHealthSampler(registry, { worker: String(init.workerIndex) });
const scheduler = new Scheduler();
const media = createMediaSink(
  init,
  registry,
  scheduler,
  init.noticeOrders ? (mark) => notify({ type: 'stream', mark }) : undefined,
);
const random = seededRandom(deviceSeed(init.seed, 1_000_000 + init.workerIndex));

// Devices are built when first started: a shard's tail may never be reached by the ramp.
const devices: Array<SimulatedDevice | undefined> = new Array(init.devices.length);
let running = 0;
let stopping = false;

function device(i: number): SimulatedDevice {
  let d = devices[i];
  if (!d) {
    const plan = init.devices[i]!;
    d = new SimulatedDevice(
      {
        url: targetUrlFor(plan.loginCode, init.urls),
        loginCode: plan.loginCode,
        password: init.password,
        index: plan.index,
        hardwareModel: plan.hardwareModel,
        firmwareModel: plan.firmwareModel,
        kind: plan.kind,
        channels: plan.channels,
        profile: plan.profile,
        // One object per mix entry, so its devices share one resolved profile.
        traits: init.traits[plan.mix],
        faults: plan.faults,
        localAddress: plan.sourceAddress ?? undefined,
        tls: init.tls ?? undefined,
        bitrates: init.bitrates,
        timings: { startDelayMaxMs: init.startupJitterMs, ...init.timings },
        rtmpPublishConfig: standingPush(plan.index, plan.loginCode, plan.channels),
      },
      {
        scheduler,
        observer: observerOf(plan.mix),
        media: media ?? undefined,
        random: seededRandom(deviceSeed(init.seed, plan.index)),
      },
    );
    devices[i] = d;
  }
  return d;
}

/** The standing push of a device chosen by `devices.push` (deterministic per seed and index). */
function standingPush(
  index: number,
  loginCode: string,
  channels: number,
): RTMPPublishConfigEntry[] | undefined {
  const push = init.push;
  const pushed = push ? pushedChannels(push, init.seed, index, channels) : 0;
  if (!push || pushed === 0) return undefined;
  const entries: RTMPPublishConfigEntry[] = [];
  for (let ch = 0; ch < pushed; ch++) {
    entries.push({ enable: true, channel: ch, quality: push.quality, url: pushUrl(push.url, loginCode, ch) });
  }
  return entries;
}

/** Channels of device `index` (by plan index), and how many of them push by themselves. */
let slotOf: Map<number, number> | null = null;
function channelsOf(index: number): { channels: number; pushing: number } {
  slotOf ??= new Map(init.devices.map((p, i) => [p.index, i]));
  const i = slotOf.get(index)!;
  const plan = init.devices[i]!;
  return {
    channels: plan.channels,
    pushing: standingPush(plan.index, plan.loginCode, plan.channels)?.length ?? 0,
  };
}

function setRunning(target: number): void {
  const n = Math.max(0, Math.min(init.devices.length, Math.floor(target)));
  while (running < n) device(running++).start();
  while (running > n) void devices[--running]?.stop();
}

/** The first `running` devices that are logged in. */
function onlineDevices(): SimulatedDevice[] {
  const out: SimulatedDevice[] = [];
  for (let i = 0; i < running; i++) if (devices[i]?.isOnline) out.push(devices[i]!);
  return out;
}

/** Picks `fraction` of `pool` at random and applies `fn` to each, spread evenly over `overMs`. */
function spread(
  pool: SimulatedDevice[],
  fraction: number,
  overMs: number,
  fn: (d: SimulatedDevice) => void,
): number {
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const chosen = pool.slice(0, Math.round(pool.length * fraction));
  chosen.forEach((d, k) => {
    if (overMs <= 0) fn(d);
    else scheduler.after((overMs * k) / chosen.length, () => fn(d));
  });
  return chosen.length;
}

const alarms = new AlarmGenerator(scheduler, random, () => running, device);
alarms.setPlan(init.alarms);

// The devices' state gauges (kept by DeviceMetrics) say how many are logged in and how many are
// on their way (a login in flight): the trimmer reads them, no scan of the devices.
const states = registry.gaugeFamily('devices', ['state']);
const [onlineNow, connectingNow, waitingNow] = (['online', 'connecting', 'waiting'] as const).map((s) =>
  states.get(s),
) as [GaugeHandle, GaugeHandle, GaugeHandle];

// Once logins have settled, the heap the burst left behind is given back (docs/device.md#memory).
const trimPause = registry.histogram('heap_trim_pause', { worker: String(init.workerIndex) });
// IVTFARM_HEAP_TRIM=off: no pause at all, for a short hold judged on its lateness tail.
const trimmer =
  process.env.IVTFARM_HEAP_TRIM === 'off'
    ? null
    : new HeapTrimmer({ trimmed: (_freed, pauseMs) => trimPause.record(pauseMs) });

const ticker = startDeltaTicker(registry, (delta) => post({ type: 'metrics', delta }), {
  beforeTake: () => {
    health.tick();
    media?.tick();
    if (stopping || !trimmer) return;
    void trimmer.tick(onlineNow.value, connectingNow.value + waitingNow.value > 0);
  },
});

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  alarms.setPlan(null);
  const stops: Promise<void>[] = [];
  for (let i = 0; i < devices.length; i++) if (devices[i]) stops.push(devices[i]!.stop());
  // A platform that never completes a close handshake must not hold the run hostage.
  await within(Promise.all(stops), 3000);
  // Recordings finish their last upload and send op=save (each bounded by its own stop timeout).
  if (media) await within(media.close(), 12_000);
  media?.tick();
  ticker.stop(false);
  health.tick();
  post({ type: 'stopped', delta: registry.takeDelta() });
  health.stop();
  port.close();
}

port.on('message', (message: ToWorker) => {
  if (stopping) return;
  switch (message.type) {
    case 'target':
      setRunning(message.running);
      break;
    case 'disconnect':
      spread(onlineDevices(), message.fraction, message.overMs, (d) =>
        d.disconnect(message.reconnectAfterMs ?? undefined),
      );
      break;
    case 'reboot':
      spread(onlineDevices(), message.fraction, message.overMs, (d) => {
        if (message.channel === null) d.reboot(message.downtimeMs);
        else d.rebootChannelNow(message.channel, message.downtimeMs);
      });
      break;
    case 'alarms':
      alarms.setPlan(message.plan as AlarmPlan | null);
      break;
    case 'stop':
      void stopAll();
      break;
  }
});

if (init.crashAfterMs !== undefined) {
  setTimeout(() => {
    throw new Error('injected worker crash');
  }, init.crashAfterMs);
}

post({ type: 'ready', devices: init.devices.length });
