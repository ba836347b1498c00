/**
 * The scheduled work's set-based settlement (src/infra/bulk-settlement.ts) writes what the lazy,
 * per-customer path writes (R5, R13): the same movements with the same explanations, instants,
 * order and actor, the same lots and the same balance cache. Twin customers get the same random
 * lots; one is settled lazily, the other in bulk, and their ledgers are compared with lot ids
 * replaced by their creation order (ids are random). KOPILKA_PROPERTY_SEED replays a run.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { PointKind } from "../../src/domain/kinds.js";
import { expectOk, ledgerHarness } from "../support/ledger.js";
import { assertAsyncProperty } from "../support/property.js";

const RUNS = 25;
const HOUR = 3_600_000;

const h = await ledgerHarness();

const lotSpec = fc.record({
  kind: fc.constantFrom<PointKind>("bonus", "savings"),
  amount: fc.integer({ min: 1, max: 500 }),
  /** Hours until available: 0 at once, else pending. */
  pendingHours: fc.constantFrom(0, 0, 2, 30, 24 * 10),
  /** Hours from available to expiry; equal values make ties at one instant. */
  expiryHours: fc.constantFrom(1, 5, 24, 24 * 3, 24 * 20),
  reference: fc.option(fc.constantFrom("o-1", "o-2"), { nil: undefined }),
  /** Cancel the pending points first (R13): the lot falls due empty. */
  cancelPending: fc.boolean(),
});

type LotSpec = typeof lotSpec extends fc.Arbitrary<infer T> ? T : never;

/** R20: holds placed right after the lots; they time out while the customer is idle. */
const holdSpec = fc.record({
  kind: fc.constantFrom<PointKind>("bonus", "savings"),
  amount: fc.integer({ min: 1, max: 300 }),
  timeoutSeconds: fc.constantFrom(60, 1800, 7200),
});
type HoldSpec = typeof holdSpec extends fc.Arbitrary<infer T> ? T : never;

async function seedHolds(customerId: string, holds: HoldSpec[]) {
  for (const [i, hold] of holds.entries()) {
    await h.service.hold(customerId, { holdId: `hold-${i}`, ...hold }, h.request());
  }
}

async function seedLots(customerId: string, lots: LotSpec[]) {
  const start = h.clock.now().getTime();
  for (const l of lots) {
    const lot = expectOk(
      await h.service.credit(
        customerId,
        {
          kind: l.kind,
          amount: l.amount,
          source: "campaign",
          funder: "campaign:c-1",
          availableFrom: new Date(start + l.pendingHours * HOUR),
          expiresAt: new Date(start + (l.pendingHours + l.expiryHours) * HOUR),
          reference: l.reference,
        },
        h.request(),
      ),
    ) as { lotId: string; state: string };
    if (l.cancelPending && lot.state === "pending") {
      expectOk(
        await h.service.clawback(
          customerId,
          { kind: l.kind, amount: l.amount, lotIds: [lot.lotId] },
          h.request(),
        ),
      );
    }
  }
}

/**
 * A customer's ledger with ids left out (they are random): the lots in creation order, the history in
 * its order (by movement id) with every posting and explanation, and the balance cache.
 */
async function ledgerOf(customerId: string) {
  const db = h.database.db;
  const lots = await db
    .selectFrom("lots")
    .selectAll()
    .where("customer_id", "=", customerId)
    .orderBy("lot_id")
    .execute();
  const history = await h.service.history(customerId, { cursor: null, limit: 1000 });
  const balances = await db
    .selectFrom("balances")
    .select(["kind", "available", "pending", "held", "debt"])
    .where("customer_id", "=", customerId)
    .orderBy("kind")
    .execute();
  const holds = await db
    .selectFrom("holds")
    .select(["hold_id", "kind", "amount", "state", "release_reason", "take_amounts", "take_returned"])
    .where("customer_id", "=", customerId)
    .orderBy("hold_id")
    .execute();
  return {
    lots: lots.map(({ customer_id: _c, lot_id: _l, ...rest }) => rest),
    holds,
    movements: history.items.map(({ movementId: _m, ...m }) => m),
    balances,
  };
}

let twins = 0;
let releasedInBulk = 0;

