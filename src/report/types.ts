// Shapes the report reads beyond RunSummary: the baseline comparison (written by compare.ts,
// optional in summary.json), and the wording of the limit finder's capacity result.

import type { CapacitySummary } from '../capacity/types.js';
import type { RunSummary } from '../core/summary-types.js';
import type { Comparison } from './compare.js';

export type { CapacityStep } from '../capacity/types.js';
/** The limit finder's section of summary.json (null or absent when the scenario has no `capacity:`). */
export type CapacitySection = CapacitySummary;

/** summary.json as the report reads it: the summary plus the optional sections. */
export type ReportSummary = RunSummary & { baseline?: Comparison };

/** A threshold's expression with the window it was judged on, e.g. `min>=290 during hold`. */
export function judgedExpression(t: { expression: string; during?: string }): string {
  return t.during ? `${t.expression} during ${t.during}` : t.expression;
}

/** The one-sentence result of a limit search, as the report and JUnit word it. */
export function capacitySentence(c: CapacitySection): string {
  const parts: string[] = [];
  if (c.capacity === null)
    parts.push(`no level held (first step ${c.steps[0]?.level ?? '?'} ${c.unit} broke)`);
  else parts.push(`capacity ${c.capacity} ${c.unit}`);
  if (c.broke_at !== null) parts.push(`at ${c.broke_at}, ${c.first_broken ?? 'a service level'} broke first`);
  else if (c.ended === 'stopped')
    parts.push('the run stopped before any level broke: capacity is at least this');
  else if (c.capacity !== null) parts.push('no level broke: the platform held every step tried');
  let s = parts.join('; ');
  if (c.lower_bound)
    s += `; lower bound: the generator was saturated (${c.lower_bound_reason ?? 'see generator health'})`;
  return s;
}
