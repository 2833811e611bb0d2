// `junit.xml` for CI test viewers: one testcase per built-in run check, per threshold, per capacity step and per baseline
// check. The exit code stays the CI gate (docs/ci.md); this file says which check failed and why.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Comparison, formatDelta, formatValue, readRunSummary } from './compare.js';
import { escXml } from './escape.js';
import { capacitySentence, judgedExpression, type ReportSummary } from './types.js';

interface Case {
  name: string;
  classname: string;
  failure: { message: string; detail: string } | null;
  skipped?: string;
  out?: string;
}

interface Suite {
  name: string;
  cases: Case[];
}

const fmt = (v: number | null) => (v === null ? 'no data' : String(Number(v.toPrecision(6))));

/** The built-in run checks: a run where nothing happened fails here even without thresholds. */
function checkSuite(s: ReportSummary): Suite | null {
  if (!s.checks) return null;
  return {
    name: 'checks',
    cases: s.checks.map((c) => ({
      name: c.name,
      classname: `ivtfarm.${s.run.name}.checks`,
      failure: c.ok ? null : { message: c.reason, detail: c.reason },
      ...(c.skipped ? { skipped: c.reason } : {}),
      out: c.reason,
    })),
  };
}

function thresholdSuite(s: ReportSummary): Suite {
  return {
    name: 'thresholds',
    cases: s.thresholds.map((t) => ({
      name: `${t.metric} ${judgedExpression(t)}`,
      classname: `ivtfarm.${s.run.name}.thresholds`,
      failure: t.ok
        ? null
        : {
            message: `${t.metric} ${t.expression} failed: observed ${fmt(t.observed)}`,
            detail:
              s.aborted_by && s.aborted_by.metric === t.metric && s.aborted_by.expression === t.expression
                ? 'this threshold stopped the run early (abort_on_fail)'
                : '',
          },
      out: `observed ${fmt(t.observed)}`,
    })),
  };
}

/** A step that broke is reported as a failure: that is the limit the search found. */
function capacitySuite(s: ReportSummary): Suite | null {
  const c = s.capacity;
  if (!c) return null;
  const cases: Case[] = c.steps.map((st) => ({
    name: `${c.mode} step ${st.level} ${c.unit}`,
    classname: `ivtfarm.${s.run.name}.capacity`,
    failure:
      st.held || !st.complete
        ? null
        : {
            message:
              st.broken.length > 0
                ? `at ${st.level} ${c.unit}: ${st.broken.join(', ')} broke`
                : `at ${st.level} ${c.unit}: no data for ${st.no_data.join(', ')}`,
            detail: Object.entries(st.observed)
              .map(([k, v]) => `${k} observed ${fmt(v)}`)
              .join('\n'),
          },
    out: Object.entries(st.observed)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join('; '),
  }));
  cases.push({
    name: 'capacity result',
    classname: `ivtfarm.${s.run.name}.capacity`,
    failure: c.lower_bound
      ? {
          message: `lower bound only: the generator was saturated (${c.lower_bound_reason ?? ''})`,
          detail: capacitySentence(c),
        }
      : null,
    out: capacitySentence(c),
  });
  return { name: 'capacity', cases };
}

function baselineSuite(s: ReportSummary, c: Comparison): Suite {
  return {
    name: 'baseline',
    cases: c.rows.map((r) => {
      const line =
        `${formatValue(r.base, r.unit)} → ${formatValue(r.next, r.unit)} ${formatDelta(r.delta_pct)}`.trim();
      return {
        name: r.name,
        classname: `ivtfarm.${s.run.name}.baseline`,
        failure: r.flag === 'regression' ? { message: `regression: ${line}`, detail: r.note } : null,
        out: `${r.flag}: ${line}${r.note ? ` (${r.note})` : ''}`,
      };
    }),
  };
}

