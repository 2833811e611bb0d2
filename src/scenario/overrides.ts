// `--set path=value`: a field of the scenario overridden from the command line. The path is
// checked against the schema (an unknown field gets a did-you-mean, like one in the file), the
// value is read as YAML (`20` is a number, `true` a boolean, `[html, json]` a list), and the
// override is applied to the parsed document before validation, so it is checked like the file.
import { type Document, isMap, isScalar, isSeq, type Node, parseDocument, YAMLMap } from 'yaml';
import { closest } from '../core/suggest.js';
import type { FieldProblem } from './errors.js';
import { formatPath } from './errors.js';
import { readScalar } from './interpolate.js';
import type { PathSegment } from './locate.js';
import { ScenarioFileSchema } from './schema.js';

export interface Override {
  /** As given, e.g. `devices.count`; also the name problems are reported under. */
  text: string;
  path: PathSegment[];
  value: unknown;
}

export class OverrideError extends Error {}

const SEGMENT = /^(?:\.?([A-Za-z_][\w-]*|\d+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** `stages[1].duration`, `stages.1.duration`, `thresholds["logins{result:ok}"]` → segments. */
export function parseOverridePath(text: string): PathSegment[] {
  const path: PathSegment[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = SEGMENT.exec(rest);
    if (!m || (path.length === 0 && rest.startsWith('.')))
      throw new OverrideError(`malformed path \`${text}\``);
    if (m[1] !== undefined) path.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
    else if (m[2] !== undefined) path.push(Number(m[2]));
    else path.push(JSON.parse(m[3]!) as string);
    rest = rest.slice(m[0].length);
  }
  if (path.length === 0) throw new OverrideError('empty path');
  return path;
}

/** A value as YAML reads it; a flow list or map (`[a, b]`, `{ k: v }`) is read as one too. */
export function readOverrideValue(text: string): unknown {
  if (/^\s*[[{]/.test(text)) {
    const doc = parseDocument(text);
    if (doc.errors.length === 0) return doc.toJS();
  }
  return readScalar(text);
}

/** `path=value` → an Override; throws OverrideError for a text without `=` or a bad path. */
export function parseOverride(arg: string): Override {
  const eq = arg.indexOf('=');
  if (eq <= 0)
    throw new OverrideError(`\`${arg.split('=')[0]}\`: expected path=value, e.g. devices.count=20`);
  const path = parseOverridePath(arg.slice(0, eq));
  return { text: formatPath(path), path, value: readOverrideValue(arg.slice(eq + 1)) };
}

interface SchemaNode {
  type?: string;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** The schema nodes a path segment leads to from `node`, or the known names when none. */
function childSchemas(node: SchemaNode, seg: PathSegment): { found: SchemaNode[]; known: string[] } {
  const branches = node.anyOf ?? [node];
  const found: SchemaNode[] = [];
  const known: string[] = [];
  for (const b of branches) {
    if (b.anyOf) {
      const inner = childSchemas(b, seg);
      found.push(...inner.found);
      known.push(...inner.known);
    } else if (b.type === 'array' && b.items && typeof seg === 'number') found.push(b.items);
    else if (b.type === 'object' && typeof seg === 'string') {
      const direct = b.properties?.[seg];
      if (direct) found.push(direct);
      else {
        const pattern = Object.entries(b.patternProperties ?? {}).find(([re]) => new RegExp(re).test(seg));
        if (pattern) found.push(pattern[1]);
        else known.push(...Object.keys(b.properties ?? {}));
      }
    }
  }
  return { found, known };
}

/** Problems of an override's path against the schema (empty when the field exists). */
export function checkOverridePath(o: Override): FieldProblem[] {
  let nodes: SchemaNode[] = [ScenarioFileSchema as unknown as SchemaNode];
  for (let i = 0; i < o.path.length; i++) {
    const seg = o.path[i]!;
    const next = nodes.map((n) => childSchemas(n, seg));
    const found = next.flatMap((n) => n.found);
    if (found.length === 0) {
      const known = [...new Set(next.flatMap((n) => n.known))];
      const where = i === 0 ? 'the scenario' : formatPath(o.path.slice(0, i));
      if (typeof seg === 'number' || known.length === 0)
        return [
          {
            path: o.path.slice(0, i + 1),
            message: `${where} has no field ${formatPath(o.path.slice(i, i + 1))}`,
          },
        ];
      const guess = closest(seg, known);
      return [
        {
          path: o.path.slice(0, i + 1),
          message: `unknown field \`${seg}\` in ${where}${guess ? `, did you mean \`${guess}\`?` : ''}`,
          expected: `one of ${known.join(', ')}`,
        },
      ];
    }
    nodes = found;
  }
  return [];
}

/** Sets the override's value in `doc`, creating missing maps on the way; a problem when it cannot. */
export function applyOverride(doc: Document, o: Override): FieldProblem | null {
  let node: Node | null = doc.contents as Node | null;
  for (let i = 0; i < o.path.length; i++) {
    const seg = o.path[i]!;
    const last = i === o.path.length - 1;
    const where = formatPath(o.path.slice(0, i)) || 'the scenario';
    if (isMap(node)) {
      if (typeof seg !== 'string') return { path: o.path, message: `${where} is a map, not a list` };
      if (last) {
        node.set(doc.createNode(seg), doc.createNode(o.value));
        return null;
      }
      let child = node.get(seg, true) as Node | undefined;
      if (child === undefined || child === null || (isScalar(child) && child.value === null)) {
        if (typeof o.path[i + 1] === 'number')
          return {
            path: o.path,
            message: `${formatPath(o.path.slice(0, i + 1))} is not in the file (--set changes list entries, it does not add them)`,
          };
        child = new YAMLMap();
        node.set(doc.createNode(seg), child);
      }
      node = child;
    } else if (isSeq(node)) {
      if (typeof seg !== 'number' || seg >= node.items.length)
        return {
          path: o.path,
          message: `${where} has ${node.items.length} entr${node.items.length === 1 ? 'y' : 'ies'} (0 to ${node.items.length - 1})`,
        };
      if (last) {
        node.set(seg, doc.createNode(o.value));
        return null;
      }
      node = node.items[seg] as Node;
    } else {
      return { path: o.path, message: `${where} is not a map or list in the file, so it has no fields` };
    }
  }
  return null;
}

/** Is `path` the override's path or inside it? */
export function overrideCovers(o: Override, path: readonly PathSegment[]): boolean {
  return o.path.length <= path.length && o.path.every((seg, i) => String(seg) === String(path[i]));
}
