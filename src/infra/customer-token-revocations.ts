import { type Kysely, sql } from "kysely";
import {
  CUSTOMER_TOKEN_REVOCATION_SCOPE,
  type CustomerTokenRevocations,
  type CustomerTokenRevocationView,
} from "../app/access.js";
import type { Outcome, WriteRequest } from "../app/ledger-service.js";
import type { IdGenerator, StoredOutcome } from "../app/ports.js";
import type { Database } from "./schema.js";
import { TtlCache } from "./ttl-cache.js";

/** Revocation instants kept this long by default: every request with a customer token checks one. */
export const REVOCATION_CACHE_TTL_MS = 5_000;
const REVOCATION_CACHE_MAX = 10_000;

export class PostgresCustomerTokenRevocations implements CustomerTokenRevocations {
  /**
   * Each customer's revocation instant, or that there is none, as read recently. A revocation made
   * here leaves the cache at once; one made by another instance is seen within `cacheTtlMs`.
   */
  private readonly known: TtlCache<string, Date | undefined>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
    cacheTtlMs = REVOCATION_CACHE_TTL_MS,
  ) {
    this.known = new TtlCache(cacheTtlMs, REVOCATION_CACHE_MAX);
  }

  async revokedBefore(customerId: string): Promise<Date | undefined> {
    const cached = this.known.get(customerId);
    if (cached) return cached.value;
    const row = await this.db
      .selectFrom("customer_token_revocations")
      .select("revoked_before")
      .where("customer_id", "=", customerId)
      .executeTakeFirst();
    this.known.set(customerId, row?.revoked_before);
    return row?.revoked_before;
  }

  async revoke(
    revocation: { customerId: string; at: Date; reason: string },
    request: WriteRequest,
    answer: (revokedBefore: Date) => Outcome<CustomerTokenRevocationView>,
  ): Promise<{ prior: StoredOutcome } | { stored: Outcome<CustomerTokenRevocationView> }> {
    const { customerId } = revocation;
    const result = await this.db.transaction().execute(async (trx) => {
      // Creates the customer if new and locks its row, as a ledger write does: the stored answer needs
      // the customer, and a retry of the same key waits here and then finds the first one's answer.
      await sql`
        insert into customers (customer_id) values (${customerId})
        on conflict (customer_id) do update set customer_id = excluded.customer_id`.execute(trx);
      // A caller's key names one request, whatever operation it was first used for.
      const seen = await trx
        .selectFrom("idempotency")
        .select(["scope", "fingerprint", "request_id", "outcome"])
        .where("customer_id", "=", customerId)
        .where("caller", "=", request.actor)
        .where("key", "=", request.idempotencyKey)
        .limit(1)
        .executeTakeFirst();
      if (seen) {
        const prior = {
          scope: seen.scope,
          fingerprint: seen.fingerprint,
          requestId: seen.request_id,
          outcome: JSON.parse(seen.outcome),
        };
        return { prior };
      }
      const before = await trx
        .selectFrom("customer_token_revocations")
        .select("revoked_before")
        .where("customer_id", "=", customerId)
        .executeTakeFirst();
      const { revoked_before: revokedBefore } = await trx
        .insertInto("customer_token_revocations")
        .values({ customer_id: customerId, revoked_before: revocation.at })
        .onConflict((oc) =>
          oc.column("customer_id").doUpdateSet({
            revoked_before: sql`greatest(customer_token_revocations.revoked_before, excluded.revoked_before)`,
          }),
        )
        .returning("revoked_before")
        .executeTakeFirstOrThrow();
      const stored = answer(revokedBefore);
      await trx
        .insertInto("idempotency")
        .values({
          customer_id: customerId,
          caller: request.actor,
          scope: CUSTOMER_TOKEN_REVOCATION_SCOPE,
          key: request.idempotencyKey,
          fingerprint: request.fingerprint,
          request_id: request.requestId,
          outcome: JSON.stringify(stored),
          created_at: revocation.at,
        })
        .execute();
      await trx
        .insertInto("audit_log")
        .values({
          audit_id: this.ids.newId("aud"),
          actor: request.actor,
          action: "customer_tokens.revoke",
          subject: `customer:${customerId}`,
          before: JSON.stringify({ revokedBefore: before?.revoked_before ?? null }),
          after: JSON.stringify({ revokedBefore, reason: revocation.reason }),
          at: revocation.at,
        })
        .execute();
      return { stored };
    });
    this.known.delete(customerId);
    return result;
  }
}
