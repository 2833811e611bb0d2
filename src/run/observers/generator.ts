import { availableParallelism } from 'node:os';
import { GeneratorLimitDetector, type GeneratorLimitSummary } from '../../metrics/generator-limit.js';
import type { RunObserver, SecondTick } from '../observer.js';

/** Watches the generator's own health: a saturated generator makes figures a lower bound. */
export class GeneratorWatch implements RunObserver {
  private readonly detector = new GeneratorLimitDetector({ cores: availableParallelism() });

  second({ sample }: SecondTick): undefined {
    this.detector.observe(sample);
    return undefined;
  }

  /** Why the generator is saturated in the latest second, or null. */
  get limitedNow(): string | null {
    return this.detector.limitedNow ? this.detector.summary().reasons.join('; ') : null;
  }

  summary(): GeneratorLimitSummary {
    return this.detector.summary();
  }
}
