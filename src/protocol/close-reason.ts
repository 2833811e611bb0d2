/**
 * Why a protocol connection ended. The first three are the protocol's own fault rules
 * ("either side must close the WebSocket when …"); the farm counts disconnects by these codes.
 */
export type CloseReason =
  | 'seq_mismatch' // an answer carried a seq other than the one expected
  | 'timeout' // a request of ours had no answer within the RPC timeout
  | 'malformed' // the peer sent a packet that is not a valid request, answer or event
  | 'closed_by_peer' // the peer closed the WebSocket (its close code tells more)
  | 'network' // socket error or abrupt end without a close frame
  | 'local'; // we closed on purpose (stop, reboot, upgrade)

/** WebSocket close codes (private range 4000–4999) that carry our fault reasons to the peer. */
export const closeCodes: Record<'seq_mismatch' | 'timeout' | 'malformed', number> = {
  seq_mismatch: 4001,
  timeout: 4002,
  malformed: 4003,
};

/** A connection's end, as seen from one side. */
export interface CloseInfo {
  reason: CloseReason;
  /** WebSocket close code sent or received (1006 when the socket just died). */
  code: number;
  /** Human-readable detail, e.g. what was malformed. Never contains secrets. */
  detail: string;
}
