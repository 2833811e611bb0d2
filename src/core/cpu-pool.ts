// The pool for ivtfarm's short, stateless, CPU-bound jobs (the media ladder's encodes, a report's
// rendering, a merge's parsing): piscina, with a bounded thread count, threads started on demand
// and all stopped when the job is over. The long-lived device workers are not tasks and stay raw
// worker_threads (docs/architecture.md).
import { availableParallelism } from 'node:os';
import type { Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';

/** Threads a job may use unless it asks for fewer: CPU-bound work gains nothing past the cores. */
export function cpuThreadLimit(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export interface CpuPoolOptions {
  /** Compiled task module (`new URL('./x-task.js', import.meta.url)`); its default export runs one task. */
  task: URL;
  /** Most threads at once; clamped to 1..cpuThreadLimit(). */
  maxThreads?: number;
}

export interface CpuTaskOptions {
  /** Aborting stops the task: dropped from the queue, or its thread terminated if it runs. */
  signal?: AbortSignal;
  transferList?: Transferable[];
}

/** One job's pool: `run` queues a task; the pool and its threads live only inside `withCpuPool`. */
export interface CpuPool<In, Out> {
  readonly maxThreads: number;
  run(input: In, options?: CpuTaskOptions): Promise<Out>;
}

/**
 * Opens a pool, lets `use` run tasks in it and destroys it afterwards, whatever happened, so no
 * thread outlives the job. A task aborted through `signal` rejects with `signal.reason` (an
 * `AbortError` by default), as an aborted fetch does.
 */
export async function withCpuPool<In, Out, T>(
  options: CpuPoolOptions,
  use: (pool: CpuPool<In, Out>) => Promise<T>,
): Promise<T> {
  const maxThreads = Math.max(1, Math.min(options.maxThreads ?? Number.POSITIVE_INFINITY, cpuThreadLimit()));
  const piscina = new Piscina<In, Out>({
    filename: options.task.href,
    minThreads: 0,
    maxThreads,
    // A thread lingers briefly for the job's next task, then exits; idle threads never hold the process.
    idleTimeout: 1000,
    // Tasks are seconds long: the message port is fast enough, and a thread never sleeps in Atomics.wait.
    atomics: 'disabled',
    recordTiming: false,
  });
  const pool: CpuPool<In, Out> = {
    maxThreads,
    run: async (input, taskOptions = {}) => {
      try {
        return await piscina.run(input, taskOptions);
      } catch (err) {
        // piscina's own AbortError hides the caller's reason in `cause`.
        if (taskOptions.signal?.aborted) throw taskOptions.signal.reason;
        throw err;
      }
    },
  };
  try {
    return await use(pool);
  } finally {
    await piscina.destroy();
  }
}

/** One task in a one-thread pool: the main thread stays free (Ctrl-C, timers) while it runs. */
export function runCpuTask<In, Out>(task: URL, input: In, options: CpuTaskOptions = {}): Promise<Out> {
  return withCpuPool<In, Out, Out>({ task, maxThreads: 1 }, (pool) => pool.run(input, options));
}
