// Nesting depth of a YAML/JSON text, measured on yaml's concrete syntax tree with an explicit
// stack: the composer and every later step (toJS, the schema, the source map) recurse once per
// level, so a document nested thousands of levels deep must be refused before it reaches them.
import { type CST, LineCounter, Parser } from 'yaml';

/** Far deeper than any scenario needs (they nest about 6 levels), far below any stack limit. */
export const MAX_DEPTH = 64;

export interface TooDeep {
  line: number;
  column: number;
  /** Field path down to the limit, e.g. `['x-deep', 'a', 'a']`. */
  path: Array<string | number>;
}

type Item = { key?: CST.Token | null; value?: CST.Token };

function keyText(token: CST.Token | null | undefined): string | null {
  if (!token) return null;
  if (
    token.type === 'scalar' ||
    token.type === 'single-quoted-scalar' ||
    token.type === 'double-quoted-scalar'
  )
    return token.source.replace(/^["']|["']$/g, '');
  return null;
}

/** Items of a collection token, or null for a scalar or anything else. */
function itemsOf(token: CST.Token): Item[] | null {
  if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection')
    return token.items as Item[];
  return null;
}

/** The first place where `text` nests deeper than `maxDepth` collections, or null. */
export function findTooDeep(text: string, maxDepth = MAX_DEPTH): TooDeep | null {
  const lines = new LineCounter();
  const stack: Array<{ token: CST.Token; depth: number; path: Array<string | number> }> = [];
  for (const token of new Parser(lines.addNewLine).parse(text)) {
    if (token.type === 'document' && token.value) stack.push({ token: token.value, depth: 0, path: [] });
    while (stack.length > 0) {
      const { token: node, depth, path } = stack.pop()!;
      const items = itemsOf(node);
      if (!items) continue;
      if (depth >= maxDepth) {
        const { line, col } = lines.linePos(node.offset);
        return { line, column: col, path };
      }
      const isSeq =
        node.type === 'block-seq' || (node.type === 'flow-collection' && node.start.source === '[');
      items.forEach((item, i) => {
        const segment = isSeq ? i : (keyText(item.key) ?? '?');
        if (item.key && itemsOf(item.key))
          stack.push({ token: item.key, depth: depth + 1, path: [...path, segment] });
        if (item.value) stack.push({ token: item.value, depth: depth + 1, path: [...path, segment] });
      });
    }
  }
  return null;
}
