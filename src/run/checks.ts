// The built-in run checks: always on (each can be turned off under `checks:`), judged at the end
// of the run from its totals, so a run where nothing happened can never pass.

import type { CapacitySummary } from '../capacity/types.js';
import { parseSeriesKey } from '../metrics/labels.js';
import type { RunChecks } from '../scenario/types.js';

export interface CheckResult {
  /** Stable name (JUnit test case, summary.json). */
  name:
    | 'devices came online'
    | 'devices never online'
    | 'devices lost'
    | 'viewers lost'
    | 'capacity step held';
  ok: boolean;
  /** Why it passed or failed, in words a person acts on. */
  reason: string;
  /** Turned off in the scenario: shown, never judged. */
  skipped: boolean;
}

export interface CheckInput {
  checks: RunChecks;
  counters: ReadonlyMap<string, number>;
  lost: ReadonlyArray<{ worker: number; devices: number; error: string; who?: string }>;
  /** Players gone with crashed viewer threads; null or absent: the run has no viewers (no check). */
  lostViewers?: ReadonlyArray<{ thread: number; players: number; error: string }> | null;
  /** The limit finder pushes until logins fail: the never-online share is not a fault there. */
  capacitySearch: boolean;
  /** The limit finder's result (null: no capacity search, or not known, as in a merge). */
  capacity?: CapacitySummary | null;
}

/** The checks of a scenario written before `checks:` existed: all on. */
export const DEFAULT_CHECKS: RunChecks = {
  preflight: true,
  anyOnline: true,
  neverOnline: 0,
  lostDevices: true,
  lostViewers: true,
  capacityHeld: true,
};

const pct = (x: number) => `${Number((x * 100).toPrecision(3))} %`;

/** "refused http_401 × 20, failed connection_refused × 3": what became of the logins. */
export function loginOutcomes(counters: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  for (const [key, n] of counters) {
    const { name, labels } = parseSeriesKey(key);
    if (name === 'logins' && n > 0) parts.push(`${labels.result} ${labels.reason} × ${n}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'no login was attempted';
}

function off(name: CheckResult['name'], field: string): CheckResult {
  return { name, ok: true, reason: `off (checks.${field}: false)`, skipped: true };
}

export function evaluateChecks(input: CheckInput): CheckResult[] {
  const { checks, counters } = input;
  const started = counters.get('devices_started') ?? 0;
  const online = counters.get('devices_reached_online') ?? 0;
  const logins = loginOutcomes(counters);
  const results: CheckResult[] = [];

  if (!checks.anyOnline) results.push(off('devices came online', 'any_online'));
  else if (online > 0)
    results.push({
      name: 'devices came online',
      ok: true,
      reason: `${online} of ${started} started devices came online`,
      skipped: false,
    });
  else
    results.push({
      name: 'devices came online',
      ok: false,
      reason:
        started === 0
          ? 'no device ever came online: none was started'
          : `no device ever came online (${started} started; logins: ${logins})`,
      skipped: false,
    });

  const lostDevices = input.lost.reduce((n, l) => n + l.devices, 0);
  // A crashed worker's devices are judged by the lost-devices check, not here: its counters stop
  // mid-way, so its share is taken out (at most all its devices, which may leave a few uncounted).
  const never = Math.max(0, started - online - lostDevices);
  const judged = Math.max(0, started - lostDevices);
  if (checks.neverOnline === null) results.push(off('devices never online', 'never_online'));
  else if (input.capacitySearch)
    results.push({
      name: 'devices never online',
      ok: true,
      reason: 'not judged in a capacity search (it pushes until logins fail)',
      skipped: true,
    });
  else {
    const allowed = checks.neverOnline;
    const ok = judged === 0 || never / judged <= allowed;
    results.push({
      name: 'devices never online',
      ok,
      reason: ok
        ? `${never} of ${judged} started devices never came online (allowed: ${pct(allowed)})`
        : `${never} of ${judged} started devices (${pct(never / judged)}) never came online, allowed ${pct(allowed)} (logins: ${logins})`,
      skipped: false,
    });
  }

  if (!checks.lostDevices) results.push(off('devices lost', 'lost_devices'));
  else
    results.push({
      name: 'devices lost',
      ok: lostDevices === 0,
      reason:
        lostDevices === 0
          ? 'no device was lost to a crashed worker'
          : `${lostDevices} devices lost: ${input.lost.map((l) => `${l.who ?? `worker ${l.worker}`} crashed (${l.error})`).join('; ')}`,
      skipped: false,
    });
  if (input.lostViewers) results.push(viewersLostCheck(input.lostViewers, checks.lostViewers));
  const capacity = input.capacity;
  if (capacity) results.push(capacityCheck(capacity, checks.capacityHeld));
  return results;
}

/** A viewer thread that crashed took its players with it: what they would have seen is unknown. */
function viewersLostCheck(lost: NonNullable<CheckInput['lostViewers']>, on: boolean): CheckResult {
  const name = 'viewers lost';
  if (!on) return off(name, 'lost_viewers');
  const players = lost.reduce((n, l) => n + l.players, 0);
  return {
    name,
    ok: lost.length === 0,
    reason:
      lost.length === 0
        ? 'no player was lost to a crashed viewer thread'
        : `${players} players lost: ${lost.map((l) => `viewer thread ${l.thread} crashed (${l.error})`).join('; ')}`,
    skipped: false,
  };
}

/** A capacity search that found no level holding names no capacity: it cannot pass. */
function capacityCheck(c: CapacitySummary, on: boolean): CheckResult {
  const name = 'capacity step held';
  if (!on) return off(name, 'capacity_held');
  if (c.capacity !== null)
    return {
      name,
      ok: true,
      reason: `capacity ${c.capacity} ${c.unit} (the last step that held)`,
      skipped: false,
    };
  const reason =
    c.broke_at !== null
      ? `no step of the capacity search held: the first level, ${c.broke_at} ${c.unit}, already broke (${c.first_broken ?? 'a service level'}); start lower`
      : `the capacity search ended (${c.ended}) before any step was judged`;
  return { name, ok: false, reason, skipped: false };
}

/** Every check held, the lost-devices one aside (it has its own exit code, 97). */
export function checksPassed(results: readonly CheckResult[]): boolean {
  return results.every((c) => c.ok || c.name === 'devices lost');
}

/** Devices lost to crashed workers, as judged (0 when the check is off). */
export function devicesLostJudged(results: readonly CheckResult[], lost: CheckInput['lost']): number {
  const check = results.find((c) => c.name === 'devices lost');
  return check && !check.skipped && !check.ok ? lost.reduce((n, l) => n + l.devices, 0) : 0;
}

/** The reasons a run failed its checks, the first one first (the verdict line shows it). */
export function failedReasons(results: readonly CheckResult[]): string[] {
  return results.filter((c) => !c.ok).map((c) => c.reason);
}
