import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accountColumns } from "../../src/infra/movement-rows.js";
import { reconcileLedger } from "../../src/infra/reconciliation.js";
import { httpHarness } from "../support/http.js";
import { checkLedgerInvariants } from "../support/invariants.js";
import { financeApi, type Harness } from "./helpers.js";

/**
 * The reconciliation (`GET /v1/finance/verify`, `kopilka verify`) against rows corrupted on purpose,
 * each case on a database of its own; the rows' own check (test/support/invariants.ts, in
 * TypeScript) must find the same corruption.
 */

const C = "rc-1";

/**
 * A small ledger that every check reads: lots of four funders, pending, expired, spent, held, cancelled
 * while pending, clawed back, removed by support.
 */
async function book(h: Harness) {
  const f = financeApi(h);
  h.clock.set(new Date("2026-01-15T09:00:00.000Z"));
  await f.credit(C, { kind: "bonus", amount: 100, source: "purchase", funder: "marketplace" });
  const pending = await f.credit(C, {
    kind: "bonus",
    amount: 40,
    source: "seller",
    funder: "seller:rc-s",
    availableFrom: "2026-01-16T09:00:00.000Z",
  });
  await f.credit(C, { kind: "savings", amount: 25, source: "savings_interest", funder: "savings_interest" });
  await f.credit(C, {
    kind: "bonus",
    amount: 10,
    source: "campaign",
    funder: "campaign:rc",
    expiresAt: "2026-01-16T00:00:00.000Z",
  });
  await f.clawback(C, { kind: "bonus", amount: 15, lotId: pending.lotId });
  h.clock.set(new Date("2026-01-17T09:00:00.000Z"));
  await f.settle(C); // the campaign's lot expires, the seller's becomes available
  await f.spend(C, "rc-spend", 30);
  await f.adjust(C, "bonus", -5);
  await f.clawback(C, { kind: "bonus", amount: 5 }); // available points, clawed back to the sink (R14)
  await f.hold(C, "rc-hold", 20);
}

/** A movement written straight into the table, its accounts encoded as the service encodes them. */
async function insertMovement(h: Harness, postings: [account: string, amount: number][]) {
  const { accounts, funders } = accountColumns(postings.map(([account]) => account));
  await sql`
    insert into movements (customer_id, movement_id, occurred_at, kind, type, reference, actor, explanation_code,
                           explanation_params, accounts, funders, amounts, lot_refs, lot_deltas)
    values (${C}, ${`mov_${"Z".repeat(26)}`}, now(), 'bonus', 'credit', null, 'test', 0, '["-","-"]', ${accounts}::bytea, ${funders},
            ${postings.map(([, amount]) => amount)}::bigint[], ''::bytea, '{}')`.execute(h.database.db);
}

async function dropNetCheck(h: Harness) {
  const found = await sql<{ conname: string }>`
    select conname from pg_constraint
    where conrelid = 'movements'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%kopilka_sum%'`.execute(
    h.database.db,
  );
  for (const { conname } of found.rows) {
    await sql`alter table movements drop constraint ${sql.id(conname)}`.execute(h.database.db);
  }
}

