/** Why a run stopped (summary.json `run.stop_reason`). */
export type StopReason = 'completed' | 'limit_found' | 'interrupted' | 'aborted' | 'worker_lost';

export interface StopRequest {
  reason: StopReason;
  detail: string;
}

/** The one place a run is asked to stop; the first reason given is the one reported. */
export class StopSignal {
  reason: StopReason = 'completed';
  detail = '';
  /** An observer's failure: the run winds down, then rethrows it. */
  error: Error | null = null;
  private resolveStopped!: () => void;
  readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });
  private requested = false;

  get isRequested(): boolean {
    return this.requested;
  }

  request(reason: StopReason, detail = ''): void {
    if (!this.requested && reason !== 'completed') {
      this.reason = reason;
      this.detail = detail;
    }
    this.requested = true;
    this.resolveStopped();
  }

  fail(error: Error): void {
    this.error ??= error;
    this.request('aborted', error.message);
  }
}
