import type { Kysely } from "kysely";
import type { RunClaims } from "../app/scheduled-work.js";
import type { Database } from "./schema.js";

/** The primary key (task, slot) makes the claim: the first insert wins, every other one finds the row. */
export class PostgresRunClaims implements RunClaims {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(task: string, slot: number, claimer: string, at: Date): Promise<boolean> {
    const inserted = await this.db
      .insertInto("scheduled_runs")
      .values({ task, slot, claimed_by: claimer, claimed_at: at, finished_at: null, customers_settled: null })
      .onConflict((oc) => oc.columns(["task", "slot"]).doNothing())
      .executeTakeFirst();
    return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** A conditional update: of instances reclaiming the same stale claim, one wins. */
  async reclaim(task: string, slot: number, claimer: string, at: Date, staleBefore: Date): Promise<boolean> {
    const updated = await this.db
      .updateTable("scheduled_runs")
      .set({ claimed_by: claimer, claimed_at: at })
      .where("task", "=", task)
      .where("slot", "=", slot)
      .where("finished_at", "is", null)
      .where("claimed_at", "<", staleBefore)
      .executeTakeFirst();
    return (updated.numUpdatedRows ?? 0n) > 0n;
  }

  async finish(task: string, slot: number, customersSettled: number, at: Date): Promise<void> {
    await this.db
      .updateTable("scheduled_runs")
      .set({ finished_at: at, customers_settled: customersSettled })
      .where("task", "=", task)
      .where("slot", "=", slot)
      .execute();
  }
}
