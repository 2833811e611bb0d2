// The layout of summary.json: what `ivtfarm run` writes and `report`, `compare` and `merge`
// read. Types only (plus the layout's version string), so the farm that builds a summary and
// the report that reads one both import it without importing each other. docs/summary.md
// describes every field.

import type { CapacitySummary } from '../capacity/types.js';
import type { MediaReceived, OrderCounts } from '../farm/platform-driver.js';
import type { GeneratorLimitSummary } from '../metrics/generator-limit.js';
import type { HistogramSummary } from '../metrics/summary.js';
import type { ThresholdResult } from '../metrics/thresholds.js';
import type { GaugeTotals, SerializedTotals } from '../metrics/totals.js';
import type { CheckResult } from '../run/checks.js';
import type { Verdict } from '../run/exit-codes.js';
import type { StopReason } from '../run/stop.js';
import type { Parameters, Tags } from '../scenario/types.js';

/** Version of the summary.json layout; bump on any incompatible change (docs/summary.md). */
export const SUMMARY_SCHEMA = 'ivtfarm.summary/1';

export interface RunSummary {
  schema: typeof SUMMARY_SCHEMA;
  run: {
    name: string;
    description: string;
    file: string | null;
    /** The scenario's `tags:` (older summaries: absent). */
    tags?: Tags;
    /** `${VAR}` names used and `--set` overrides (secrets masked). */
    parameters?: Parameters;
    started_at: string;
    ended_at: string;
    duration_s: number;
    stop_reason: StopReason;
    stop_detail: string;
    exit_code: number;
    verdict: Verdict;
    /** Why the run failed, first reason first (checks, thresholds, lost devices); empty on a pass. Absent before 0.2. */
    reasons?: string[];
  };
  environment: {
    ivtfarm: string;
    node: string;
    os: string;
    cpu: string;
    cores: number;
    memory_bytes: number;
  };
  /** `urls`: every device endpoint of a remote target (absent before 0.3 and for the embedded one). */
  target: { kind: 'embedded' | 'remote'; url: string | null; urls?: string[] };
  devices: {
    planned: number;
    workers: number;
    shard: string;
    lost: Array<{ worker: number; devices: number; error: string }>;
    /** Mix entries by name, with their tags (the `mix` label of per-device metrics). */
    mix?: Array<{ name: string; tags: Tags }>;
  };
  /** The built-in run checks (devices came online, none lost…), each with its reason. Absent before 0.2. */
  checks?: CheckResult[];
  thresholds: ThresholdResult[];
  aborted_by: ThresholdResult | null;
  generator: GeneratorLimitSummary;
  metrics: {
    counters: Record<string, number>;
    gauges: Record<string, GaugeTotals>;
    /** In the metric's unit (ms for durations). */
    histograms: Record<string, HistogramSummary>;
  };
  /** Exact, mergeable run totals (HDR histograms encoded) for shards and baselines. */
  totals: SerializedTotals;
  /** Totals of each threshold window (`during`), by label, so that merged shards judge them exactly. */
  window_totals?: Record<string, SerializedTotals>;
  platform: {
    stats: Record<string, unknown> | null;
    publishes: OrderCounts | null;
    records: OrderCounts | null;
    events: Record<string, number>;
    /** What the embedded platform received for its orders (streams' bitrate, recordings' segments). */
    received: MediaReceived | null;
  } | null;
  /** The limit finder's result, when the scenario has `capacity:`. */
  capacity: CapacitySummary | null;
  /** What the players of `viewers:` saw, by protocol (absent without players). */
  viewers?: Record<string, ViewerProtocolSummary>;
  /** Only in a run made by `ivtfarm merge`: how its per-second series was combined. */
  merge?: MergeFacts;
}

/** One protocol's players (src/viewer/summary.ts); times in ms. */
export interface ViewerProtocolSummary {
  /** Most players playing at once (viewers_playing). */
  players_max: number;
  /** Sum over seconds of the players playing. */
  player_seconds: number;
  ttff_ms: HistogramSummary | null;
  delay_ms: HistogramSummary | null;
  stalls: number;
  stall_ms: HistogramSummary | null;
  received_bytes: number;
  /** Mean received bitrate per playing player: received bytes × 8 / player-seconds. */
  bitrate_bps: number | null;
  /** Counted failures by reason (docs/viewers.md). */
  failures: Record<string, number>;
}

/** How `ivtfarm merge` combined the shards' per-second histograms. */
export interface MergeFacts {
  shards: string[];
  /**
   * `exact`: every second's percentiles come from the shards' buckets added up; `worst_shard`:
   * some seconds had no buckets in a shard (a run made before histograms.jsonl), their
   * percentiles are the worst shard's.
   */
  per_second_percentiles: 'exact' | 'worst_shard';
  /** Histogram-seconds that two or more shards shared, merged from buckets / from summaries. */
  exact_seconds: number;
  approximate_seconds: number;
  /** Shard directories with no histograms.jsonl. */
  shards_without_buckets: string[];
}
