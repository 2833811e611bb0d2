// `ivtfarm merge` of shard runs made by real `ivtfarm run --shard` processes: each second's
// percentiles are those of all the shards' samples of that second together (their buckets added
// up), not the worst shard's; a shard without buckets (a run made before histograms.jsonl) still
// merges, and the output says which figures are then approximate.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunSummary } from '../src/core/summary-types.js';
import { mergeParts, type SeriesPart } from '../src/farm/merge-series.js';
import { Aggregator, type SecondSample } from '../src/metrics/aggregator.js';
import { DEFAULT_CATALOGUE, histogramScale } from '../src/metrics/catalogue.js';
import { HdrCounts } from '../src/metrics/hdr.js';
import { parseSeriesKey } from '../src/metrics/labels.js';
import {
  type BucketsLine,
  bucketsLine,
  decodeSecondBuckets,
  encodeSecondBuckets,
} from '../src/metrics/second-buckets.js';
import { summarize } from '../src/metrics/summary.js';
import { readSeconds, runDir } from './agents-support.js';
import { runCli, scenarioFile } from './farm-support.js';

const SCENARIO = `
name: exact-merge
seed: 11
target: embedded
devices:
  count: 40
  login_code: "xm-{index:03}"
  mix: [{ weight: 1, kind: camera, profile: spec }]
  startup_jitter: 2s
stages:
  - { duration: 3s, target: 40 }
  - { duration: 4s, target: 40 }
`;

function readBuckets(dir: string): Map<number, Record<string, string>> {
  const lines = readFileSync(join(dir, 'histograms.jsonl'), 'utf8').split('\n').filter(Boolean);
  return new Map(lines.map((line) => JSON.parse(line) as BucketsLine).map(({ t, h }) => [t, h]));
}

function scaleOf(key: string): number {
  const def = DEFAULT_CATALOGUE.get(parseSeriesKey(key).name);
  return def ? histogramScale(def.unit) : 1;
}

/** The summary of the given encoded seconds added up, computed here from the buckets alone. */
function summaryOf(key: string, encoded: readonly string[]): ReturnType<typeof summarize> {
  const counts = new HdrCounts('f64');
  for (const e of encoded) {
    const h = decodeSecondBuckets(e);
    counts.addSparse(h.buckets, h.count, h.sum, h.min, h.max);
  }
  return summarize(counts, scaleOf(key));
}

