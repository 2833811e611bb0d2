import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { RunSummary } from '../src/core/summary-types.js';
import { runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { compareRuns } from '../src/report/compare.js';
import { writeHtmlReport } from '../src/report/html.js';
import { applyBaseline, writeRunReports } from '../src/report/index.js';
import { writeJunit } from '../src/report/junit.js';
import type { ReportSummary } from '../src/report/types.js';
import { parseScenario } from '../src/scenario/load.js';
import { CHROMIUM, hasChromium, launchChromium } from './browser-support.js';

const scenarioText = (name: string, seconds: number) => `
name: ${name}
target: embedded
seed: 5
devices:
  count: 12
  login_code: "rh-{index:03}"
  startup_jitter: 2s
  mix:
    - { weight: 1, kind: camera, profile: spec }
    - { weight: 1, kind: nvr, channels: 2, profile: vendor }
stages:
  - { duration: 1s, target: 12 }
  - { duration: ${seconds}s, target: 12 }
alarms: { per_channel: "1/5s", types: { motion: 1 }, duration: 2s }
thresholds:
  login_duration: ["p(99)<5000"]
  keepalive_rtt: ["count>1000000"]
`;

async function run(name: string, seconds: number, dir: string, interruptAfterMs?: number): Promise<string> {
  const { scenario, problems } = parseScenario(scenarioText(name, seconds), {
    file: join(dir, `${name}.yaml`),
  });
  assert.ok(scenario, JSON.stringify(problems));
  scenario.workers = 1;
  const progress = new ProgressDisplay(process.stderr, 5000, false);
  progress.log = () => {};
  const result = await runScenario(scenario, {
    progress,
    outputDir: join(dir, 'reports'),
    interrupt:
      interruptAfterMs === undefined
        ? undefined
        : new Promise((resolve) => setTimeout(() => resolve('SIGINT'), interruptAfterMs)),
  });
  return result.dir;
}

interface Rendered {
  charts: number;
  canvases: number;
  rendered: string | null;
  errors: string[];
  requests: string[];
  pwned: unknown;
  text: string;
  distinctColours: number;
  png: Buffer;
}

let browser: Browser;
let work: string;
let runDir: string;

// Runs in the page (kept as source text: the project compiles without DOM types).
const INSPECT = `(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  // Distinct colours in the first chart's canvas: a drawn chart has axes, grid and lines.
  const canvas = document.querySelector('.uplot canvas');
  const colours = new Set();
  if (canvas) {
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < px.length; i += 4 * 7) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
  }
  return {
    charts: data.charts.length,
    canvases: document.querySelectorAll('.uplot canvas').length,
    rendered: document.body.getAttribute('data-charts-rendered'),
    pwned: window.pwned,
    text: document.body.innerText,
    distinctColours: colours.size,
  };
})()`;

interface ChartView {
  id: string;
  xLabels: string[];
  xPx: number[];
  /** Widest time label in the axis font, CSS px. */
  labelWidth: number;
  legend: Array<[string, string]>;
}

// The charts as a reader sees them: time-axis labels and where they are drawn, and the legends.
const CHARTS = `(() => [...document.querySelectorAll('.chart')].map((box) => {
  const labels = (box.getAttribute('data-x-labels') || '').split(' ').filter(Boolean);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  return {
    id: box.getAttribute('data-chart'),
    xLabels: labels,
    xPx: (box.getAttribute('data-x-px') || '').split(' ').filter(Boolean).map(Number),
    labelWidth: Math.max(0, ...labels.map((l) => ctx.measureText(l).width)),
    legend: [...box.querySelectorAll('.u-legend .u-series')].map((r) => [
      r.querySelector('.u-label').textContent,
      r.querySelector('.u-value').textContent,
    ]),
  };
}))()`;

interface JunitView {
  error: string | null;
  tests: string | null;
  failures: string | null;
  cases: Array<{ suite: string; name: string; failure: string | null }>;
}

/** Parses XML with the browser's own parser: a parse error means the file is not well-formed. */
async function parseJunit(xml: string): Promise<JunitView> {
  const page = await browser.newPage();
  try {
    return (await page.evaluate(`((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      const err = doc.getElementsByTagName('parsererror')[0];
      const root = doc.documentElement;
      return {
        error: err ? err.textContent : null,
        tests: root.getAttribute('tests'),
        failures: root.getAttribute('failures'),
        cases: [...doc.getElementsByTagName('testcase')].map((c) => ({
          suite: c.parentElement.getAttribute('name'),
          name: c.getAttribute('name'),
          failure: c.getElementsByTagName('failure')[0]?.getAttribute('message') ?? null,
        })),
      };
    })(${JSON.stringify(xml)})`)) as JunitView;
  } finally {
    await page.close();
  }
}

/** Opens a report from disk with the network off; collects console errors and every request. */
async function open(file: string): Promise<Rendered> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction("document.body.hasAttribute('data-charts-rendered')", null, { timeout: 10_000 });
  const info = (await page.evaluate(INSPECT)) as Omit<Rendered, 'errors' | 'requests' | 'png'>;
  const png = await page.screenshot({ fullPage: true });
  await context.close();
  return { ...info, errors, requests, png };
}