/** The run's tags as `tag.NAME`, each mix entry's as `mix.ENTRY.NAME` (CI viewers filter on them). */
function tagProperties(s: ReportSummary): string {
  const property = (name: string, value: string) =>
    `<property name="${escXml(name)}" value="${escXml(value)}"/>`;
  const run = Object.entries(s.run.tags ?? {}).map(([k, v]) => property(`tag.${k}`, v));
  const mix = (s.devices.mix ?? []).flatMap((m) =>
    Object.entries(m.tags).map(([k, v]) => property(`mix.${m.name}.${k}`, v)),
  );
  return [...run, ...mix].join('');
}

function caseXml(c: Case): string {
  const open = `    <testcase name="${escXml(c.name)}" classname="${escXml(c.classname)}" time="0"`;
  const inner: string[] = [];
  if (c.skipped !== undefined) inner.push(`      <skipped message="${escXml(c.skipped)}"/>`);
  if (c.failure)
    inner.push(
      `      <failure message="${escXml(c.failure.message)}" type="ivtfarm">${escXml(c.failure.detail || c.failure.message)}</failure>`,
    );
  if (c.out) inner.push(`      <system-out>${escXml(c.out)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
}

/** The JUnit XML text of a run's checks. `baseline` overrides the summary's own comparison. */
export function junitXml(s: ReportSummary, baseline?: Comparison): string {
  const checks = checkSuite(s);
  const suites: Suite[] = [...(checks ? [checks] : []), thresholdSuite(s)];
  const cap = capacitySuite(s);
  if (cap) suites.push(cap);
  const cmp = baseline ?? s.baseline;
  if (cmp) suites.push(baselineSuite(s, cmp));
  const time = s.run.duration_s;
  const count = (x: Suite[]) => x.reduce((n, su) => n + su.cases.length, 0);
  const failures = (x: Suite[]) => x.reduce((n, su) => n + su.cases.filter((c) => c.failure).length, 0);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ivtfarm ${escXml(s.run.name)}" tests="${count(suites)}" failures="${failures(suites)}" errors="0" time="${time}">`,
  ];
  for (const su of suites) {
    out.push(
      `  <testsuite name="${escXml(`${s.run.name}.${su.name}`)}" tests="${su.cases.length}" failures="${failures([su])}" errors="0" skipped="${su.cases.filter((c) => c.skipped !== undefined).length}" time="${su.name === 'thresholds' ? time : 0}" timestamp="${escXml(s.run.started_at.replace(/\.\d+Z$/, ''))}">`,
    );
    if (su.name === 'thresholds')
      out.push(
        `    <properties><property name="verdict" value="${escXml(s.run.verdict)}"/><property name="exit_code" value="${s.run.exit_code}"/><property name="stop_reason" value="${escXml(s.run.stop_reason)}"/>${tagProperties(s)}</properties>`,
      );
    for (const c of su.cases) out.push(caseXml(c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/**
 * Writes `junit.xml` next to the summary. `source`: a run directory, or a summary already in
 * memory together with the directory to write into.
 */
export function writeJunit(
  source: string | { summary: ReportSummary; dir: string },
  baseline?: Comparison,
): string {
  const { summary, dir } =
    typeof source === 'string'
      ? { summary: readRunSummary(source), dir: source.endsWith('.json') ? dirname(source) : source }
      : source;
  const path = join(dir, 'junit.xml');
  writeFileSync(path, junitXml(summary, baseline));
  return path;
}

/** A crashed run has no summary: CI still gets a junit.xml saying so. */
export function junitUnfinished(name: string, detail: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ivtfarm ${escXml(name)}" tests="1" failures="1" errors="0" time="0">`,
    `  <testsuite name="${escXml(name)}.run" tests="1" failures="1" errors="0" skipped="0" time="0">`,
    `    <testcase name="run finished" classname="ivtfarm.${escXml(name)}.run" time="0">`,
    `      <failure message="no summary: the run did not finish" type="ivtfarm">${escXml(detail)}</failure>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
