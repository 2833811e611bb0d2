// The `reason` label of the `disconnects` counter, and which of them are platform faults.

/**
 * Every reason a device session can end. The first five are the protocol's close reasons
 * (protocol/close-reason.ts); the farm's own actions (reboot, upgrade, a scenario storm, the
 * run's shutdown) get their own labels so they are never mistaken for platform faults.
 */
export const DISCONNECT_REASONS = [
  'seq_mismatch',
  'timeout',
  'malformed',
  'closed_by_peer',
  'network',
  'login_refused',
  'reboot',
  'upgrade',
  'scenario',
  'shutdown',
  'message_too_large',
] as const;

export type DisconnectLabel = (typeof DISCONNECT_REASONS)[number];

/** Disconnects the platform (or the network to it) caused: counted as errors on the live line and in compare. */
export const FAULT_DISCONNECT_REASONS: ReadonlySet<string> = new Set<DisconnectLabel>([
  'seq_mismatch',
  'timeout',
  'malformed',
  'closed_by_peer',
  'network',
]);
