import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SUMMARY_SCHEMA } from '../src/core/summary-types.js';
import type { HistogramSummary } from '../src/metrics/summary.js';
import {
  BaselineError,
  compareRuns,
  comparisonExitCode,
  DEFAULT_TOLERANCES,
  formatComparison,
  loadTolerances,
  parseTolerances,
  readRunSummary,
} from '../src/report/compare.js';
import { formatSummary } from '../src/report/console.js';
import type { CapacitySection, ReportSummary } from '../src/report/types.js';

const h = (p99: number, count = 1000): HistogramSummary => ({
  count,
  min: p99 / 10,
  mean: p99 / 3,
  p50: p99 / 4,
  p90: p99 / 2,
  p95: p99 * 0.8,
  p99,
  max: p99 * 1.5,
});

function capacity(value: number | null, brokeAt: number | null): CapacitySection {
  return {
    mode: 'devices',
    unit: 'devices',
    steps: [],
    service_levels: [{ name: 'keepalive', metric: 'keepalive_rtt', expression: 'p(99)<500', window: 'hold' }],
    capacity: value,
    broke_at: brokeAt,
    first_broken: brokeAt === null ? null : 'keepalive',
    lower_bound: false,
    lower_bound_reason: null,
    ended: brokeAt === null ? 'max_reached' : 'broken',
  };
}

function summary(over: {
  histograms?: Record<string, HistogramSummary>;
  counters?: Record<string, number>;
  capacity?: CapacitySection;
}): ReportSummary {
  return {
    schema: SUMMARY_SCHEMA,
    run: {
      name: 'nightly',
      description: '',
      file: null,
      started_at: '2026-11-26T00:00:00.000Z',
      ended_at: '2026-11-26T00:10:00.000Z',
      duration_s: 600,
      stop_reason: 'completed',
      stop_detail: '',
      exit_code: 0,
      verdict: 'pass',
    },
    environment: { ivtfarm: '0.1.0', node: 'v20', os: 'linux', cpu: 'x', cores: 2, memory_bytes: 1 },
    target: { kind: 'embedded', url: null },
    devices: { planned: 1000, workers: 2, shard: '0/1', lost: [] },
    thresholds: [],
    aborted_by: null,
    generator: { limited: false, limitedSeconds: 0, firstLimitedAt: null, reasons: [] },
    metrics: {
      counters: {
        'logins{result:ok,reason:ok}': 1000,
        'rpcs{method:Keepalive,direction:to_ivc}': 60_000,
        'disconnects{reason:shutdown}': 1000,
        ...over.counters,
      },
      gauges: {},
      histograms: {
        login_duration: h(40),
        keepalive_rtt: h(100),
        'rpc_duration{method:Keepalive,direction:to_ivc}': h(1),
        ...over.histograms,
      },
    },
    totals: {} as ReportSummary['totals'],
    platform: null,
    capacity: over.capacity ?? null,
  };
}

const flagOf = (c: ReturnType<typeof compareRuns>, name: string) => c.rows.find((r) => r.name === name)?.flag;

