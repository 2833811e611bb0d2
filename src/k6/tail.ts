// Follows a k6 JSON output file while k6 appends to it: complete lines go to the importer, and
// every second k6 is done with goes on to the run as a metrics delta.

import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { DeltaSink } from '../run/source.js';
import { K6Importer } from './import.js';

const CHUNK_BYTES = 1 << 20;

export class K6ResultsTail {
  private readonly importer = new K6Importer();
  private readonly decoder = new StringDecoder('utf8');
  private readonly chunk = Buffer.alloc(CHUNK_BYTES);
  private fd: number | null = null;
  private offset = 0;
  private partial = '';

  constructor(
    readonly file: string,
    private readonly sink: Pick<DeltaSink, 'add'>,
  ) {}

  /** Lines skipped as not k6 JSON, and the first reason. */
  get skipped(): { lines: number; first: string | null } {
    return { lines: this.importer.badLines, first: this.importer.firstBadLine };
  }

  /**
   * Reads what was appended; hands on the seconds before `openSecond` (epoch s: k6 may still
   * write points of it and later ones). `end` reads the last partial line and hands on the rest.
   */
  poll(openSecond: number, end = false): void {
    this.fd ??= openSync(this.file, 'r');
    for (;;) {
      const n = readSync(this.fd, this.chunk, 0, this.chunk.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const lines = (this.partial + this.decoder.write(this.chunk.subarray(0, n))).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) this.importer.line(l);
    }
    if (end) {
      this.importer.line(this.partial + this.decoder.end());
      this.partial = '';
    }
    for (const delta of this.importer.take(end ? Number.POSITIVE_INFINITY : openSecond)) this.sink.add(delta);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
