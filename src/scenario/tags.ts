// `tags:` of the run and of each mix entry. They become Prometheus labels and JUnit properties,
// so a name must be a valid label name that no metric label (or Prometheus itself) already uses.
import { LABEL_KEYS } from '../metrics/labels.js';
import type { FieldProblem } from './errors.js';
import type { PathSegment } from './locate.js';
import type { Tags } from './types.js';

const TAG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Metric labels, the per-mix-entry label, and labels Prometheus sets or uses itself. */
const RESERVED: ReadonlySet<string> = new Set([...LABEL_KEYS, 'mix', 'quantile', 'le', 'job', 'instance']);

export function normalizeTags(
  raw: Readonly<Record<string, string | number | boolean>> | undefined,
  path: PathSegment[],
  problems: FieldProblem[],
): Tags {
  const tags: Tags = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (!TAG_NAME.test(name) || name.startsWith('__')) {
      problems.push({
        path: [...path, name],
        anchor: 'key',
        message: 'not a valid tag name',
        expected: 'letters, digits and _, not starting with a digit or __',
      });
    } else if (RESERVED.has(name)) {
      problems.push({
        path: [...path, name],
        anchor: 'key',
        message: `\`${name}\` is a metric label already`,
        expected: `a name other than ${[...RESERVED].join(', ')}`,
      });
    }
    tags[name] = String(value);
  }
  return tags;
}
