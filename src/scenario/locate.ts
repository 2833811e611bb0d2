// Maps a field path of the parsed data back to its place in the YAML/JSON text, so that every
// problem can name a line and column.
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export type PathSegment = string | number;

/** Which part of a field a problem is about. */
export type Anchor =
  /** the value (a wrong type, a bad duration) */
  | 'value'
  /** the key (an unknown field) */
  | 'key';

export interface Position {
  line: number;
  column: number;
}

interface Step {
  key: Node | null;
  value: Node | null;
}

export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Position of `path`. When the path does not exist (a missing field), the deepest existing
   * ancestor is used, pointing at its key so that `devices:` is named for `devices.count`.
   */
  locate(path: readonly PathSegment[], anchor: Anchor = 'value'): Position {
    let node: Node | null = this.doc.contents as Node | null;
    let last: Step = { key: null, value: node };
    for (const seg of path) {
      const step = node ? this.child(node, seg) : undefined;
      if (!step) return this.position(last.key ?? last.value);
      last = step;
      node = step.value;
    }
    if (anchor === 'key') return this.position(last.key ?? last.value);
    return this.position(hasSource(last.value) ? last.value : (last.key ?? last.value));
  }

  private child(parent: Node, seg: PathSegment): Step | undefined {
    const node = this.resolve(parent);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && String(key.value) === String(seg))
          return { key, value: pair.value as Node | null };
      }
      // `<<: *anchor` merge keys: the field comes from the merged map.
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && key.value === '<<' && pair.value) {
          const sources = isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node];
          for (const source of sources) {
            const found = this.child(source, seg);
            if (found) return found;
          }
        }
      }
      return undefined;
    }
    if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (item === undefined) return undefined;
      // `- key: value` in a sequence is parsed as a one-pair map, never a bare pair; still guard.
      return isPair(item) ? undefined : { key: item, value: item };
    }
    return undefined;
  }

  private resolve(node: Node): Node {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? node;
    return node;
  }

  private position(node: Node | null): Position {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

/** An empty value (`devices:` followed by nothing) has a zero-width range at the line's end. */
function hasSource(node: Node | null): node is Node {
  if (!node?.range) return false;
  return node.range[1] > node.range[0];
}
