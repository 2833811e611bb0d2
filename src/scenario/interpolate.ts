// `${VAR}` and `${VAR:-default}` in any string of a scenario, from the environment, as k6 and
// Artillery users expect (and as docker-compose spells it; `$$` is a literal `$`). Substitution
// runs on the parsed YAML document, before validation, so a problem keeps its line and the
// value is validated as if it had been written in the file. An unquoted value is read again as
// YAML once substituted, so `count: ${N:-20}` is the number 20; a quoted one stays a string.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  Scalar,
} from 'yaml';
import type { PathSegment } from './locate.js';

export interface Reference {
  /** The variable's name; its value is never kept (it may be a secret). */
  name: string;
  /** The node the reference is in, and its field path. */
  node: Node;
  path: PathSegment[];
}

export interface InterpolationResult {
  /** Names of the variables used, in order of first use. */
  used: string[];
  unset: Reference[];
  malformed: Reference[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/** `$$`, or `${…}` (an unclosed `${…` is caught too, as a malformed reference). */
const REFERENCE = /\$\$|\$\{([^}]*)(\}|$)/g;
const NAME = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

type Found = (name: string, kind: 'used' | 'default' | 'unset' | 'malformed') => void;

/** `text` with its references replaced; each reference is reported through `found`. */
function substitute(text: string, env: Env, found: Found): string {
  return text.replace(REFERENCE, (match, inner: string | undefined, close: string | undefined) => {
    if (match === '$$') return '$';
    const m = close === '}' ? NAME.exec(inner ?? '') : null;
    if (!m) {
      found(inner ?? '', 'malformed');
      return '';
    }
    const [, name, fallback] = m as unknown as [string, string, string | undefined];
    const value = env[name];
    // As in the shell, `:-` also covers a variable set to the empty string.
    if (value !== undefined && !(fallback !== undefined && value === '')) {
      found(name, 'used');
      return value;
    }
    if (fallback !== undefined) {
      found(name, 'default');
      return fallback;
    }
    found(name, 'unset');
    return '';
  });
}

/** A plain scalar's text as YAML reads it: `20` → 20, `true` → true, anything else a string. */
export function readScalar(text: string): unknown {
  if (text.trim() === '') return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isScalar(doc.contents)) return text;
  return doc.contents.value;
}

/** Replaces every reference in the string scalars (keys included) of `doc`, in place. */
export function interpolate(doc: Document, env: Env): InterpolationResult {
  const result: InterpolationResult = { used: [], unset: [], malformed: [] };
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (!node || isAlias(node)) return; // an alias's target is visited where it is defined
    if (isMap(node) || isSeq(node)) {
      node.items.forEach((item, i) => {
        if (isPair(item)) {
          visit(item.key, path);
          const key = isScalar(item.key) ? String(item.key.value) : '?';
          visit(item.value, [...path, key]);
        } else visit(item, [...path, i]);
      });
      return;
    }
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('$')) return;
    const scalar = node as Scalar<unknown>;
    const source = scalar.value as string;
    let referenced = false;
    const replaced = substitute(source, env, (name, kind) => {
      if (kind === 'used' && !result.used.includes(name)) result.used.push(name);
      if (kind === 'unset') result.unset.push({ name, node: scalar, path });
      if (kind === 'malformed') result.malformed.push({ name, node: scalar, path });
      referenced = true;
    });
    if (replaced === source) return;
    const plain = scalar.type === Scalar.PLAIN || scalar.type === undefined;
    scalar.value = plain && referenced ? readScalar(replaced) : replaced;
  };
  visit(doc.contents, []);
  return result;
}
