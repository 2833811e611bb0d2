// Shapes the report reads beyond RunSummary: the limit finder's capacity section (written by the
// farm) and the baseline comparison (written by compare.ts). Both are optional in summary.json.

import type { RunSummary } from '../farm/summary.js';
import type { Comparison } from './compare.js';

export interface CapacityStep {
  level: number;
  /** Epoch seconds. */
  from: number;
  to: number;
  held: boolean;
  broken: string[];
  /** Observed value per service level name (null: no data at that step). */
  observed: Record<string, number | null>;
}

export interface CapacitySection {
  mode: 'devices' | 'streams' | 'login_rate';
  unit: string;
  steps: CapacityStep[];
  service_levels: Array<{ name: string; metric: string; expression: string }>;
  capacity: number | null;
  broke_at: number | null;
  first_broken: string | null;
  lower_bound: boolean;
  lower_bound_reason: string | null;
}

/** summary.json as the report reads it: the summary plus the optional sections. */
export type ReportSummary = RunSummary & { capacity?: CapacitySection; baseline?: Comparison };

/** The one-sentence result of a limit search, as the report and JUnit word it. */
export function capacitySentence(c: CapacitySection): string {
  const parts: string[] = [];
  if (c.capacity === null)
    parts.push(`no level held (first step ${c.steps[0]?.level ?? '?'} ${c.unit} broke)`);
  else parts.push(`capacity ${c.capacity} ${c.unit}`);
  if (c.broke_at !== null) parts.push(`at ${c.broke_at}, ${c.first_broken ?? 'a service level'} broke first`);
  else if (c.capacity !== null) parts.push('no level broke: the platform held every step tried');
  let s = parts.join('; ');
  if (c.lower_bound)
    s += `; lower bound: the generator was saturated (${c.lower_bound_reason ?? 'see generator health'})`;
  return s;
}
