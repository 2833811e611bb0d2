import type { AlarmRectIntrusionDetectConfigParams, Rect } from '../protocol/methods.js';

/** A channel's stored alarm-detection configuration (AlarmMoveDetectConfig / AlarmRectIntrusionDetectConfig). */
export interface DetectConfig {
  readonly enable: boolean;
  /** Arm window, seconds from 00:00 of the device clock; start > end crosses midnight. */
  readonly start: number;
  readonly end: number;
  readonly sensitivity: number;
  /** Seconds an alarm lasts after the last detection. */
  readonly delay: number;
  readonly rect: Readonly<Rect> | undefined;
}

export const fullPictureRect: Readonly<Rect> = Object.freeze({
  ulx: 0,
  uly: 0,
  urx: 100,
  ury: 0,
  dlx: 0,
  dly: 100,
  drx: 100,
  dry: 100,
});

/** Armed all day, shared by every channel until the platform configures one. */
export const defaultDetectConfig: DetectConfig = Object.freeze({
  enable: true,
  start: 0,
  end: 86_400,
  sensitivity: 50,
  delay: 0,
  rect: undefined,
});

/**
 * The config after a platform call: `start`/`end` fall back to the document's defaults
 * (0 / 86400) when absent; an absent `rect` keeps the current rectangle.
 */
export function applyDetectConfig(
  current: DetectConfig,
  params: Omit<AlarmRectIntrusionDetectConfigParams, 'channel'>,
): DetectConfig {
  return Object.freeze({
    enable: params.enable,
    start: params.start ?? 0,
    end: params.end ?? 86_400,
    sensitivity: params.sensitivity,
    delay: params.delay,
    rect: params.rect ? Object.freeze({ ...params.rect }) : current.rect,
  });
}

/** Seconds since 00:00 (UTC) of an epoch-ms time: the device's time of day. */
export function secondsOfDay(epochMs: number): number {
  return Math.floor((((epochMs % 86_400_000) + 86_400_000) % 86_400_000) / 1000);
}

/** Whether the arm window covers `second` (start == end is an empty window). */
export function isArmed(config: DetectConfig, second: number): boolean {
  if (!config.enable) return false;
  if (config.start <= config.end) return second >= config.start && second < config.end;
  return second >= config.start || second < config.end;
}
