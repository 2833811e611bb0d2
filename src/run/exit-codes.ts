// Every exit code of `ivtfarm` and every rule that picks one (README "Exit codes", docs/ci.md).
// Nothing else in the code base compares or hard-codes these numbers.

export const ExitCode = {
  Ok: 0,
  RuntimeError: 1,
  UsageError: 2,
  /** The preflight could not reach a target, or the target refused the scenario's credentials. */
  PreflightFailed: 3,
  WorkerLost: 97,
  BaselineRegression: 98,
  ThresholdsFailed: 99,
  Interrupted: 105,
} as const;

export type Verdict = 'pass' | 'fail' | 'interrupted';

/** What decides a finished run's exit code. */
export interface VerdictInput {
  interrupted: boolean;
  /** Every threshold held and none aborted the run. */
  thresholdsPassed: boolean;
  /** Every built-in check held, except the lost-devices one (below). */
  checksPassed: boolean;
  /** Devices lost to crashed workers, counted only when the lost-devices check is on. */
  devicesLost: number;
}

/** First match wins: interrupted 105, failed thresholds or checks 99, devices lost 97, else 0. */
export function runExitCode(v: VerdictInput): number {
  if (v.interrupted) return ExitCode.Interrupted;
  if (!v.thresholdsPassed || !v.checksPassed) return ExitCode.ThresholdsFailed;
  return v.devicesLost > 0 ? ExitCode.WorkerLost : ExitCode.Ok;
}

/** The verdict a run's exit code stands for: only 0 passes. */
export function verdictOf(exitCode: number): Verdict {
  if (exitCode === ExitCode.Interrupted) return 'interrupted';
  return exitCode === ExitCode.Ok ? 'pass' : 'fail';
}

/**
 * `run --baseline`: a regression (98) outranks only a pass and lost devices (97); usage and
 * runtime errors, failed thresholds and interruptions keep their own code.
 */
export function withBaseline(runCode: number, regressed: boolean): number {
  if (!regressed) return runCode;
  return runCode === ExitCode.Ok || runCode === ExitCode.WorkerLost ? ExitCode.BaselineRegression : runCode;
}

/**
 * A run refused before anything started (a taken port, an unreachable target): printed as a
 * plain message by the CLI, with its exit code.
 */
export class RunRefused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'RunRefused';
  }
}
