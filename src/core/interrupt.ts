// Ctrl-C for the commands whose work runs as cancellable pool tasks (`media build`, `report`,
// `merge`): the first SIGINT or SIGTERM aborts the signal so the tasks stop and nothing half-done
// is written; a second one quits at once.

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Removes the handlers (the command is over). */
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The abort reason: the tasks were stopped by a signal, not by a failure. */
export class InterruptedError extends Error {
  override name = 'AbortError';
  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted (${signalName})`);
  }
}
