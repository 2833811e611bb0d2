import type { PtzToken } from '../protocol/methods.js';

/**
 * Simulated pan/tilt/zoom of one channel: CtrlPTZ moves it at a speed until `stop`, presets
 * jump to a stored position, a preset tour or a patrol just runs until stopped. Positions are
 * integrated lazily from the time of the last command, so a moving head costs no timer.
 */

/** Pan and tilt range ±100, zoom 0–100; full speed (100) moves 50 units per second. */
const UNITS_PER_MS_AT_FULL_SPEED = 50 / 1000;
const directions: Readonly<Record<string, readonly [number, number, number]>> = {
  up: [0, 1, 0],
  down: [0, -1, 0],
  left: [-1, 0, 0],
  right: [1, 0, 0],
  upleft: [-1, 1, 0],
  upright: [1, 1, 0],
  downleft: [-1, -1, 0],
  downright: [1, -1, 0],
  zoomin: [0, 0, 1],
  zoomout: [0, 0, -1],
};

/** What a test or report reads back. */
export interface PtzStatus {
  pan: number;
  tilt: number;
  zoom: number;
  /** The CtrlPTZ op in progress, or null when still. */
  moving: string | null;
  speed: number;
  /** Token of the preset last reached with GotoPTZPreset (cleared by manual moves). */
  preset: string | null;
  /** Token of the running preset tour. */
  tour: string | null;
  patrol: boolean;
}

const listCache = new Map<string, readonly PtzToken[]>();

/** Preset (or tour) lists are the same for every device with the same count: one shared array. */
export function tokenList(kind: 'preset' | 'tour', count: number): readonly PtzToken[] {
  const key = `${kind}:${count}`;
  let list = listCache.get(key);
  if (!list) {
    const label = kind === 'preset' ? 'Preset' : 'Tour';
    list = Object.freeze(
      Array.from({ length: count }, (_, i) =>
        Object.freeze({ name: `${label} ${i + 1}`, token: `${kind}-${i + 1}` }),
      ),
    );
    listCache.set(key, list);
  }
  return list;
}

/** Where preset n points (deterministic, so tests can check a GotoPTZPreset). */
export function presetPosition(n: number): readonly [number, number, number] {
  return [((n * 40 + 100) % 200) - 100, (n * 15) % 100, (n * 20) % 100];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

export class Ptz {
  private pan = 0;
  private tilt = 0;
  private zoom = 0;
  private moving: string | null = null;
  private speed = 0;
  private since = 0;
  private preset: string | null = null;
  private tour: string | null = null;
  private patrol = false;

  /** CtrlPTZ: a direction starts moving at `speed` (0–100), `stop` halts; manual control ends tours. */
  control(op: string, speed: number, nowMs: number): void {
    this.settle(nowMs);
    this.tour = null;
    this.patrol = false;
    if (op === 'stop' || !(op in directions)) {
      this.moving = null;
      this.speed = 0;
      return;
    }
    this.moving = op;
    this.speed = speed;
    this.preset = null;
  }

  /** GotoPTZPreset: false when the token is not one of `presets` (then nothing moves). */
  gotoPreset(token: string, presets: number, nowMs: number): boolean {
    const n = Number(/^preset-(\d+)$/.exec(token)?.[1] ?? 0);
    if (n < 1 || n > presets) return false;
    this.settle(nowMs);
    [this.pan, this.tilt, this.zoom] = presetPosition(n);
    this.moving = null;
    this.speed = 0;
    this.preset = token;
    this.tour = null;
    this.patrol = false;
    return true;
  }

  /** CtrlPTZPresetTour: false when starting an unknown tour. */
  presetTour(op: 'start' | 'stop', token: string | undefined, tours: number, nowMs: number): boolean {
    this.settle(nowMs);
    if (op === 'stop') {
      this.tour = null;
      return true;
    }
    const n = Number(/^tour-(\d+)$/.exec(token ?? '')?.[1] ?? 0);
    if (n < 1 || n > tours) return false;
    this.moving = null;
    this.patrol = false;
    this.tour = token ?? null;
    return true;
  }

  /** CtrlPTZPatrol. */
  setPatrol(op: 'start' | 'stop', nowMs: number): void {
    this.settle(nowMs);
    this.moving = null;
    this.tour = null;
    this.patrol = op === 'start';
  }

  status(nowMs: number): PtzStatus {
    this.settle(nowMs);
    return {
      pan: this.pan,
      tilt: this.tilt,
      zoom: this.zoom,
      moving: this.moving,
      speed: this.speed,
      preset: this.preset,
      tour: this.tour,
      patrol: this.patrol,
    };
  }

  private settle(nowMs: number): void {
    if (this.moving !== null) {
      const d = directions[this.moving]!;
      const step = (nowMs - this.since) * UNITS_PER_MS_AT_FULL_SPEED * (this.speed / 100);
      this.pan = clamp(this.pan + d[0] * step, -100, 100);
      this.tilt = clamp(this.tilt + d[1] * step, -100, 100);
      this.zoom = clamp(this.zoom + d[2] * step, 0, 100);
    }
    this.since = nowMs;
  }
}
