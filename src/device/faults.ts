import type { Random } from '../core/random.js';
import type { Scheduler, Timer, TimerTarget } from '../core/scheduler.js';
import { NO_ANSWER, type RpcPeer } from '../protocol/peer.js';
import type { DeviceFaults } from './config.js';
import type { DeviceIdentity, DeviceObserver } from './observer.js';

/** What a misbehaving device sends instead of a packet: cut-off JSON. */
const MALFORMED_PACKET = '{"req":"Keepalive","seq":';

interface SlowAnswer {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  value: unknown;
  failed: boolean;
}

/**
 * The misbehaviour of one device (`DeviceConfig.faults`): slow and dropped answers, malformed
 * packets. Created only for a device that has faults, so a well-behaved fleet pays nothing.
 * Every fault that fires is reported with `faultInjected`.
 */
export class FaultInjector implements TimerTarget {
  private slow: SlowAnswer | null = null;
  private slowTimer: Timer | null = null;

  constructor(
    private readonly faults: DeviceFaults,
    private readonly device: DeviceIdentity,
    private readonly observer: DeviceObserver,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
  ) {}

  /** Before a keepalive: maybe send cut-off JSON first. */
  beforeKeepalive(peer: RpcPeer): void {
    const p = this.faults.malformedProbability;
    if (p && this.random() < p) {
      peer.sendRaw(MALFORMED_PACKET);
      this.observer.faultInjected?.(this.device, 'malformed_packet');
    }
  }

  /**
   * The answer the device actually gives to a platform request: none, a delayed one, or the
   * handler's (`failed`: `result` is the error to throw).
   */
  answer(result: unknown, failed: boolean): unknown {
    const drop = this.faults.dropAnswerProbability;
    if (drop && this.random() < drop) {
      this.observer.faultInjected?.(this.device, 'dropped_answer');
      return NO_ANSWER;
    }
    const delay = this.faults.slowAnswerMs;
    if (delay) {
      this.observer.faultInjected?.(this.device, 'slow_answer');
      return new Promise((resolve, reject) => {
        this.slow = { resolve, reject, value: result, failed };
        this.slowTimer ??= this.scheduler.timer(this, 0);
        this.scheduler.schedule(this.slowTimer, delay);
      });
    }
    if (failed) throw result;
    return result;
  }

  onTimer(): void {
    this.releaseSlow();
  }

  /** Lets a delayed answer go now; after a close the peer drops it. */
  releaseSlow(): void {
    const s = this.slow;
    if (!s) return;
    this.slow = null;
    if (this.slowTimer) this.scheduler.cancel(this.slowTimer);
    if (s.failed) s.reject(s.value);
    else s.resolve(s.value);
  }
}