describe("the reconciliation", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await httpHarness();
    await book(h);
  });
  afterEach(async () => {
    await h.close();
  });

  const verify = async () => {
    const res = await h.send({ method: "GET", url: "/v1/finance/verify", key: h.keys.operator });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as {
      ok: boolean;
      violations: { check: string; message: string }[];
      postings: { total: number };
    };
    return { ...body, checks: [...new Set(body.violations.map((v) => v.check))].sort() };
  };

  it("finds nothing wrong with the ledger as the service wrote it", async () => {
    expect(await verify()).toMatchObject({ ok: true, violations: [], postings: { total: 0 } });
    expect(await checkLedgerInvariants(h.database.db)).toEqual([]);
  });

  it.each([
    {
      what: "a balance cache row one point off",
      corrupt: () =>
        sql`update balances set available = available + 1 where customer_id = ${C} and kind = 'bonus'`.execute(
          h.database.db,
        ),
      checks: ["balances_match_lots_and_holds"],
      message: /^rc-1\/bonus: available disagree: lots (\d+), postings \1, balances \d+$/,
      rows: /rc-1\/bonus: available disagree/,
    },
    {
      what: "a lot's remaining one point short",
      corrupt: () =>
        sql`update lots set remaining = remaining - 1
            where customer_id = ${C} and funder = 'marketplace' and remaining > 0`.execute(h.database.db),
      checks: ["balances_match_lots_and_holds", "lots_match_movements"],
      message:
        /^lot rc-1\/lot_\w+ \(available\): remaining (\d+) of 100, lot deltas posted to it sum to \d+$/,
      rows: /lot rc-1\/lot_\w+: remaining \d+ of 100, lot deltas posted to it sum to/,
    },
    {
      what: "a movement that does not net to zero, its CHECK dropped",
      corrupt: async () => {
        await dropNetCheck(h);
        await insertMovement(h, [
          ["wallet:available", 5],
          ["sink:expired", -4],
        ]);
      },
      checks: ["accounts_sum_to_zero", "balances_match_lots_and_holds", "movements_net_to_zero"],
      message: /^movement rc-1\/mov_Z{26} \(credit\): postings net to 1; 2 postings over 2 account bytes/,
      rows: /nets to 1/,
    },
    {
      what: "one funder's points posted to another (the movement balances, no wallet moves)",
      corrupt: () =>
        insertMovement(h, [
          ["funder:seller:rc-a", -10],
          ["funder:seller:rc-b", 10],
        ]),
      checks: ["funders_match_postings"],
      message: /^funder seller:rc-a: its account was posted -10, its lots say 0 \(issued 0, given back 0\)$/,
      rows: /funder seller:rc-b: its account was posted 10, its lots say 0/,
    },
    {
      what: "a pending cancellation's points posted to the marketplace instead of the seller",
      corrupt: () =>
        insertMovement(h, [
          ["funder:seller:rc-s", -15],
          ["funder:marketplace", 15],
        ]),
      checks: ["funders_match_postings"],
      message:
        /^funder marketplace: its account was posted -80, its lots say -95 \(issued 100, given back 5\)$/,
      rows: /funder seller:rc-s: its account was posted -40, its lots say -25 \(issued 40, given back 15\)/,
    },
    {
      what: "an active hold that says some of its points came back",
      corrupt: () =>
        sql`update holds set take_returned = array_fill(1::bigint, array[cardinality(take_returned)])
            where customer_id = ${C} and hold_id = 'rc-hold'`.execute(h.database.db),
      checks: ["takes_match_lots"],
      message: /^hold rc-1\/rc-hold: active hold has \d+ returned$/,
      rows: /hold rc-1\/rc-hold: active hold has \d+ returned/,
    },
  ])("finds $what, as the rows' check does", async ({ corrupt, checks, message, rows }) => {
    await corrupt();
    const found = await verify();
    expect(found.ok).toBe(false);
    expect(found.checks).toEqual(checks);
    expect(found.violations.map((v) => v.message)).toContainEqual(expect.stringMatching(message));
    expect(await checkLedgerInvariants(h.database.db)).toContainEqual(expect.stringMatching(rows));
  });

  it("lists at most the violations asked for, and says there were more", async () => {
    await sql`update balances set available = available + 1, pending = pending + 1 where customer_id = ${C}`.execute(
      h.database.db,
    );
    const all = await reconcileLedger(h.database.db, { limit: 100 });
    expect(all.violations.length).toBeGreaterThan(2);
    expect(all.truncated).toBe(false);
    const first = await reconcileLedger(h.database.db, { limit: 2 });
    expect(first).toMatchObject({ truncated: true, movements: all.movements });
    expect(first.violations).toEqual(all.violations.slice(0, 2));
    // One customer's reconciliation finds the same, and another customer's nothing.
    expect((await reconcileLedger(h.database.db, { customerId: C, limit: 100 })).violations).toEqual(
      all.violations,
    );
    expect((await reconcileLedger(h.database.db, { customerId: "rc-2", limit: 100 })).violations).toEqual([]);
  });
});
