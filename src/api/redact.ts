// Secrets an API client holds (the login body's values, tokens) are cut out of every message it
// produces: a platform's error answer may echo what it was sent.

export const REDACTED = '***';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Remembers a secret; values shorter than 4 characters would mask ordinary words and are skipped. */
  add(secret: string): void {
    if (secret.length >= 4) this.secrets.add(secret);
  }

  /** Every string leaf of `value` (a login body) as a secret. */
  addLeaves(value: unknown): void {
    if (typeof value === 'string') this.add(value);
    else if (Array.isArray(value)) for (const v of value) this.addLeaves(v);
    else if (value !== null && typeof value === 'object')
      for (const v of Object.values(value)) this.addLeaves(v);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    return out;
  }
}