test('a merge of two shard runs has exact per-second percentiles; a shard without buckets falls back, and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-exact-merge-'));
  const file = scenarioFile(dir, SCENARIO);
  // Both shards at once, as on two machines: their seconds coincide.
  const shards = await Promise.all(
    [0, 1].map((i) =>
      runCli(['run', file, '--shard', `${i}/2`, '-q', '-o', join(dir, `s${i}`)], { timeoutMs: 120_000 }),
    ),
  );
  for (const r of shards) assert.equal(r.code, 0, r.stderr);
  const shardDirs = [0, 1].map((i) => runDir(join(dir, `s${i}`)));

  // What each shard kept is its own data: its buckets summarize to the figures of its timeseries.
  const shardSeconds = shardDirs.map(
    (d) => new Map(readSeconds(join(d, 'timeseries.jsonl')).map((s) => [s.t, s])),
  );
  const shardBuckets = shardDirs.map(readBuckets);
  for (const [i, seconds] of shardSeconds.entries()) {
    for (const [t, s] of seconds) {
      for (const [key, h] of Object.entries(s.histograms)) {
        if (h.count === 0) continue;
        const encoded = shardBuckets[i]!.get(t)?.[key];
        assert.ok(encoded, `shard ${i} second ${t}: buckets of ${key}`);
        assert.deepEqual(summaryOf(key, [encoded]), h, `shard ${i} second ${t} ${key}`);
      }
    }
  }

  const out = join(dir, 'merged');
  const merged = await runCli(['merge', out, ...shardDirs], { timeoutMs: 120_000 });
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, /per-second percentiles: exact \(\d+ histogram-seconds merged from buckets\)/);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.merge?.per_second_percentiles, 'exact');

  // Every second both shards had samples in: the percentiles of the union of their samples.
  let shared = 0;
  let differsFromWorst = 0;
  for (const s of readSeconds(join(out, 'timeseries.jsonl'))) {
    for (const [key, h] of Object.entries(s.histograms)) {
      const parts = shardSeconds
        .map((seconds) => seconds.get(s.t)?.histograms[key])
        .filter((p) => (p?.count ?? 0) > 0);
      if (parts.length < 2) continue;
      shared++;
      const encoded = shardBuckets.map((b) => b.get(s.t)![key]!);
      assert.deepEqual(h, summaryOf(key, encoded), `second ${s.t} ${key}`);
      assert.equal(h.count, parts[0]!.count + parts[1]!.count);
      // A quantile of the union lies between the shards' own.
      assert.ok(
        h.p99 >= Math.min(parts[0]!.p99, parts[1]!.p99) && h.p99 <= Math.max(parts[0]!.p99, parts[1]!.p99),
      );
      if (h.p50 !== Math.max(parts[0]!.p50, parts[1]!.p50)) differsFromWorst++;
    }
  }
  assert.ok(shared >= 5, `seconds with samples of both shards: ${shared}`);
  assert.equal(summary.merge?.exact_seconds, shared);
  assert.ok(differsFromWorst > 0, 'some merged median is not simply the worse shard’s');
  // The merged run keeps buckets too, so it can be merged again exactly.
  assert.equal(
    readBuckets(out).size,
    readSeconds(join(out, 'timeseries.jsonl')).filter((s) =>
      Object.values(s.histograms).some((h) => h.count > 0),
    ).length,
  );

  // An old shard (no histograms.jsonl): still merged, per-second percentiles the worst shard's, said so.
  const old = join(dir, 'old-shard');
  mkdirSync(old);
  for (const f of ['summary.json', 'scenario.json', 'timeseries.jsonl'])
    copyFileSync(join(shardDirs[1]!, f), join(old, f));
  assert.equal(existsSync(join(old, 'histograms.jsonl')), false);
  const fallbackOut = join(dir, 'merged-old');
  const fallback = await runCli(['merge', fallbackOut, shardDirs[0]!, old], { timeoutMs: 120_000 });
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.match(
    fallback.stdout,
    /per-second percentiles: \d+ histogram-seconds are the worst shard's, not exact \(no histograms\.jsonl in .*old-shard\)/,
  );
  const fallbackSummary = JSON.parse(readFileSync(join(fallbackOut, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(fallbackSummary.merge?.per_second_percentiles, 'worst_shard');
  assert.deepEqual(fallbackSummary.metrics, summary.metrics, 'run totals stay exact either way');
  for (const s of readSeconds(join(fallbackOut, 'timeseries.jsonl'))) {
    for (const [key, h] of Object.entries(s.histograms)) {
      const parts = shardSeconds
        .map((seconds) => seconds.get(s.t)?.histograms[key])
        .filter((p) => (p?.count ?? 0) > 0);
      if (parts.length === 2) assert.equal(h.p99, Math.max(parts[0]!.p99, parts[1]!.p99));
    }
  }
});

test('second buckets round-trip exactly, and a torn or foreign text is refused', () => {
  const counts = new HdrCounts('u32');
  for (const v of [0, 1, 7, 1023, 1024, 2047, 65_537, 3_000_000, 2 ** 32 - 1]) counts.record(v, 3);
  const delta = {
    count: counts.count,
    sum: counts.sum,
    min: counts.min,
    max: counts.max,
    buckets: counts.toSparse(),
  };
  const encoded = encodeSecondBuckets(delta)!;
  assert.deepEqual(decodeSecondBuckets(encoded), delta);
  assert.equal(encodeSecondBuckets({ ...delta, count: 0, buckets: new Uint32Array() }), null);
  assert.throws(() => decodeSecondBuckets(encoded.slice(0, -3)), /end early|add up/);
  assert.throws(() => decodeSecondBuckets('AAAA'), /format/);
});

test('merged shards give every second the figures of one process that saw all their samples', () => {
  // Four sources (two per shard) send a second's keepalive_rtt samples each, for 20 seconds: one
  // aggregator sees them all (a single run), one per shard sees its own (two shard runs).
  const single = new Aggregator();
  const shards = [new Aggregator(), new Aggregator()];
  const singleSeconds: SecondSample[] = [];
  single.onSecond((_raw, sample) => singleSeconds.push(sample));
  const parts: SeriesPart[] = shards.map((aggregator) => {
    const part: SeriesPart = {
      seconds: [],
      buckets: {},
      withoutBuckets: [],
      exactSeconds: 0,
      approximateSeconds: 0,
    };
    aggregator.onSecond((raw, sample) => {
      part.seconds.push(sample);
      const line = bucketsLine(sample.t, raw.histograms);
      if (line) part.buckets[sample.t] = (JSON.parse(line) as BucketsLine).h;
    });
    return part;
  });
  let seed = 12345;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const t0 = 1_800_000_000_000;
  for (let s = 0; s < 20; s++) {
    for (let source = 0; source < 4; source++) {
      const counts = new HdrCounts('u32');
      // Shard 1's sources are slower, and more so every second: the shards' percentiles differ.
      const scale = source >= 2 ? 3_000 + s * 400 : 1_000;
      for (let k = 0; k < 200; k++) counts.record(Math.round(random() ** 3 * scale * 10 + 100));
      const delta = {
        v: 1 as const,
        source: `w${source}`,
        from: t0 + s * 1000,
        to: t0 + s * 1000 + 999,
        counters: { 'keepalives{mix:a}': 200 },
        gauges: {},
        histograms: {
          keepalive_rtt: {
            count: counts.count,
            sum: counts.sum,
            min: counts.min,
            max: counts.max,
            buckets: counts.toSparse(),
          },
        },
      };
      single.add(delta);
      shards[source >> 1]!.add(delta);
    }
  }
  single.closeAll();
  for (const a of shards) a.closeAll();

  const merged = mergeParts(parts);
  assert.equal(merged.seconds.length, singleSeconds.length);
  assert.equal(merged.approximateSeconds, 0);
  let worstWouldDiffer = 0;
  for (const [i, second] of merged.seconds.entries()) {
    const one = singleSeconds[i]!;
    assert.equal(second.t, one.t);
    assert.deepEqual(second.histograms, one.histograms, `second ${second.t}`);
    assert.deepEqual(second.counters, one.counters);
    const shardP99 = parts.map((p) => p.seconds[i]!.histograms.keepalive_rtt!.p99);
    if (Math.max(...shardP99) !== one.histograms.keepalive_rtt!.p99) worstWouldDiffer++;
  }
  // The old merge (worst shard's p99) would have been wrong in most of these seconds.
  assert.ok(
    worstWouldDiffer >= 10,
    `seconds where the worst shard's p99 is not the fleet's: ${worstWouldDiffer}`,
  );
});
