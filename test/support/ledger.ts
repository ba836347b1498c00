import type { Kysely } from "kysely";
import { GroupCommitter } from "../../src/app/group-commit.js";
import { LedgerService, type WriteRequest } from "../../src/app/ledger-service.js";
import { fixedPolicy } from "../../src/app/programme-rules.js";
import { SETTINGS } from "../../src/config.js";
import { DEFAULT_LEDGER_POLICY } from "../../src/domain/ledger/index.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { PostgresLedgerStore } from "../../src/infra/ledger-store.js";
import type { Database } from "../../src/infra/schema.js";
import { FakeClock } from "./clock.js";
import { freshDatabase } from "./database.js";

/** A ledger service on a fresh database with a fake clock; `request()` makes a new idempotent request. */
export async function ledgerHarness() {
  const database = await freshDatabase();
  const clock = new FakeClock();
  const store = new PostgresLedgerStore(database.db);
  const ids = new MonotonicIds();
  const policies = fixedPolicy(DEFAULT_LEDGER_POLICY);
  const committer = new GroupCommitter(
    store,
    clock,
    async (now) => ({ now, newId: (prefix) => ids.newId(prefix), policy: await policies.ledgerPolicy(now) }),
    { lanes: database.kind === "pglite" ? 1 : 4, customersPerTransaction: 500 },
  );
  const service = new LedgerService(store, committer, clock, policies, SETTINGS.timeZone.default);
  let counter = 0;
  const request = (key?: string): WriteRequest => {
    counter += 1;
    return {
      idempotencyKey: key ?? `key-${counter}`,
      fingerprint: key ?? `fp-${counter}`,
      requestId: `req_${counter}`,
      actor: "test",
    };
  };
  return { database, clock, store, service, request, ids, committer };
}

/** Unwraps a successful write, failing the test with the refusal otherwise. */
export function expectOk<T>(
  result: { ok: true; value: T } | { ok: false; code: string; message: string },
): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result.value;
}

/** A customer's open lots (pending, or with points left) straight from the table, in the R4 order. */
export async function openLots(db: Kysely<Database>, customerId: string) {
  const rows = await db
    .selectFrom("lots")
    .selectAll()
    .where("customer_id", "=", customerId)
    .where((eb) => eb.or([eb("remaining", ">", 0), eb("state", "=", "pending")]))
    .orderBy("expires_at")
    .orderBy("created_at")
    .orderBy("lot_id")
    .execute();
  return rows.map((r) => ({
    lotId: r.lot_id,
    remaining: r.remaining,
    state: r.state,
    expiresAt: r.expires_at,
  }));
}
