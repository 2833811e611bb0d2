import { ivcMethods, ivtEvents, ivtMethods } from './methods.js';
import { compile, type Validator } from './schema.js';

/**
 * Compiled validators per method, built once at load. `params` is `null` for methods that take
 * none (then any params are ignored, as the document's "absent" allows).
 */
export interface MethodValidators {
  params: Validator<unknown> | null;
  answer: Validator<unknown> | null;
}

function build<T extends Record<string, { params: unknown; answer?: unknown }>>(table: T) {
  const out = new Map<string, MethodValidators>();
  for (const [name, spec] of Object.entries(table)) {
    out.set(name, {
      params: spec.params ? compile(spec.params as never) : null,
      answer: spec.answer ? compile(spec.answer as never) : null,
    });
  }
  return out;
}

export const ivcMethodValidators = build(ivcMethods);
export const ivtMethodValidators = build(ivtMethods);
export const ivtEventValidators = build(ivtEvents);

/** Validates `params` of a known method; returns an error message or `null` when valid. */
export function checkParams(
  table: Map<string, MethodValidators>,
  name: string,
  params: unknown,
): string | null {
  const v = table.get(name)?.params;
  if (!v) return null;
  return v(params) ? null : v.explain();
}

/** Validates an answer (`resp`) of a known method; returns an error message or `null`. */
export function checkAnswer(
  table: Map<string, MethodValidators>,
  name: string,
  resp: unknown,
): string | null {
  const v = table.get(name)?.answer;
  if (!v) return null;
  return v(resp) ? null : v.explain();
}
