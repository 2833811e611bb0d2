// The deterministic device plan: which device is which. The weighted mix is met exactly
// (largest-remainder apportionment), then shuffled with the scenario's seed so that every
// profile is spread over the ramp instead of arriving in blocks. Same scenario + seed → the
// same list, on any machine, so shards of one run agree without talking to each other.
import { createRandom, deviceSeed, seededRandom } from '../core/random.js';
import { compileLoginCode } from '../scenario/template.js';
import type { DeviceKind, DeviceProfile, DevicePush, Faults, Scenario } from '../scenario/types.js';

export interface PlannedDevice {
  /** Global index over the whole run (all shards); devices start in index order. */
  index: number;
  loginCode: string;
  kind: DeviceKind;
  channels: number;
  profile: DeviceProfile;
  /** Shared, read-only: every device of one mix entry holds the same object. */
  faults: Readonly<Faults>;
  hardwareModel: string;
  firmwareModel: string;
  /** Local address to bind the device's sockets to; null lets the OS choose. */
  sourceAddress: string | null;
  /** Name of the mix entry the device comes from (for per-profile metrics). */
  mix: string;
}

/** Shard `index` of `count` (0-based, like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX). */
export interface Shard {
  index: number;
  count: number;
}

export interface PlanOptions {
  shard?: Shard;
}

/** `"2/4"` → `{ index: 2, count: 4 }`; throws on anything else (for a `--shard i/n` flag). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) {
    throw new RangeError(`invalid shard "${text}" (expected i/n with 0 <= i < n, e.g. 0/4)`);
  }
  return shard;
}

function checkShard(shard: Shard): void {
  if (!Number.isInteger(shard.index) || !Number.isInteger(shard.count) || shard.count < 1) {
    throw new RangeError('shard count must be an integer >= 1');
  }
  if (shard.index < 0 || shard.index >= shard.count)
    throw new RangeError('shard index must be in [0, count)');
}

/** Does global device `index` belong to `shard`? Devices are dealt round-robin. */
export function inShard(index: number, shard: Shard): boolean {
  return index % shard.count === shard.index;
}

/**
 * How many of the first `total` global devices belong to `shard`. With round-robin dealing, a
 * global concurrency target T is met when every shard runs `shardShare(T, shard)` devices.
 */
export function shardShare(total: number, shard: Shard): number {
  const t = Math.max(0, Math.floor(total));
  return t > shard.index ? Math.ceil((t - shard.index) / shard.count) : 0;
}

/** Largest-remainder apportionment of `total` items by `weights`; ties go to the earlier entry. */
export function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new RangeError('weights must add up to more than 0');
  const quotas = weights.map((w) => (w / sum) * total);
  const counts = quotas.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = quotas
    .map((q, i) => ({ i, rest: q - Math.floor(q) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    counts[i]! += 1;
    left -= 1;
  }
  return counts;
}

/** The mix entry of every device, in index order: exact proportions, seeded shuffle. */
function mixAssignment(weights: readonly number[], total: number, seed: number): Uint16Array {
  const counts = apportion(weights, total);
  const assignment = new Uint16Array(total);
  let at = 0;
  counts.forEach((n, entry) => {
    assignment.fill(entry, at, at + n);
    at += n;
  });
  const random = createRandom(seed, 'plan');
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = assignment[i]!;
    assignment[i] = assignment[j]!;
    assignment[j] = tmp;
  }
  return assignment;
}

/** The devices of the run (or of one shard of it), in index order. */
export function planDevices(
  scenario: Pick<Scenario, 'seed' | 'devices'>,
  options: PlanOptions = {},
): PlannedDevice[] {
  const { devices, seed } = scenario;
  const shard = options.shard ?? { index: 0, count: 1 };
  checkShard(shard);
  if (devices.mix.length > 0xffff) throw new RangeError('at most 65535 mix entries');
  const assignment = mixAssignment(
    devices.mix.map((m) => m.weight),
    devices.count,
    seed,
  );
  const loginCode = compileLoginCode(devices.loginCode);
  const addresses = devices.sourceAddresses;
  const out: PlannedDevice[] = [];
  for (let index = shard.index; index < devices.count; index += shard.count) {
    const entry = devices.mix[assignment[index]!]!;
    out.push({
      index,
      loginCode: loginCode(index, index % shard.count),
      kind: entry.kind,
      channels: entry.channels,
      profile: entry.profile,
      faults: entry.faults,
      hardwareModel: entry.hardwareModel,
      firmwareModel: entry.firmwareModel,
      sourceAddress: addresses.length > 0 ? addresses[index % addresses.length]! : null,
      mix: entry.name,
    });
  }
  return out;
}

/** A standing push's URL for one channel: the scenario's template with the device filled in. */
export function pushUrl(template: string, loginCode: string, channel: number): string {
  return template
    .replaceAll('{login_code}', encodeURIComponent(loginCode))
    .replaceAll('{channel}', String(channel));
}

/**
 * The channels device `index` pushes by itself under `devices.push` (0 when it is not among the
 * `fraction` chosen by the seed): the first `push.channels` of its own. The worker that runs the
 * device and the viewers' plan (src/viewer/plan.ts) both ask here, so they agree.
 */
export function pushedChannels(push: DevicePush, seed: number, index: number, channels: number): number {
  if (seededRandom(deviceSeed(seed ^ 0x70757368, index))() >= push.fraction) return 0;
  return Math.min(push.channels, channels);
}
