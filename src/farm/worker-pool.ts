import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';

/**
 * Long-lived worker threads that each own a shard of devices. Raw `worker_threads` rather than
 * a task pool (piscina): a farm worker is stateful for the whole run and talks both ways
 * (commands in, metric deltas out), which is not the request/response task shape a pool serves.
 * See docs/architecture.md.
 */
export interface WorkerSlot<Out> {
  index: number;
  worker: Worker;
  /** Devices this worker owns: counted as lost if it dies. */
  deviceCount: number;
  alive: boolean;
  /** Set once the worker posted its first message of this type. */
  readonly messages: EventEmitter<{ message: [Out] }>;
}

export interface WorkerExit {
  index: number;
  deviceCount: number;
  /** `null` for a clean exit after `stop`. */
  error: Error | null;
  exitCode: number;
}

interface PoolEvents<Out> {
  message: [index: number, message: Out];
  exit: [WorkerExit];
}

export class WorkerPool<In, Out> extends EventEmitter<PoolEvents<Out>> {
  readonly slots: WorkerSlot<Out>[] = [];
  private stopping = false;

  constructor(private readonly script: URL) {
    super();
  }

  /** Starts one worker with its init data (structured-cloned once). */
  spawn(
    index: number,
    deviceCount: number,
    workerData: unknown,
    resourceLimits?: { maxOldGenerationSizeMb?: number },
  ): void {
    const worker = new Worker(this.script, { workerData, resourceLimits, stdout: false, stderr: false });
    const slot: WorkerSlot<Out> = { index, worker, deviceCount, alive: true, messages: new EventEmitter() };
    this.slots[index] = slot;
    let failure: Error | null = null;
    worker.on('message', (message: Out) => {
      slot.messages.emit('message', message);
      this.emit('message', index, message);
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (exitCode) => {
      slot.alive = false;
      const unexpected = !this.stopping || failure !== null;
      this.emit('exit', {
        index,
        deviceCount,
        error: unexpected ? (failure ?? new Error(`worker ${index} exited with code ${exitCode}`)) : null,
        exitCode,
      });
    });
  }

  post(index: number, message: In): void {
    const slot = this.slots[index];
    if (slot?.alive) slot.worker.postMessage(message);
  }

  broadcast(message: In): void {
    for (const slot of this.slots) if (slot?.alive) slot.worker.postMessage(message);
  }

  get aliveCount(): number {
    return this.slots.filter((s) => s?.alive).length;
  }

  /** Asks every worker to stop (the message is the caller's), then terminates stragglers after `graceMs`. */
  async stop(stopMessage: In, graceMs: number): Promise<void> {
    this.stopping = true;
    const exits = this.slots
      .filter((s) => s?.alive)
      .map((s) => new Promise<void>((resolve) => s.worker.once('exit', () => resolve())));
    this.broadcast(stopMessage);
    const timer = setTimeout(() => {
      for (const s of this.slots) if (s?.alive) void s.worker.terminate();
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}
