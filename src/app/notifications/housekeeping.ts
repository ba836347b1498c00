import type { GroupCommitter } from "../group-commit.js";
import type { Clock, IdGenerator } from "../ports.js";
import type { RunClaims } from "../scheduled-work.js";
import { sweepInBatches } from "../sweep.js";
import type { ExpiryCursor, NotificationHousekeeping } from "./ports.js";

export const EXPIRY_NOTICE_TASK = "expiry_notices";
const HOUR_MS = 3_600_000;

/**
 * R31 on a schedule, once an hour whichever instance claims it: notices of points expiring within
 * 30 and 7 days (once per lot and threshold: a lot refunded with a short expiry is announced within
 * the hour), then the outbox's retention sweep. Notices are written a hash range of customers per
 * statement, as every set-based write is (the committer's transaction groups).
 */
export class NotificationHousekeepingRun {
  constructor(
    private readonly store: NotificationHousekeeping,
    private readonly claims: RunClaims,
    private readonly committer: Pick<GroupCommitter, "transactionGroups">,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly retentionHours: number,
    /** Lots read per page of the expiry notice run. */
    private readonly pageSize = 2_000,
  ) {}

  async runDueHour(claimer: string): Promise<{ claimed: boolean; notices: number; swept: number }> {
    const now = this.clock.now();
    const slot = Math.floor(now.getTime() / HOUR_MS);
    if (!(await this.claims.claim(EXPIRY_NOTICE_TASK, slot, claimer, now))) {
      return { claimed: false, notices: 0, swept: 0 };
    }
    const notices = await this.noticeExpiringLots();
    const swept = await this.sweep();
    await this.claims.finish(EXPIRY_NOTICE_TASK, slot, notices, this.clock.now());
    return { claimed: true, notices, swept };
  }

  /**
   * Pages of lots in expiry order; each page's customers get all their notices due now in one
   * statement per transaction group, so later pages skip their lots.
   */
  async noticeExpiringLots(): Promise<number> {
    const now = this.clock.now();
    let written = 0;
    let after: ExpiryCursor | null = null;
    for (;;) {
      const lots = await this.store.lotsToNotifyOfExpiry(now, after, this.pageSize);
      const last = lots[lots.length - 1];
      if (last === undefined) return written;
      const customers = [...new Set(lots.map((l) => l.customerId))];
      for (const group of this.committer.transactionGroups(customers)) {
        written += await this.store.writeExpiryNotices(group, now, this.ids.newIdBlock("ntf"));
      }
      after = { expiresAt: last.expiresAt, lotId: last.lotId };
    }
  }

  async sweep(): Promise<number> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.retentionHours * HOUR_MS);
    return sweepInBatches((limit) => this.store.sweep(cutoff, now, limit));
  }
}