describe('HTML report', {
  skip: hasChromium() ? false : `${CHROMIUM} is missing: the browser tests of the report did not run`,
}, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ivtfarm-report-'));
    runDir = await run('report-html', 4, work);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a real run gives one offline file that draws every chart without console errors', async () => {
    const file = await writeHtmlReport(runDir);
    assert.equal(file, join(runDir, 'report.html'));
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'no external scripts, styles or images');
    const r = await open(file);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.requests, []);
    // Devices, logins, keepalive, RPC p99, alarms, disconnects, event loop, CPU, memory at least.
    assert.ok(r.charts >= 8, `charts: ${r.charts}`);
    assert.equal(r.canvases, r.charts);
    assert.equal(r.rendered, String(r.charts));
    assert.ok(r.distinctColours > 3, `chart canvas has ${r.distinctColours} colours`);
    assert.ok(r.png.length > 50_000, `screenshot of ${r.png.length} bytes looks blank`);
    // The verdict and the failing threshold with its observed value.
    assert.match(r.text, /report-html\s+FAILED/);
    assert.match(r.text, /FAIL\s+keepalive_rtt\s+count>1000000\s+\d+/);
    assert.match(r.text, /pass\s+login_duration\s+p\(99\)<5000/);
    assert.match(r.text, /Devices online vs target/);
    assert.match(r.text, /Percentiles \(whole run\)/);
    assert.match(r.text, /eventloop_delay\{worker:0\}/);
  });

  test('charts read without hovering: mm:ss since start, labels apart, legends with values, waiting devices, rates in %', async () => {
    // Devices waiting out startup_jitter are counted as waiting, never as back-off.
    const seconds = readFileSync(join(runDir, 'timeseries.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { gauges: Record<string, number> });
    assert.ok(
      seconds.some((x) => (x.gauges['devices{state:waiting}'] ?? 0) > 0),
      'devices waiting at the start',
    );
    assert.ok(
      seconds.every((x) => (x.gauges['devices{state:backoff}'] ?? 0) === 0),
      'nobody backed off',
    );

    const dir = join(work, 'readable');
    cpSync(runDir, dir, { recursive: true });
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    summary.thresholds.push({ metric: 'logins{result:ok}', expression: 'rate>0.99', ok: true, observed: 1 });
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const file = await writeHtmlReport(dir);
    const context = await browser.newContext({ offline: true, viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction("document.body.hasAttribute('data-charts-rendered')", null, {
        timeout: 10_000,
      });
      const text = (await page.evaluate('document.body.innerText')) as string;
      assert.match(text, /logins\{result:ok\}\s+rate>0\.99 \(> 99 %\)\s+100 %\s+share/);
      const charts = (await page.evaluate(CHARTS)) as ChartView[];
      assert.ok(charts.length >= 8);
      for (const c of charts) {
        assert.ok(c.xLabels.length >= 2, `${c.id}: time labels ${c.xLabels.join(' ')}`);
        for (const l of c.xLabels) assert.match(l, /^\d\d:\d\d$/, `${c.id}: time label ${l}`);
        for (let i = 1; i < c.xPx.length; i++)
          assert.ok(
            c.xPx[i]! - c.xPx[i - 1]! > c.labelWidth + 4,
            `${c.id}: labels ${c.xLabels[i - 1]} and ${c.xLabels[i]} overlap (${c.xPx.join(' ')} px)`,
          );
        // Not hovering: every series shows its latest value, the time column says so.
        assert.deepEqual(c.legend[0], ['since start', 'latest'], c.id);
        for (const [label, value] of c.legend.slice(1))
          assert.match(value, /^-?[\d,]+(\.\d+)?$/, `${c.id}: legend ${label} shows ${value}`);
      }
      const devices = charts.find((c) => c.id === 'devices')!;
      assert.equal(devices.xLabels[0], '00:00', 'the axis counts from the start');
      assert.ok(
        devices.legend.some(([label]) => label === 'waiting'),
        'the waiting devices are a series of their own',
      );
      // Over the plot: the time under the cursor and the values there.
      const over = page.locator('[data-chart="devices"] .u-over');
      const box = (await over.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const hovered = ((await page.evaluate(CHARTS)) as ChartView[]).find((c) => c.id === 'devices')!;
      assert.match(hovered.legend[0]![1], /^\d\d:\d\d$/);
      assert.notEqual(hovered.legend[0]![1], '00:00');
    } finally {
      await context.close();
    }
  });

  test('platform and scenario strings with markup are shown as text, never run; no password printed', async () => {
    const dir = join(work, 'hostile');
    cpSync(runDir, dir, { recursive: true });
    const evil = '<script>window.pwned=1</script>';
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    summary.run.name = `n${evil}`;
    summary.run.stop_detail = `</script><img src=x onerror="window.pwned=2">`;
    summary.thresholds[0]!.metric = `login_duration${evil}`;
    summary.platform!.stats = { ...summary.platform!.stats, violations: { [evil]: 3 } };
    summary.metrics.counters[`rpc_errors{method:${evil},code:12}`] = 2;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
    scenario.description = evil;
    scenario.devices.password = 'hunter2-not-masked';
    scenario.devices.mix[0].hardwareModel = evil;
    scenario.target = { kind: 'remote', url: 'ws://u:pw-in-url@127.0.0.1:1/ivc?login_passwd=qs-secret' };
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    // A hand-edited time series: label values with markup, as chart legends.
    const line = JSON.stringify({
      t: Math.floor(Date.now() / 1000) + 3600,
      counters: { [`disconnects{reason:${evil}}`]: 1, 'alarms{type:"><svg onload=window.pwned=3>}': 1 },
      gauges: {},
      histograms: {},
    });
    writeFileSync(
      join(dir, 'timeseries.jsonl'),
      `${readFileSync(join(dir, 'timeseries.jsonl'), 'utf8')}${line}\n`,
    );

    const file = await writeHtmlReport(dir);
    const html = readFileSync(file, 'utf8');
    assert.ok(!html.includes(evil), 'the raw markup never appears in the page source');
    for (const secret of ['hunter2-not-masked', 'pw-in-url', 'qs-secret'])
      assert.ok(!html.includes(secret), secret);
    const r = await open(file);
    assert.equal(r.pwned, undefined);
    assert.deepEqual(r.errors, []);
    assert.equal(r.canvases, r.charts);
    assert.ok(r.text.includes(`login_duration${evil}`), 'threshold metric shown as text');
    assert.ok(r.text.includes(`n${evil}`), 'run name shown as text');
    assert.ok(
      r.text.includes(evil) && r.text.includes('"hardwareModel": "<script>'),
      'scenario field shown as text',
    );
    assert.doesNotMatch(r.text, /"password"/);
  });

  test('an interrupted run and a crashed run without summary.json still give a report', async () => {
    const interrupted = await run('report-int', 30, work, 2500);
    const s = JSON.parse(readFileSync(join(interrupted, 'summary.json'), 'utf8')) as RunSummary;
    assert.equal(s.run.verdict, 'interrupted');
    const r1 = await open(await writeHtmlReport(interrupted));
    assert.match(r1.text, /report-int\s+INTERRUPTED/);
    assert.deepEqual(r1.errors, []);
    assert.ok(r1.charts > 0);
    assert.equal(r1.canvases, r1.charts);

    const crashed = join(work, 'crashed');
    cpSync(runDir, crashed, { recursive: true });
    rmSync(join(crashed, 'summary.json'));
    // A crash mid-write leaves a torn last line.
    writeFileSync(
      join(crashed, 'timeseries.jsonl'),
      `${readFileSync(join(crashed, 'timeseries.jsonl'), 'utf8')}{"t":17`,
    );
    const r2 = await open(await writeHtmlReport(crashed));
    assert.deepEqual(r2.errors, []);
    assert.match(r2.text, /no summary: the run did not finish/);
    assert.match(r2.text, /1 unreadable line/);
    assert.match(r2.text, /report-html\s+NO RESULT/);
    assert.match(r2.text, /worst second p99/);
    assert.ok(r2.charts >= 8, `charts without a summary: ${r2.charts}`);
    assert.equal(r2.canvases, r2.charts);
  });

  test('JUnit XML is well-formed: one testcase per threshold, failures where they failed, escaped', async () => {
    const file = writeJunit(runDir);
    assert.equal(file, join(runDir, 'junit.xml'));
    const j = await parseJunit(readFileSync(file, 'utf8'));
    assert.equal(j.error, null);
    assert.deepEqual(
      j.cases.map((c) => [c.suite, c.name, c.failure !== null]),
      [
        ['report-html.checks', 'devices came online', false],
        ['report-html.checks', 'devices never online', false],
        ['report-html.checks', 'devices lost', false],
        ['report-html.thresholds', 'login_duration p(99)<5000', false],
        ['report-html.thresholds', 'keepalive_rtt count>1000000', true],
      ],
    );
    assert.match(j.cases[4]!.failure!, /^keepalive_rtt count>1000000 failed: observed \d+$/);
    assert.equal(j.tests, '5');
    assert.equal(j.failures, '1');

    // Hostile names, a capacity search and a baseline regression.
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as ReportSummary;
    summary.thresholds[0]!.metric = `x<y & "z" ']]> \u0001`;
    const t = Math.floor(Date.parse(summary.run.started_at) / 1000);
    summary.capacity = capacityFixture(t);
    const worse = structuredClone(summary);
    worse.metrics.histograms.login_duration = {
      ...summary.metrics.histograms.login_duration!,
      count: 100,
      p99: 900,
    };
    const base = structuredClone(summary);
    base.metrics.histograms.login_duration = {
      ...summary.metrics.histograms.login_duration!,
      count: 100,
      p99: 10,
    };
    const dir = mkdtempSync(join(work, 'junit-'));
    const j2 = await parseJunit(
      readFileSync(writeJunit({ summary: worse, dir }, compareRuns(base, worse)), 'utf8'),
    );
    assert.equal(j2.error, null);
    assert.equal(
      j2.cases.find((c) => c.suite === 'report-html.thresholds')!.name,
      `x<y & "z" ']]> \ufffd p(99)<5000`,
    );
    const capacityCases = j2.cases.filter((c) => c.suite === 'report-html.capacity');
    assert.deepEqual(
      capacityCases.map((c) => [c.name, c.failure]),
      [
        ['devices step 4 devices', null],
        ['devices step 8 devices', null],
        ['devices step 12 devices', 'at 12 devices: keepalive p99 broke'],
        ['capacity result', null],
      ],
    );
    const regression = j2.cases.find(
      (c) => c.suite === 'report-html.baseline' && c.name === 'login_duration p99',
    );
    assert.match(regression?.failure ?? '', /^regression: 10.00ms → 900ms \+8900\.0%$/);
  });

  test('capacity and baseline sections: the sentence, the step chart, the side-by-side table, exit 98', async () => {
    const dir = join(work, 'capacity');
    cpSync(runDir, dir, { recursive: true });
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ReportSummary;
    summary.capacity = capacityFixture(Math.floor(Date.parse(summary.run.started_at) / 1000));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
    scenario.report = { ...scenario.report, title: 'Nightly capacity', percentiles: [75, 99.9] };
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    // The base run was much faster at logging in: the new run regresses.
    const baseDir = join(work, 'base');
    cpSync(runDir, baseDir, { recursive: true });
    const base = JSON.parse(readFileSync(join(baseDir, 'summary.json'), 'utf8')) as ReportSummary;
    base.capacity = { ...summary.capacity, capacity: 20, broke_at: 24 };
    writeFileSync(join(baseDir, 'summary.json'), JSON.stringify(base));

    const applied = await applyBaseline(dir, baseDir, 0);
    assert.equal(applied.exitCode, 98);
    assert.match(applied.text, /✗ regression\s+capacity \(devices\)\s+20 devices → 8 devices \(-60\.0%\)/);
    const stored = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ReportSummary;
    assert.equal(stored.baseline?.regressions, applied.comparison.regressions);
    // A failed-threshold run keeps its own exit code.
    assert.equal((await applyBaseline(dir, baseDir, 99)).exitCode, 99);

    const files = await writeRunReports(dir);
    const r = await open(files.html!);
    assert.deepEqual(r.errors, []);
    assert.equal(r.canvases, r.charts);
    assert.match(r.text, /capacity 8 devices; at 12, keepalive p99 broke first/);
    assert.match(r.text, /Load level per step/);
    assert.match(r.text, /^Nightly capacity\s+PASSED|^Nightly capacity\s+FAILED/m);
    // Percentiles the scenario asked for, computed from the exact totals.
    assert.match(r.text, /series\s+unit\s+count\s+min\s+mean\s+p75\s+p99\.9\s+max/);
    // login_duration: count, min, mean, p75, p99.9, max — with 12 samples p99.9 is the maximum.
    const row = /\nlogin_duration\tms\t(\d+)\t\S+\t\S+\t(\S+)\t(\S+)\t(\S+)\n/.exec(r.text);
    assert.ok(row, 'login_duration row');
    assert.equal(Number(row[1]), summary.metrics.histograms.login_duration!.count);
    assert.equal(row[3], row[4]);
    assert.ok(Number(row[2]) <= Number(row[3]));
    assert.match(r.text, /regression\s+capacity \(devices\)\s+20 devices\s+8 devices\s+-60\.0%/);
    // The step chart's time axis is the steps' own (epoch seconds, not rounded).
    const data = JSON.parse(/id="report-data">([^<]*)</.exec(readFileSync(files.html!, 'utf8'))![1]!) as {
      charts: Array<{ id: string; data: number[][] }>;
    };
    const steps = data.charts.find((c) => c.id === 'capacity')!;
    assert.deepEqual(steps.data[0]!.slice(0, 3), [
      summary.capacity.steps[0]!.ramp!.from,
      summary.capacity.steps[0]!.ramp!.from + 1,
      summary.capacity.steps[1]!.ramp!.from,
    ]);
    assert.deepEqual(steps.data[1]!.slice(0, 3), [4, 4, 8]);
    const j = await parseJunit(readFileSync(files.junit!, 'utf8'));
    assert.ok(j.cases.some((c) => c.suite === 'report-html.baseline' && c.failure !== null));
  });
});

function capacityFixture(t: number): NonNullable<ReportSummary['capacity']> {
  const step = (level: number, i: number, held: boolean) => ({
    level,
    ramp: { from: t + i * 2, to: t + i * 2 + 1 },
    hold: { from: t + i * 2 + 1, to: t + i * 2 + 2 },
    held,
    complete: true,
    no_data: [],
    broken: held ? [] : ['keepalive p99'],
    observed: { 'keepalive p99': held ? 3 : 700, online: 1 },
  });
  return {
    mode: 'devices',
    unit: 'devices',
    steps: [step(4, 0, true), step(8, 1, true), step(12, 2, false)],
    service_levels: [
      { name: 'keepalive p99', metric: 'keepalive_rtt', expression: 'p(99)<500', window: 'hold' as const },
      { name: 'online', metric: 'devices_online', expression: 'ratio>0.99', window: 'hold' as const },
    ],
    capacity: 8,
    broke_at: 12,
    first_broken: 'keepalive p99',
    lower_bound: false,
    lower_bound_reason: null,
    ended: 'broken',
  };
}
