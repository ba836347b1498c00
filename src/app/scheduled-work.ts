import type { LedgerService } from "./ledger-service.js";
import type { Clock, LedgerStore } from "./ports.js";

/** A scheduled run happens once per (task, slot), however many instances try (Graphile-style guard). */
export interface RunClaims {
  claim(task: string, slot: number, claimer: string, at: Date): Promise<boolean>;
  finish(task: string, slot: number, customersSettled: number, at: Date): Promise<void>;
}

export const SETTLE_TASK = "settle_due_work";

/**
 * R5, R13, R20 on a schedule: makes due pending credits available, writes off expired lots and
 * releases timed-out holds, a page of customers per transaction. The same settlement also runs lazily in
 * every write and balance read, so the job only keeps idle customers' ledgers current.
 */
export class ScheduledWork {
  constructor(
    private readonly store: LedgerStore,
    private readonly ledger: LedgerService,
    private readonly claims: RunClaims,
    private readonly clock: Clock,
    private readonly pageSize = 500,
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
      await this.ledger.settleCustomers(customers);
      for (const c of customers) settled.add(c);
    }
    const customersSettled = settled.size;
    await this.claims.finish(SETTLE_TASK, slot, customersSettled, this.clock.now());
    return { claimed: true, customersSettled };
  }
}
