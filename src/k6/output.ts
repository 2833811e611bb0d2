// `--out k6-json=FILE` as a run observer: every closed second appended to FILE as k6 JSON lines,
// so k6 users' tools (jq recipes, their importers and dashboards) read an ivtfarm run.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { RunObserver, SecondTick } from '../run/observer.js';
import { K6PointWriter } from './export-points.js';

export class K6JsonOutput implements RunObserver {
  /** Opened with the run's first second: a run refused before that leaves no file behind. */
  private stream: WriteStream | null = null;
  private readonly writer = new K6PointWriter();
  private failure: Error | null = null;

  constructor(readonly path: string) {}

  second({ raw }: SecondTick): undefined {
    if (this.failure) throw new Error(`--out k6-json: cannot write ${this.path}: ${this.failure.message}`);
    const lines = this.writer.lines(raw);
    if (lines.length > 0) this.open().write(`${lines.join('\n')}\n`);
    return undefined;
  }

  private open(): WriteStream {
    if (!this.stream) {
      this.stream = createWriteStream(this.path, { flags: 'w' });
      this.stream.on('error', (error) => {
        this.failure = error;
      });
    }
    return this.stream;
  }

  close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    return new Promise((resolve, reject) => {
      stream.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
