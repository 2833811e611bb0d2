// Small builders for the report's server-rendered markup. Cells are text (escaped here) unless
// wrapped with `raw()`, which only this module's callers use for markup they built from esc().

import { esc } from './escape.js';

export interface Raw {
  readonly html: string;
}

export const raw = (html: string): Raw => ({ html });

export type Cell = string | number | null | undefined | Raw;

const isRaw = (c: Cell): c is Raw => typeof c === 'object' && c !== null;

/** Numbers with a precision that suits their size; null/undefined/NaN as "–". */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits + (a >= 100 ? 1 : 0))).toString();
}

function cell(c: Cell, tag: 'td' | 'th'): string {
  if (isRaw(c)) return `<${tag}>${c.html}</${tag}>`;
  if (typeof c === 'number') return `<${tag} class="n">${esc(num(c))}</${tag}>`;
  return `<${tag}>${esc(c ?? '–')}</${tag}>`;
}

/** A table; rows beyond `limit` are left out with a line saying how many. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], limit = 300): string {
  if (rows.length === 0) return '<p class="empty">none</p>';
  const shown = rows.slice(0, limit);
  const more = rows.length - shown.length;
  return `<table><thead><tr>${headers.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${shown
    .map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`)
    .join('')}</tbody></table>${more > 0 ? `<p class="empty">${more} more rows not shown</p>` : ''}`;
}

/** A pass/fail word with its colour. */
export function mark(ok: boolean, yes = 'pass', no = 'FAIL'): Raw {
  return raw(`<span class="${ok ? 'pass' : 'fail'}">${esc(ok ? yes : no)}</span>`);
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>${body}</section>`;
}

export const p = (text: string, cls?: string): string =>
  `<p${cls ? ` class="${esc(cls)}"` : ''}>${esc(text)}</p>`;

export function isoSeconds(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}
