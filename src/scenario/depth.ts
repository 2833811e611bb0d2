// Nesting depth of a YAML/JSON text, measured before the document is composed: the composer and
// every later step (toJS, the schema, the source map) recurse once per level, so a document
// nested thousands of levels deep must be refused before it reaches them. Two passes: a
// streaming one over yaml's lexer tokens (constant memory) bounds the depth from above and
// refuses the absurd at once; below that bound, the concrete syntax tree, walked with an
// explicit stack, gives the exact place and field path.
import { CST, Lexer, LineCounter, Parser } from 'yaml';

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

/** Lexer tokens that are markers, not text of the source. */
const CONTROL = new Set(['doc-mode', 'flow-error-end', 'scalar']);

/**
 * An upper bound of the nesting depth, token by token: open flow brackets, plus the block
 * indentation levels of the current line, plus the `-`, `?` and `:` indicators on it (each real
 * level has at most one of each). Returns the offset where the bound first exceeds `limit`.
 */
function boundExceeded(text: string, limit: number): number | null {
  let offset = 0;
  let flow = 0;
  let atLineStart = true;
  let indent = 0;
  let inline = 0;
  const indents: number[] = [];
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'newline') {
      atLineStart = true;
      indent = 0;
      inline = 0;
    } else if (type === 'space' && atLineStart) indent = token.length;
    else if (type !== 'space' && type !== 'comment' && !CONTROL.has(type ?? '')) {
      if (atLineStart && flow === 0) {
        while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
        indents.push(indent);
      }
      atLineStart = false;
      if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
      else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
      else if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') inline++;
      if (flow + indents.length + inline > limit) return offset;
    }
    if (!CONTROL.has(type ?? '')) offset += token.length;
  }
  return null;
}

/** Past this bound the text is refused from the lexer pass alone (real depth > bound / 3). */
const BOUND_FACTOR = 4;

/** The first place where `text` nests deeper than `maxDepth` collections, or null. */
export function findTooDeep(text: string, maxDepth = MAX_DEPTH): TooDeep | null {
  const far = boundExceeded(text, maxDepth * BOUND_FACTOR);
  if (far === null) return deepestInTree(text, maxDepth);
  // The real depth passed maxDepth before `far`: the tree of that prefix alone names the place.
  const exact = deepestInTree(text.slice(0, far + 1), maxDepth);
  if (exact) return exact;
  const before = text.slice(0, far);
  return { line: before.split('\n').length, column: far - before.lastIndexOf('\n'), path: [] };
}

function deepestInTree(text: string, maxDepth: number): TooDeep | null {
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