describe("bulk settlement (R5, R13)", () => {
  afterAll(async () => {
    await h.database.drop();
  });

  it("writes exactly what the per-customer path writes, for twin customers with the same lots", async () => {
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(lotSpec, { minLength: 1, maxLength: 12 }),
        fc.array(holdSpec, { maxLength: 3 }),
        fc.constantFrom(1, 3, 26, 24 * 4, 24 * 40),
        async (lots, holds, idleHours) => {
          twins++;
          const lazy = `lazy-${twins}`;
          const bulk = `bulk-${twins}`;
          const start = new Date(Date.UTC(2026, 2, 1) + twins * 100 * 24 * HOUR);
          h.clock.set(start);
          await seedLots(lazy, lots);
          await seedHolds(lazy, holds);
          h.clock.set(start);
          await seedLots(bulk, lots);
          await seedHolds(bulk, holds);
          h.clock.set(new Date(start.getTime() + idleHours * HOUR));
          await h.service.settle(lazy);
          const now = h.clock.now();
          const { perCustomer } = await h.store.withCustomers([bulk], (tx) =>
            tx.settleDueLotsInBulk(now, h.ids.newIdBlock("mov")),
          );
          // As the scheduled work does: what the statement leaves goes through the per-customer path.
          if (perCustomer.length > 0) await h.service.settleCustomers(perCustomer);
          else if (holds.length > 0) releasedInBulk++;
          expect(await ledgerOf(bulk)).toEqual(await ledgerOf(lazy));
          // Ids of the usual shape, so a page of history always gives a cursor the API accepts.
          for (const m of (await h.service.history(bulk, { cursor: null, limit: 1000 })).items)
            expect(m.movementId).toMatch(/^mov_[0-9A-HJKMNP-TV-Z]{26}$/);
          expect(await h.store.customersWithDueWork(now, 10)).not.toContain(bulk);
        },
      ),
      { numRuns: RUNS },
    );
    expect(twins).toBe(RUNS);
    // Holds were settled set-based in some runs, not only handed to the per-customer path.
    expect(releasedInBulk).toBeGreaterThan(0);
  });

  it("leaves customers with a debt or a timed-out hold to the per-customer path", async () => {
    h.clock.set(new Date("2027-06-01T00:00:00Z"));
    const debtor = "bulk-debtor";
    const holder = "bulk-holder";
    const plain = "bulk-plain";
    for (const c of [debtor, holder, plain]) {
      expectOk(
        await h.service.credit(
          c,
          {
            kind: "bonus",
            amount: 50,
            source: "campaign",
            funder: "campaign:c-1",
            expiresAt: new Date("2027-06-02T00:00:00Z"),
          },
          h.request(),
        ),
      );
    }
    // R14: a clawback beyond the balance leaves a debt.
    expectOk(await h.service.clawback(debtor, { kind: "bonus", amount: 80, lotIds: [] }, h.request()));
    expectOk(
      await h.service.credit(
        debtor,
        {
          kind: "bonus",
          amount: 10,
          source: "purchase",
          funder: "marketplace",
          availableFrom: new Date("2027-06-01T01:00:00Z"),
        },
        h.request(),
      ),
    );
    expectOk(
      await h.service.hold(
        holder,
        { holdId: "h-1", kind: "bonus", amount: 20, timeoutSeconds: 60 },
        h.request(),
      ),
    );
    h.clock.set(new Date("2027-06-03T00:00:00Z"));
    const now = h.clock.now();
    const result = await h.store.withCustomers([debtor, holder, plain], (tx) =>
      tx.settleDueLotsInBulk(now, h.ids.newIdBlock("mov")),
    );
    expect(result.perCustomer).toEqual([debtor, holder].sort());
    expect(result.movements).toBe(1);
    expect((await h.service.history(plain, { cursor: null, limit: 10 })).items[0]).toMatchObject({
      type: "expire",
      actor: "system",
    });
  });

  it("an id block sorts after every id made before it and before any made after it", () => {
    const before = h.ids.newId("mov");
    const block = h.ids.newIdBlock("mov");
    const after = h.ids.newId("mov");
    const first = `${block}0000000`;
    const last = `${block}ZZZZZZZ`;
    expect([after, last, first, before].sort()).toEqual([before, first, last, after]);
    expect(first).toMatch(/^mov_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
