// The stream qualities of IVR-RPC.md (`quality` of StartCloudRecord, SetRTMPPublishConfig, the
// rendition ladder and the scenario's media section), lowest first. The one list of them.

export const QUALITIES = ['ld', 'sd', 'hd', 'fhd'] as const;
export type Quality = (typeof QUALITIES)[number];

export function isQuality(value: unknown): value is Quality {
  return typeof value === 'string' && (QUALITIES as readonly string[]).includes(value);
}
