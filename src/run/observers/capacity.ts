import { type CapacitySummary, capacityUnit, LimitFinder } from '../../capacity/index.js';
import type { CapacityPlan } from '../../scenario/types.js';
import type { RunObserver, SecondTick } from '../observer.js';
import type { StopRequest } from '../stop.js';
import type { GeneratorWatch } from './generator.js';

/** The limit finder (`capacity:`) as an observer: the first broken step stops the run. */
export class CapacityWatch implements RunObserver {
  private finder: LimitFinder | null = null;
  private broken: StopRequest | undefined;

  constructor(
    private readonly plan: CapacityPlan,
    private readonly generator: GeneratorWatch,
  ) {}

  start(): void {
    this.finder = new LimitFinder(this.plan, (step) => {
      this.broken = {
        reason: 'limit_found',
        detail: `at ${step.level} ${capacityUnit(this.plan)}, ${step.broken[0]} broke`,
      };
    });
  }

  second({ raw }: SecondTick): StopRequest | undefined {
    this.finder?.observe(raw, this.generator.limitedNow);
    return this.broken;
  }

  summary(): CapacitySummary | null {
    return this.finder?.summary() ?? null;
  }
}