describe('baseline comparison', () => {
  test('the same run compared with itself: nothing flagged, exit 0', () => {
    const c = compareRuns(summary({}), summary({}));
    assert.equal(c.regressions, 0);
    assert.equal(c.improvements, 0);
    assert.equal(comparisonExitCode(c), 0);
    assert.ok(c.rows.length >= 3);
    assert.deepEqual(c.warnings, []);
  });

  test('a p99 regression is flagged, noise and sub-floor changes are not', () => {
    const base = summary({});
    const next = summary({
      histograms: {
        keepalive_rtt: h(180), // +80 %, +80 ms
        login_duration: h(44), // +10 %: noise
        'rpc_duration{method:Keepalive,direction:to_ivc}': h(2), // +100 % but only +1 ms
      },
    });
    const c = compareRuns(base, next);
    assert.equal(flagOf(c, 'keepalive_rtt p99'), 'regression');
    assert.equal(flagOf(c, 'login_duration p99'), 'ok');
    assert.equal(flagOf(c, 'rpc_duration{method:Keepalive,direction:to_ivc} p99'), 'ok');
    assert.equal(c.regressions, 1);
    assert.equal(comparisonExitCode(c), 98);
    const row = c.rows.find((r) => r.name === 'keepalive_rtt p99')!;
    assert.equal(row.base, 100);
    assert.equal(row.next, 180);
    assert.equal(Math.round(row.delta_pct!), 80);
    assert.match(formatComparison(c), /✗ regression\s+keepalive_rtt p99\s+100ms → 180ms \(\+80\.0%\)/);
  });

  test('runs of different scenarios or machines are compared, with a warning', () => {
    const other = summary({});
    other.run.name = 'smoke';
    other.environment.cores = 16;
    const c = compareRuns(summary({}), other);
    assert.deepEqual(c.warnings, [
      'different scenarios: nightly vs smoke',
      'different generator machines: 2 vs 16 cores',
    ]);
    assert.match(formatComparison(c), /! different scenarios: nightly vs smoke/);
  });

  test('histograms with too few samples are not compared', () => {
    const c = compareRuns(
      summary({ histograms: { alarm_rtt: h(10, 5) } }),
      summary({ histograms: { alarm_rtt: h(900, 5) } }),
    );
    assert.equal(flagOf(c, 'alarm_rtt p99'), undefined);
  });

  test('a capacity drop beyond the tolerance is a regression; a small one is not; a rise is an improvement', () => {
    const base = summary({ capacity: capacity(1000, 1100) });
    assert.equal(
      flagOf(compareRuns(base, summary({ capacity: capacity(800, 900) })), 'capacity (devices)'),
      'regression',
    );
    assert.equal(
      flagOf(compareRuns(base, summary({ capacity: capacity(980, 1100) })), 'capacity (devices)'),
      'ok',
    );
    assert.equal(
      flagOf(compareRuns(base, summary({ capacity: capacity(1300, 1400) })), 'capacity (devices)'),
      'improvement',
    );
    const none = compareRuns(base, summary({ capacity: capacity(null, 100) }));
    assert.equal(flagOf(none, 'capacity (devices)'), 'regression');
    assert.match(none.rows[0]!.note, /keepalive broke first at 100/);
  });

  test('error rates: a rise beyond floor and percentage is a regression, a fall an improvement, a tiny one neither', () => {
    const base = summary({ counters: { 'rpc_errors{method:Keepalive,code:timeout}': 6 } }); // 0.01 %
    const worse = summary({ counters: { 'rpc_errors{method:Keepalive,code:timeout}': 600 } }); // ~1 %
    const tiny = summary({ counters: { 'rpc_errors{method:Keepalive,code:timeout}': 30 } }); // 0.05 %: below the 0.1 pp floor
    assert.equal(flagOf(compareRuns(base, worse), 'rpc_errors / rpcs'), 'regression');
    assert.equal(flagOf(compareRuns(worse, base), 'rpc_errors / rpcs'), 'improvement');
    assert.equal(flagOf(compareRuns(base, tiny), 'rpc_errors / rpcs'), 'ok');
  });

  test("a disconnect reason or an RPC error code never seen before is flagged; the farm's own disconnects are not", () => {
    const c = compareRuns(
      summary({}),
      summary({
        counters: {
          'disconnects{reason:seq_mismatch}': 1,
          'disconnects{reason:scenario}': 300,
          'rpc_errors{method:RTMPPublish,code:12}': 1,
        },
      }),
    );
    const names = c.rows.filter((r) => r.kind === 'new_failure').map((r) => r.name);
    assert.deepEqual(names, ['disconnect reason seq_mismatch', 'rpc error RTMPPublish code 12']);
  });

  test('the console summary carries the comparison lines', () => {
    const next = summary({ histograms: { keepalive_rtt: h(300) } });
    next.baseline = compareRuns(summary({}), next);
    const text = formatSummary(next);
    assert.match(text, /baseline nightly \(2026-11-26T00:00:00\.000Z\): 1 regression\(s\)/);
    assert.match(text, /✗ regression\s+keepalive_rtt p99/);
  });

  test('tolerances: defaults, a YAML file, per-metric overrides, clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-tol-'));
    const file = join(dir, 'tolerances.yaml');
    writeFileSync(
      file,
      'capacity_drop_pct: 30\nlatency: { floor_ms: 100 }\nlatency_overrides:\n  keepalive_rtt: { increase_pct: 500 }\n',
    );
    const t = loadTolerances(file);
    assert.equal(t.capacity_drop_pct, 30);
    assert.equal(t.latency.floor_ms, 100);
    assert.equal(t.latency.increase_pct, DEFAULT_TOLERANCES.latency.increase_pct);
    const base = summary({ capacity: capacity(1000, 1100) });
    const next = summary({ capacity: capacity(800, 900), histograms: { keepalive_rtt: h(350) } });
    assert.equal(compareRuns(base, next, t).regressions, 0, 'loosened tolerances accept both');
    assert.throws(
      () => parseTolerances({ capacity_drop: 3 }),
      (e: Error) => e instanceof BaselineError && /capacity_drop: unknown key/.test(e.message),
    );
    assert.throws(() => parseTolerances({ latency: { floor_ms: -1 } }), /latency\.floor_ms: want a number/);
  });

  test('readRunSummary refuses what is not a summary and says a missing one means an unfinished run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-sum-'));
    assert.throws(() => readRunSummary(dir), /no summary \(the run did not finish\)/);
    writeFileSync(join(dir, 'summary.json'), '{"schema":"other/1"}');
    assert.throws(() => readRunSummary(dir), /not an ivtfarm summary/);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary({})));
    assert.equal(readRunSummary(join(dir, 'summary.json')).run.name, 'nightly');
  });
});
