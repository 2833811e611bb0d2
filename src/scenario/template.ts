// Login-code templates: `sim-{index:05}` → sim-00000, sim-00001, … Compiled once into parts so
// that generating 100k codes is a loop of string concatenations.

export type LoginCodeFn = (index: number, shard: number) => string;

type Part = string | { field: 'index' | 'number' | 'shard'; width: number };

export const LOGIN_CODE_PLACEHOLDERS = '{index}, {index:05}, {number}, {shard}';

export class TemplateError extends Error {}

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  const re = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;
  let last = 0;
  for (const m of template.matchAll(re)) {
    text += template.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '{{') text += '{';
    else if (m[0] === '}}') text += '}';
    else if (m[1] === undefined)
      throw new TemplateError(`unbalanced \`${m[0]}\` at character ${m.index + 1}`);
    else {
      const spec = /^(index|number|shard)(?::0(\d{1,2}))?$/.exec(m[1].trim());
      if (!spec) throw new TemplateError(`unknown placeholder \`{${m[1]}}\``);
      if (text) parts.push(text);
      text = '';
      parts.push({ field: spec[1] as 'index' | 'number' | 'shard', width: Number(spec[2] ?? 0) });
    }
  }
  text += template.slice(last);
  if (text) parts.push(text);
  return parts;
}

/** Throws TemplateError when the template cannot give every one of `count` devices its own code. */
export function checkLoginCode(template: string, count: number): void {
  const parts = parse(template);
  const unique = parts.some((p) => typeof p !== 'string' && p.field !== 'shard');
  if (count > 1 && !unique)
    throw new TemplateError('must contain {index} or {number}: every device needs its own code');
}

export function compileLoginCode(template: string): LoginCodeFn {
  const parts = parse(template);
  return (index, shard) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const n = p.field === 'index' ? index : p.field === 'number' ? index + 1 : shard;
        out += p.width > 0 ? String(n).padStart(p.width, '0') : String(n);
      }
    }
    return out;
  };
}
