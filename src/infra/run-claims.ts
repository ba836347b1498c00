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

  async finish(task: string, slot: number, customersSettled: number, at: Date): Promise<void> {
    await this.db
      .updateTable("scheduled_runs")
      .set({ finished_at: at, customers_settled: customersSettled })
      .where("task", "=", task)
      .where("slot", "=", slot)
      .execute();
  }
}
