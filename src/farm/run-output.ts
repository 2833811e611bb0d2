import { createWriteStream, mkdirSync, renameSync, type WriteStream, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The run's directory `reports/<name>-<time>/`, written while the run goes: one JSON line per
 * second (`timeseries.jsonl`) so a crash or Ctrl-C loses at most the last second, and the
 * summary written atomically (temp file + rename) at the end.
 */
export class RunOutput {
  readonly dir: string;
  private readonly series: WriteStream;
  /** `histograms.jsonl`: each second's histogram buckets, so a merge of shards stays exact. */
  private readonly buckets: WriteStream;

  constructor(baseDir: string, name: string, startedAt: Date) {
    const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const safeName = name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'run';
    let dir = resolve(baseDir, `${safeName}-${stamp}`);
    for (let n = 2; ; n++) {
      try {
        mkdirSync(dir, { recursive: false });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT')
          mkdirSync(resolve(baseDir), { recursive: true });
        else if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          dir = resolve(baseDir, `${safeName}-${stamp}-${n}`);
        else throw error;
      }
    }
    this.dir = dir;
    this.series = createWriteStream(join(dir, 'timeseries.jsonl'), { flags: 'a' });
    this.buckets = createWriteStream(join(dir, 'histograms.jsonl'), { flags: 'a' });
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  appendSecond(line: string, bucketsLine: string | null = null): void {
    this.series.write(line);
    if (bucketsLine !== null) this.buckets.write(bucketsLine);
  }

  writeJson(file: string, value: unknown): string {
    const path = this.path(file);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
    renameSync(tmp, path);
    return path;
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.series, this.buckets].map((stream) => new Promise((resolveClose) => stream.end(resolveClose))),
    );
  }
}
