// `--out k6-json=FILE` as a run observer: every closed second appended to FILE as k6 JSON lines,
// so k6 users' tools (jq recipes, their importers and dashboards) read an ivtfarm run.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { RunObserver, SecondTick } from '../run/observer.js';
import { K6PointWriter } from './export-points.js';

export class K6JsonOutput implements RunObserver {
  private readonly stream: WriteStream;
  private readonly writer = new K6PointWriter();
  private failure: Error | null = null;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  second({ raw }: SecondTick): undefined {
    if (this.failure) throw new Error(`--out k6-json: cannot write ${this.path}: ${this.failure.message}`);
    const lines = this.writer.lines(raw);
    if (lines.length > 0) this.stream.write(`${lines.join('\n')}\n`);
    return undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
