// How many finished segments a recording may hold in memory while waiting (contract item 5.2).

/** The StartCloudRecord fields the recorder uses (structurally the protocol's params). */
export interface RecordParams {
  readonly session_id: string;
  readonly seg_duration: number;
  /** Max bytes of one TS file; 0 = no cap. */
  readonly seg_max_size: number;
  readonly seg_max_count: number;
  readonly prerecord_seconds: number;
  readonly cbk_url: string;
}

/**
 * Segments kept after a create that gave no slot ("not now", or the callback failed):
 * `min(ceil(prerecord_seconds / seg_duration), seg_max_count − 1)`, never below 0.
 */
export function prerecordQueueLimit(
  p: Pick<RecordParams, 'prerecord_seconds' | 'seg_duration' | 'seg_max_count'>,
): number {
  const wanted = Math.ceil(Math.max(0, p.prerecord_seconds) / Math.max(1, p.seg_duration));
  return Math.max(0, Math.min(wanted, p.seg_max_count - 1));
}

/**
 * Segments that may wait behind the one being uploaded (a slow platform): the memory bound
 * `seg_max_count − 1`, but at least 1 so a device whose upload runs a little over real time does
 * not drop every other segment.
 */
export function busyQueueLimit(p: Pick<RecordParams, 'seg_max_count'>): number {
  return Math.max(1, p.seg_max_count - 1);
}
