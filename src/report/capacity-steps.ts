// The limit finder's Steps table, one wording for the console and the HTML report: per step the
// seconds of its ramp and hold that were judged (time since the first step began), its result,
// and each service level's value with the window it came from.

import type { CapacityStep, SecondsRange } from '../capacity/types.js';
import { num } from './markup.js';
import type { CapacitySection } from './types.js';

export type StepResult = 'held' | 'broke' | 'no data' | 'cut short';

export interface StepsTable {
  headers: string[];
  rows: Array<{ result: StepResult; cells: string[] }>;
}

function mmss(s: number): string {
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

function span(r: SecondsRange | null, origin: number): string {
  return r ? `${mmss(r.from - origin)}–${mmss(r.to - origin)}` : 'none';
}

export function stepResult(st: CapacityStep): StepResult {
  if (st.broken.length > 0) return 'broke';
  if (st.held) return 'held';
  return st.complete ? 'no data' : 'cut short';
}

/** A service level's value as judged: a rate or share in %, else in the metric's unit. */
function shown(v: number | null | undefined, expression: string): string {
  if (v === null || v === undefined) return 'no data';
  return /^rate|×level/.test(expression) ? `${num(v * 100)} %` : num(v);
}

export function stepsTable(cap: CapacitySection): StepsTable {
  const origin = Math.min(...cap.steps.map((s) => s.ramp?.from ?? s.hold?.from ?? Number.POSITIVE_INFINITY));
  return {
    headers: [
      'level',
      'ramp',
      'hold',
      'result',
      'broken',
      ...cap.service_levels.map((l) => `${l.name} [${l.window}]`),
    ],
    rows: cap.steps.map((st) => ({
      result: stepResult(st),
      cells: [
        `${st.level} ${cap.unit}`,
        span(st.ramp, origin),
        span(st.hold, origin),
        stepResult(st),
        [...st.broken, ...st.no_data.map((n) => `${n}: no data`)].join(', '),
        ...cap.service_levels.map((l) => shown(st.observed[l.name], l.expression)),
      ],
    })),
  };
}

/** The table as aligned text lines (console). */
export function stepsText(cap: CapacitySection, indent = '  '): string[] {
  const t = stepsTable(cap);
  const all = [t.headers, ...t.rows.map((r) => r.cells)];
  const widths = t.headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) => `${indent}${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}
