import type { GroupCommitter } from "./group-commit.js";
import type { LedgerService } from "./ledger-service.js";
import type { Clock, IdGenerator, LedgerStore } from "./ports.js";
import { sweepInBatches } from "./sweep.js";

/** A scheduled run happens once per (task, slot), however many instances try (Graphile-style guard). */
export interface RunClaims {
  claim(task: string, slot: number, claimer: string, at: Date): Promise<boolean>;
  finish(task: string, slot: number, customersSettled: number, at: Date): Promise<void>;
  /**
   * Takes over a claim that was never finished and was made before `staleBefore` (its claimer died
   * mid-run): for runs that must complete, such as a month's savings interest (R25).
   */
  reclaim(task: string, slot: number, claimer: string, at: Date, staleBefore: Date): Promise<boolean>;
}

export const SETTLE_TASK = "settle_due_work";

/**
 * R5, R13, R20 on a schedule: makes due pending credits available, writes off expired lots and
 * releases timed-out holds. A page of customers is settled set-based in one statement; the few whose
 * settlement depends on more than their due lots (a debt to net, R14; a timed-out hold, R20) go
 * through the per-customer path. The same settlement also runs lazily in every write and balance
 * read, so the job only keeps idle customers' ledgers current.
 */
export class ScheduledWork {
  constructor(
    private readonly store: LedgerStore,
    private readonly ledger: LedgerService,
    private readonly claims: RunClaims,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly committer: GroupCommitter,
    /** How long an Idempotency-Key's answer is kept; older ones are swept (`KOPILKA_IDEMPOTENCY_RETENTION_HOURS`). */
    private readonly answerRetentionHours: number,
    private readonly pageSize = 2_000,
  ) {}

  async run(slot: number, claimer: string): Promise<{ claimed: boolean; customersSettled: number }> {
    if (!(await this.claims.claim(SETTLE_TASK, slot, claimer, this.clock.now()))) {
      return { claimed: false, customersSettled: 0 };
    }
    // Settling a customer takes it out of the due set, so each page is the next one. A page with
    // no customer not already settled in this run means nothing is left that settling can clear.
    const settled = new Set<string>();
    for (;;) {
      const customers = (await this.store.customersWithDueWork(this.clock.now(), this.pageSize)).filter(
        (c) => !settled.has(c),
      );
      if (customers.length === 0) break;
      // One statement per hash range and at most KOPILKA_CUSTOMERS_PER_TRANSACTION customers.
      for (const range of this.committer.transactionGroups(customers)) {
        const now = this.clock.now();
        const { perCustomer } = await this.store.withCustomers(range, (tx) =>
          tx.settleDueLotsInBulk(now, this.ids.newIdBlock("mov")),
        );
        if (perCustomer.length > 0) await this.ledger.settleCustomers(perCustomer);
      }
      for (const c of customers) settled.add(c);
    }
    const customersSettled = settled.size;
    await this.sweepStoredAnswers();
    await this.claims.finish(SETTLE_TASK, slot, customersSettled, this.clock.now());
    return { claimed: true, customersSettled };
  }

  /**
   * Stored answers to Idempotency-Keys are kept `answerRetentionHours`, then swept set-based. Order
   * events are not: they stay idempotent by event id for as long as the order lives.
   */
  async sweepStoredAnswers(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.answerRetentionHours * 3_600_000);
    return sweepInBatches((limit) => this.store.sweepStoredAnswers(cutoff, limit));
  }
}
