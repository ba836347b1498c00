/**
 * Concurrent writes for one customer on real PostgreSQL (R20, R32, idempotency): the customer's lock must
 * serialize them, so a balance is never overspent, a retried request is written once, and the ledger
 * invariants hold afterwards. PGlite has a single connection, so these run only when
 * KOPILKA_DATABASE_URL names a PostgreSQL server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WriteRequest } from "../../src/app/ledger-service.js";
import { ON_POSTGRES } from "../support/database.js";
import { checkLedgerInvariants, checkLedgerInvariantsInSql, loadLedgerRows } from "../support/invariants.js";
import { expectOk, ledgerHarness } from "../support/ledger.js";

const CONCURRENT = 50;
const AFFORDABLE = 20;
const SIZE = 7;

describe.runIf(ON_POSTGRES)("ledger under concurrent requests (PostgreSQL)", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h?.database.drop();
  });

  const invariantsHold = async (customerId: string) => {
    expect(await checkLedgerInvariants(h.database.db, customerId)).toEqual([]);
    expect(await checkLedgerInvariantsInSql(h.database.db, customerId)).toEqual([]);
  };

  /** 20 × SIZE bonus points in four lots that expire at different dates, so spends cross lots. */
  const fund = async (customerId: string) => {
    const now = h.clock.now().getTime();
    for (const days of [400, 100, 300, 200]) {
      expectOk(
        await h.service.credit(
          customerId,
          {
            kind: "bonus",
            amount: (AFFORDABLE * SIZE) / 4,
            source: "purchase",
            funder: "marketplace",
            expiresAt: new Date(now + days * 86_400_000),
          },
          h.request(),
        ),
      );
    }
    expect((await h.service.balance(customerId)).kinds.bonus.available).toBe(AFFORDABLE * SIZE);
  };

  const countMovements = async (customerId: string, type?: string) => {
    const rows = await loadLedgerRows(h.database.db, customerId);
    return rows.movements.filter((m) => type === undefined || m.type === type).length;
  };

  it(`(a) ${CONCURRENT} concurrent spends against a balance for exactly ${AFFORDABLE}: ${AFFORDABLE} succeed, the rest are INSUFFICIENT_POINTS`, async () => {
    const customer = "conc-spend";
    await fund(customer);
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        h.service.spend(customer, { redemptionId: `order-${i}`, kind: "bonus", amount: SIZE }, h.request()),
      ),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(AFFORDABLE);
    const refused = answers.filter((a) => !a.ok);
    expect(refused).toHaveLength(CONCURRENT - AFFORDABLE);
    expect(new Set(refused.map((a) => (a.ok ? "ok" : a.code)))).toEqual(new Set(["INSUFFICIENT_POINTS"]));
    expect((await h.service.balance(customer)).kinds.bonus).toMatchObject({
      available: 0,
      pending: 0,
      held: 0,
      debt: 0,
    });

    const rows = await loadLedgerRows(h.database.db, customer);
    expect(rows.redemptions).toHaveLength(AFFORDABLE);
    expect(rows.redemptions.reduce((s, r) => s + r.amount, 0)).toBe(AFFORDABLE * SIZE);
    expect(rows.movements.filter((m) => m.type === "spend")).toHaveLength(AFFORDABLE);
    // Every lot was emptied, exactly once over: the takes of all spends add up to each lot's amount.
    for (const lot of rows.lots) {
      expect(lot.remaining).toBe(0);
      const taken = rows.redemptions.flatMap((r) =>
        r.take_lot_ids.map((id, i) => (id === lot.lot_id ? (r.take_amounts[i] ?? 0) : 0)),
      );
      expect(taken.reduce((s, n) => s + n, 0)).toBe(lot.amount);
    }
    await invariantsHold(customer);
  });

  it(`(b) ${CONCURRENT} concurrent holds against a balance for exactly ${AFFORDABLE}; then concurrent captures and releases`, async () => {
    const customer = "conc-hold";
    await fund(customer);
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        h.service.hold(customer, { holdId: `order-${i}`, kind: "bonus", amount: SIZE }, h.request()),
      ),
    );
    const held = answers.flatMap((a) => (a.ok ? [a.value.holdId] : []));
    expect(held).toHaveLength(AFFORDABLE);
    const refused = answers.filter((a) => !a.ok);
    expect(refused).toHaveLength(CONCURRENT - AFFORDABLE);
    expect(new Set(refused.map((a) => (a.ok ? "ok" : a.code)))).toEqual(new Set(["INSUFFICIENT_POINTS"]));
    expect((await h.service.balance(customer)).kinds.bonus).toMatchObject({
      available: 0,
      held: AFFORDABLE * SIZE,
    });
    await invariantsHold(customer);

    // Half are captured, half released, each request sent twice at the same time, plus a capture racing
    // a release on one more hold: every hold ends in exactly one state.
    const toCapture = held.slice(0, AFFORDABLE / 2 - 1);
    const toRelease = held.slice(AFFORDABLE / 2 - 1, AFFORDABLE - 1);
    const contested = held[AFFORDABLE - 1] as string;
    const second = await Promise.all([
      ...[...toCapture, ...toCapture].map((id) => h.service.capture(customer, id, h.request())),
      ...[...toRelease, ...toRelease].map((id) => h.service.release(customer, id, h.request())),
      h.service.capture(customer, contested, h.request()),
      h.service.release(customer, contested, h.request()),
    ]);
    const contestedAnswers = second.slice(-2);
    expect(second.slice(0, -2).every((a) => a.ok)).toBe(true);
    // Exactly one of capture / release of the contested hold won; the other was refused as HOLD_NOT_ACTIVE.
    expect(contestedAnswers.filter((a) => a.ok)).toHaveLength(1);
    expect(contestedAnswers.filter((a) => !a.ok).map((a) => (a.ok ? "" : a.code))).toEqual([
      "HOLD_NOT_ACTIVE",
    ]);
    const captureWon = contestedAnswers[0]?.ok === true;
    const captured = toCapture.length + (captureWon ? 1 : 0);
    const released = toRelease.length + (captureWon ? 0 : 1);

    const rows = await loadLedgerRows(h.database.db, customer);
    const states = Object.fromEntries(rows.holds.map((r) => [r.hold_id, r.state]));
    for (const id of toCapture) expect(states[id]).toBe("captured");
    for (const id of toRelease) expect(states[id]).toBe("released");
    expect(rows.movements.filter((m) => m.type === "capture")).toHaveLength(captured);
    expect(rows.movements.filter((m) => m.type === "release")).toHaveLength(released);
    expect(rows.redemptions).toHaveLength(captured);
    expect((await h.service.balance(customer)).kinds.bonus).toMatchObject({
      available: released * SIZE,
      held: 0,
    });
    await invariantsHold(customer);
  });

  it("(c) 20 concurrent retries of one request (same key and fingerprint): one movement, 20 identical answers", async () => {
    const customer = "conc-retry";
    await fund(customer);
    const request = (i: number): WriteRequest => ({
      idempotencyKey: "retry-key",
      fingerprint: "retry-fingerprint",
      requestId: `req-retry-${i}`,
      actor: "test",
    });
    const before = await countMovements(customer);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.service.spend(customer, { redemptionId: "order-retried", kind: "bonus", amount: 30 }, request(i)),
      ),
    );
    expect(await countMovements(customer)).toBe(before + 1);
    expect(await countMovements(customer, "spend")).toBe(1);
    const first = answers.find((a) => !a.replayed);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(first).toMatchObject({
      ok: true,
      value: { redemptionId: "order-retried", kind: "bonus", amount: 30, refunded: 0 },
    });
    for (const a of answers) expect({ ...a, replayed: false }).toEqual(first);
    expect((await h.service.balance(customer)).kinds.bonus.available).toBe(AFFORDABLE * SIZE - 30);
    await invariantsHold(customer);

    // A brand-new customer: the retries also race to create the customer.
    const fresh = "conc-retry-new";
    const credits = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.service.credit(
          fresh,
          { kind: "bonus", amount: 55, source: "review", funder: "marketplace" },
          request(i),
        ),
      ),
    );
    expect(credits.filter((a) => !a.replayed)).toHaveLength(1);
    const original = credits.find((a) => !a.replayed);
    expect(original?.ok).toBe(true);
    for (const a of credits) expect({ ...a, replayed: false }).toEqual(original);
    const rows = await loadLedgerRows(h.database.db, fresh);
    expect(rows.lots).toHaveLength(1);
    expect(rows.movements).toHaveLength(1);
    expect((await h.service.balance(fresh)).kinds.bonus.available).toBe(55);
    await invariantsHold(fresh);
  });

  it("(d) the same key with another fingerprint is an IDEMPOTENCY_CONFLICT, also when both race", async () => {
    const customer = "conc-conflict";
    await fund(customer);
    const first = await h.service.spend(
      customer,
      { redemptionId: "order-a", kind: "bonus", amount: 10 },
      { idempotencyKey: "k-1", fingerprint: "fp-a", requestId: "req-a", actor: "test" },
    );
    expect(first).toMatchObject({ ok: true, replayed: false });
    const conflict = await h.service.spend(
      customer,
      { redemptionId: "order-b", kind: "bonus", amount: 20 },
      { idempotencyKey: "k-1", fingerprint: "fp-b", requestId: "req-b", actor: "test" },
    );
    expect(conflict).toMatchObject({
      ok: false,
      code: "IDEMPOTENCY_CONFLICT",
      replayed: false,
      details: { idempotencyKey: "k-1", originalRequestId: "req-a" },
    });
    expect(await countMovements(customer, "spend")).toBe(1);

    // Ten requests of each of two different bodies under one key, all at once: one body wins.
    const racing = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const body = i % 2 === 0 ? "x" : "y";
        return h.service.spend(
          customer,
          { redemptionId: `order-${body}`, kind: "bonus", amount: body === "x" ? 11 : 13 },
          { idempotencyKey: "k-2", fingerprint: `fp-${body}`, requestId: `req-${body}-${i}`, actor: "test" },
        );
      }),
    );
    const winners = racing.filter((a) => a.ok);
    const losers = racing.filter((a) => !a.ok);
    expect(winners).toHaveLength(10);
    expect(losers).toHaveLength(10);
    expect(new Set(losers.map((a) => (a.ok ? "" : a.code)))).toEqual(new Set(["IDEMPOTENCY_CONFLICT"]));
    const won = winners[0];
    if (!won?.ok) throw new Error("no winner");
    expect(new Set(winners.map((a) => (a.ok ? a.value.redemptionId : "")))).toEqual(
      new Set([won.value.redemptionId]),
    );
    expect(await countMovements(customer, "spend")).toBe(2);
    expect((await h.service.balance(customer)).kinds.bonus.available).toBe(
      AFFORDABLE * SIZE - 10 - won.value.amount,
    );
    await invariantsHold(customer);
  });

  it("many customers at once keep their ledgers apart, and the whole database stays consistent", async () => {
    const customers = Array.from({ length: 10 }, (_, i) => `conc-many-${i}`);
    await Promise.all(
      customers.flatMap((c) =>
        Array.from({ length: 5 }, () =>
          h.service.credit(
            c,
            { kind: "savings", amount: 20, source: "savings_interest", funder: "savings_interest" },
            h.request(),
          ),
        ),
      ),
    );
    const spends = await Promise.all(
      customers.flatMap((c) =>
        Array.from({ length: 6 }, (_, i) =>
          h.service.spend(c, { redemptionId: `o-${i}`, kind: "savings", amount: 20 }, h.request()),
        ),
      ),
    );
    expect(spends.filter((a) => a.ok)).toHaveLength(customers.length * 5);
    for (const c of customers) expect((await h.service.balance(c)).kinds.savings.available).toBe(0);
    expect(await checkLedgerInvariants(h.database.db)).toEqual([]);
    expect(await checkLedgerInvariantsInSql(h.database.db)).toEqual([]);
  });
});
