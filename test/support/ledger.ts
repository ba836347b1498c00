import { LedgerService, type WriteRequest } from "../../src/app/ledger-service.js";
import { fixedPolicy } from "../../src/app/programme-rules.js";
import { DEFAULT_LEDGER_POLICY } from "../../src/domain/ledger/index.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { PostgresLedgerStore } from "../../src/infra/ledger-store.js";
import { FakeClock } from "./clock.js";
import { freshDatabase } from "./database.js";

/** A ledger service on a fresh database with a fake clock; `request()` makes a new idempotent request. */
export async function ledgerHarness() {
  const database = await freshDatabase();
  const clock = new FakeClock();
  const store = new PostgresLedgerStore(database.db);
  const service = new LedgerService(store, clock, new MonotonicIds(), fixedPolicy(DEFAULT_LEDGER_POLICY));
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
  return { database, clock, store, service, request };
}

/** Unwraps a successful write, failing the test with the refusal otherwise. */
export function expectOk<T>(
  result: { ok: true; value: T } | { ok: false; code: string; message: string },
): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result.value;
}
