import {
  coverageOf,
  type PremiumInterval,
  type PremiumPeriod,
  type PremiumPeriodDates,
  reportPeriod,
  validatePeriodDates,
} from "../../domain/premium/index.js";
import type { GroupCommitter } from "../group-commit.js";
import { type KeyedAnswer, keyedWork } from "../keyed-work.js";
import type { WriteRequest } from "../ledger-service.js";
import type { Clock, IdGenerator, PremiumState } from "../ports.js";
import { validationFailed } from "../validation-refusal.js";

/** What the Premium use cases read outside a customer's work. */
export interface PremiumStore {
  /** For each (customer, instant), the interval of its coverage holding the instant: one probe each. */
  intervalsAt(asked: readonly { customerId: string; at: Date }[]): Promise<(PremiumInterval | undefined)[]>;
  /** The customer's periods, the version in force of each, by start. */
  periods(customerId: string): Promise<PremiumPeriod[]>;
}

export interface PremiumPeriodView {
  customerId: string;
  periodId: string;
  version: number;
  startsAt: string;
  endsAt: string;
  recordedBy: string;
  recordedAt: string;
}

export interface PremiumView {
  customerId: string;
  /** Premium now: a period covers this instant. */
  active: boolean;
  /** Premium without a gap until then (the end of the covering periods); null when not Premium now. */
  until: string | null;
  periods: PremiumPeriodView[];
}

function periodView(customerId: string, p: PremiumPeriod): PremiumPeriodView {
  return {
    customerId,
    periodId: p.periodId,
    version: p.version,
    startsAt: p.startsAt.toISOString(),
    endsAt: p.endsAt.toISOString(),
    recordedBy: p.recordedBy,
    recordedAt: p.recordedAt.toISOString(),
  };
}

/** R28: the subscription periods the marketplace reports, and whether a customer is Premium at an instant. */
export class PremiumService {
  constructor(
    private readonly store: PremiumStore,
    private readonly committer: GroupCommitter,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * R28: a period reported, in the customer's own work behind the Idempotency-Key. New dates under a
   * period id make its next version (audited with the dates before and after) and rewrite the
   * customer's coverage; the same dates again answer the period as it is. Dates that do not make a
   * period (endsAt not after startsAt) are refused like a malformed body, naming the field.
   */
  async recordPeriod(
    customerId: string,
    periodId: string,
    dates: PremiumPeriodDates,
    request: WriteRequest,
  ): Promise<KeyedAnswer<PremiumPeriodView>> {
    const problems = validatePeriodDates(dates);
    if (problems.length > 0)
      return { ...validationFailed(problems), replayed: false, requestId: request.requestId };
    const auditId = this.ids.newId("aud");
    return this.committer.submit(
      keyedWork<PremiumPeriodView>(
        customerId,
        "record_premium_period",
        request,
        { premium: true },
        (state, ctx) => {
          const { periods } = state.premium as PremiumState;
          const before = periods.get(periodId);
          const report = reportPeriod(before, { ...dates, periodId, actor: request.actor, at: ctx.now });
          const outcome = { ok: true as const, value: periodView(customerId, report.period) };
          if (!report.changed) return { outcome };
          const after = new Map(periods).set(periodId, report.period);
          return {
            outcome,
            write: {
              premium: {
                period: report.period,
                before: before ?? null,
                coverage: coverageOf(after.values()),
                auditId,
              },
            },
          };
        },
      ),
    );
  }

  /** R28: for each (customer, instant), whether the customer was Premium then (start in, end out). */
  async premiumAt(asked: readonly { customerId: string; at: Date }[]): Promise<boolean[]> {
    return (await this.store.intervalsAt(asked)).map((i) => i !== undefined);
  }

  /** R28: the customer's periods, whether Premium now, and until when without a gap. */
  async view(customerId: string): Promise<PremiumView> {
    const now = this.clock.now();
    const [periods, [interval]] = await Promise.all([
      this.store.periods(customerId),
      this.store.intervalsAt([{ customerId, at: now }]),
    ]);
    return {
      customerId,
      active: interval !== undefined,
      until: interval?.endsAt.toISOString() ?? null,
      periods: periods.map((p) => periodView(customerId, p)),
    };
  }
}
