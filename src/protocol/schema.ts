import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';

/** One Ajv instance for every protocol schema: compiled validators are cached per schema object. */
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });

export interface Validator<T> {
  (value: unknown): value is T;
  /** Why the last call failed, as `path: message`. */
  explain(): string;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const check = ajv.compile(schema);
  const validator = ((value: unknown) => check(value)) as Validator<Static<S>>;
  validator.explain = () => describeErrors(check.errors ?? []);
  return validator;
}

function describeErrors(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const path = e.instancePath === '' ? '(packet)' : e.instancePath.slice(1).replaceAll('/', '.');
      const extra =
        e.keyword === 'required'
          ? ` '${(e.params as { missingProperty: string }).missingProperty}'`
          : e.keyword === 'enum'
            ? ` ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
            : '';
      return `${path}: ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}
