// Lists runtime import cycles among compiled modules (type-only imports are erased by tsc):
// `npm run build && node scripts/import-cycles.mjs dist/src`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = process.argv[2];
const files = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.js') ? [p] : [];
  });
const graph = new Map();
for (const f of files(root)) {
  const src = readFileSync(f, 'utf8');
  const deps = [
    ...src.matchAll(/^(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(['"](\.[^'"]+)['"]\)/gm),
  ].map((m) => resolve(dirname(f), m[1] ?? m[2]));
  graph.set(resolve(f), deps);
}
const state = new Map();
const stack = [];
const cycles = [];
function visit(n) {
  state.set(n, 1);
  stack.push(n);
  for (const d of graph.get(n) ?? []) {
    if (state.get(d) === 1)
      cycles.push(
        stack
          .slice(stack.indexOf(d))
          .concat(d)
          .map((p) => p.slice(resolve(root).length + 1))
          .join(' -> '),
      );
    else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(n, 2);
}
for (const n of graph.keys()) if (!state.has(n)) visit(n);
console.log(cycles.length ? cycles.join('\n') : 'no cycles');
