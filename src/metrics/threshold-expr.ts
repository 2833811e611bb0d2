// Parser for k6 threshold syntax: expressions (`p(99)<500`, `rate<0.001`, `avg<200`, ...) and
// metric selectors with a label filter (`rpc_duration{method:RTMPPublish}`). Errors say what was
// expected at which column (1-based).

import { isLabelKey, LABEL_KEYS, type Labels } from './labels.js';

export type AggregationName = 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' | 'last' | 'p';
export type Aggregation = { name: Exclude<AggregationName, 'p'> } | { name: 'p'; p: number };
export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface ThresholdExpression {
  /** The expression as written. */
  source: string;
  agg: Aggregation;
  op: Comparison;
  value: number;
}

export interface MetricSelector {
  source: string;
  name: string;
  filter: Labels;
}

export class ThresholdSyntaxError extends Error {
  override name = 'ThresholdSyntaxError';
  constructor(
    readonly input: string,
    /** 1-based column of the offending character (input length + 1 at end of input). */
    readonly column: number,
    readonly expected: string,
  ) {
    const found = column <= input.length ? `found "${input[column - 1]}"` : 'found the end';
    super(`"${input}": expected ${expected} at column ${column}, ${found}`);
  }
}

const AGG_WORDS = ['avg', 'min', 'max', 'med', 'count', 'rate', 'value', 'last'] as const;
const AGG_EXPECTED = 'an aggregation (avg, min, max, med, count, rate, last, value or p(N))';
const OP_EXPECTED = 'a comparison operator (<, <=, >, >=, ==, !=)';
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }
  fail(expected: string, at = this.i): never {
    throw new ThresholdSyntaxError(this.s, at + 1, expected);
  }
  number(what: string): number {
    const m = NUMBER.exec(this.s.slice(this.i));
    if (!m) this.fail(what);
    this.i += m[0].length;
    return Number(m[0]);
  }
  eat(c: string): boolean {
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }
  word(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }
}

export function parseExpression(source: string): ThresholdExpression {
  const sc: Scanner = new Scanner(source);
  sc.ws();
  const start = sc.i;
  const w = sc.word();
  let agg: Aggregation;
  if (w === 'p') {
    sc.ws();
    if (!sc.eat('(')) sc.fail('"(" after p');
    sc.ws();
    const pAt = sc.i;
    const p = sc.number('a percentile between 0 and 100');
    if (p < 0 || p > 100) sc.fail('a percentile between 0 and 100', pAt);
    sc.ws();
    if (!sc.eat(')')) sc.fail('")" closing p(');
    agg = { name: 'p', p };
  } else if ((AGG_WORDS as readonly string[]).includes(w)) {
    agg = { name: w as Exclude<AggregationName, 'p'> };
  } else {
    sc.fail(AGG_EXPECTED, start);
  }
  sc.ws();
  let op: Comparison;
  if (sc.eat('<=')) op = '<=';
  else if (sc.eat('>=')) op = '>=';
  else if (sc.eat('===') || sc.eat('==')) op = '==';
  else if (sc.eat('!==') || sc.eat('!=')) op = '!=';
  else if (sc.eat('<')) op = '<';
  else if (sc.eat('>')) op = '>';
  else sc.fail(OP_EXPECTED);
  sc.ws();
  const value = sc.number('a number');
  sc.ws();
  if (sc.i < source.length) sc.fail('the end of the expression');
  return { source, agg, op, value };
}

/** `name` or `name{key:value,key2:value2}`; values may be quoted ("..." or '...'). */
export function parseSelector(source: string): MetricSelector {
  const sc: Scanner = new Scanner(source);
  sc.ws();
  const nameAt = sc.i;
  const name = sc.word();
  if (!name) sc.fail('a metric name', nameAt);
  sc.ws();
  const filter: Labels = {};
  if (sc.eat('{')) {
    sc.ws();
    while (!sc.eat('}')) {
      const keyAt = sc.i;
      const key = sc.word();
      if (!key) sc.fail(`a label key (${LABEL_KEYS.join(', ')})`, keyAt);
      if (!isLabelKey(key)) sc.fail(`a label key (${LABEL_KEYS.join(', ')})`, keyAt);
      if (filter[key] !== undefined) sc.fail(`a label key not already used (${key} repeats)`, keyAt);
      sc.ws();
      if (!sc.eat(':')) sc.fail('":" between label key and value');
      sc.ws();
      let value: string;
      const q = source[sc.i];
      if (q === '"' || q === "'") {
        const end = source.indexOf(q, sc.i + 1);
        if (end < 0) sc.fail(`a closing ${q}`, source.length);
        value = source.slice(sc.i + 1, end);
        sc.i = end + 1;
      } else {
        const m = /^[A-Za-z0-9_.-]+/.exec(source.slice(sc.i));
        if (!m) sc.fail('a label value (letters, digits, _ . -)');
        value = m[0];
        sc.i += value.length;
      }
      filter[key] = value;
      sc.ws();
      if (sc.eat(',')) {
        sc.ws();
        continue;
      }
      if (source[sc.i] !== '}') sc.fail('"," or "}"');
    }
    sc.ws();
  }
  if (sc.i < source.length) sc.fail('"{" or the end of the metric name');
  return { source, name, filter };
}

export function formatComparison(e: ThresholdExpression): string {
  const agg = e.agg.name === 'p' ? `p(${e.agg.p})` : e.agg.name;
  return `${agg}${e.op}${e.value}`;
}

export function compare(observed: number, op: Comparison, bound: number): boolean {
  switch (op) {
    case '<':
      return observed < bound;
    case '<=':
      return observed <= bound;
    case '>':
      return observed > bound;
    case '>=':
      return observed >= bound;
    case '==':
      return observed === bound;
    case '!=':
      return observed !== bound;
  }
}
