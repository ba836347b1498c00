import { type Kysely, sql } from "kysely";
import type { EffectKey, EffectStore, StoredEffect } from "../app/effects/effect-relay.js";
import type { Database } from "./schema.js";

interface EffectRow {
  customer_id: string;
  effect_id: string;
  target_customer_id: string;
  payload: string;
  created_at: Date | string;
  attempts: number;
}

function effectOf(r: EffectRow): StoredEffect {
  return {
    sourceCustomerId: r.customer_id,
    effectId: r.effect_id,
    targetCustomerId: r.target_customer_id,
    payload: JSON.parse(r.payload) as StoredEffect["payload"],
    createdAt: new Date(r.created_at),
    attempts: Number(r.attempts),
  };
}

/**
 * The relay's side of `customer_effects`. Marking an effect delivered is a one-row statement on the
 * source customer's row, after the target's transaction committed: in a store distributed by
 * customer, a single-shard statement, never part of another customer's transaction.
 */
export class PostgresEffectStore implements EffectStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** `claim_effects`: the oldest undelivered effects nobody holds, taken with `for update skip locked`. */
  async claim(input: {
    now: Date;
    leaseUntil: Date;
    limit: number;
    only?: EffectKey[];
  }): Promise<StoredEffect[]> {
    const only = input.only;
    const result = await sql<EffectRow>`
      with taken as (
        select customer_id, effect_id from customer_effects as e
        where e.delivered_at is null and (e.lease_until is null or e.lease_until <= ${input.now})
          ${
            only
              ? sql`and (e.customer_id, e.effect_id) in (
                  select * from unnest(${only.map((k) => k.sourceCustomerId)}::text[], ${only.map((k) => k.effectId)}::text[]))`
              : sql``
          }
        order by e.created_at, e.customer_id, e.effect_id
        limit ${input.limit}
        for update skip locked)
      update customer_effects as e set lease_until = ${input.leaseUntil}, attempts = e.attempts + 1
      from taken where e.customer_id = taken.customer_id and e.effect_id = taken.effect_id
      returning e.customer_id, e.effect_id, e.target_customer_id, e.payload, e.created_at, e.attempts`.execute(
      this.db,
    );
    return result.rows
      .map(effectOf)
      .sort(
        (a, b) =>
          a.createdAt.getTime() - b.createdAt.getTime() ||
          (a.sourceCustomerId < b.sourceCustomerId ? -1 : a.sourceCustomerId > b.sourceCustomerId ? 1 : 0) ||
          (a.effectId < b.effectId ? -1 : 1),
      );
  }

  async markDelivered(keys: EffectKey[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    await sql`
      update customer_effects as e set delivered_at = ${at}, lease_until = null, last_error = null
      from unnest(${keys.map((k) => k.sourceCustomerId)}::text[], ${keys.map((k) => k.effectId)}::text[])
        as k (customer_id, effect_id)
      where e.customer_id = k.customer_id and e.effect_id = k.effect_id`.execute(this.db);
  }

  async markFailed(key: EffectKey, error: string): Promise<void> {
    await sql`
      update customer_effects set last_error = ${error.slice(0, 2000)}
      where customer_id = ${key.sourceCustomerId} and effect_id = ${key.effectId}`.execute(this.db);
  }

  async backlog(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    const result = await sql<{ count: string | number; oldest: Date | string | null }>`
      select count(*) as count, min(created_at) as oldest from customer_effects where delivered_at is null`.execute(
      this.db,
    );
    const row = result.rows[0];
    return {
      count: Number(row?.count ?? 0),
      oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null,
    };
  }
}
