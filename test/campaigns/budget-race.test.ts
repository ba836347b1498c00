import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, expectLedgerConsistent, type Harness, line, orderEvents } from "../orders/helpers.js";
import { ON_POSTGRES } from "../support/database.js";
import { httpHarness } from "../support/http.js";

/**
 * R26 on PostgreSQL: 500 orders placed at once race for a campaign budget of 1,000 points. Their
 * customers share group commits (they see each other's reservations) or — one customer per
 * transaction — only the slices' conditional updates order them. Either way the budget is never
 * exceeded, is used up exactly when demand exceeds it, and a cancellation gives back what a later
 * order then uses.
 */

const T0 = new Date("2026-03-02T09:00:00.000Z");
const HOUR = 3_600_000;
const ORDERS = 500;
const BUDGET = 1_000;

for (const [label, customersPerTransaction] of [
  ["customers sharing transactions", "500"],
  ["one customer per transaction", "1"],
] as const) {
  describe.runIf(ON_POSTGRES)(`R26: a campaign budget under 500 concurrent orders (${label})`, () => {
    let h: Harness;
    let campaignId: string;
    beforeAll(async () => {
      // Correctness, not latency: 500 new customers one per transaction take longer than the
      // default 5 s wait on two cores (about as long without a campaign), so the wait is raised.
      h = await httpHarness({
        KOPILKA_CUSTOMERS_PER_TRANSACTION: customersPerTransaction,
        KOPILKA_DATABASE_TIMEOUT_MS: "60000",
      });
      h.clock.set(T0);
      const created = await h.send({
        method: "POST",
        url: "/v1/campaigns",
        key: h.keys.operator,
        body: {
          name: { ru: "7 баллов за штуку", en: "7 points a unit" },
          conditions: {
            startsAt: T0.toISOString(),
            endsAt: new Date(T0.getTime() + 240 * HOUR).toISOString(),
            categories: ["toys"],
          },
          effect: { type: "unit_points", pointsPerUnit: 7 },
          combinable: true,
          budgetPoints: BUDGET,
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      campaignId = (created.json() as { campaignId: string }).campaignId;
      const publish = await h.send({
        method: "POST",
        url: `/v1/campaigns/${campaignId}/publish`,
        key: h.keys.operator,
      });
      expect(publish.statusCode, publish.body).toBe(200);
      h.clock.set(new Date(T0.getTime() + HOUR));
    });
    afterAll(async () => {
      await h.close();
    });

    const budget = async () => {
      const res = await h.send({
        method: "GET",
        url: `/v1/campaigns/${campaignId}/budget`,
        key: h.keys.readonly,
      });
      return res.json() as { fundedPoints: number; reservedPoints: number; remainingPoints: number };
    };
    const promisedOf = (effect: unknown) =>
      (effect as { expectedCampaignPoints?: number }).expectedCampaignPoints ?? 0;

    it("never reserves above the budget, uses it up exactly, and gives back what a cancellation frees", async () => {
      const k = api(h);
      // 1 to 3 units of 7 points each: about 1,000 orders' worth of demand for 1,000 points.
      const orders = Array.from({ length: ORDERS }, (_, i) => {
        const customerId = `race-${customersPerTransaction}-${i}`;
        const e = orderEvents(customerId, `race-${i}`, () => h.clock.now());
        return { customerId, e, placed: e.placed([line("toys", 10_000, 1 + (i % 3))]) };
      });
      const outcomes = await Promise.all(orders.map((o) => k.apply(o.placed)));
      const promised = outcomes.map((o) => promisedOf(o.effect));
      expect(promised.reduce((s, p) => s + p, 0)).toBe(BUDGET);
      expect(await budget()).toMatchObject({
        fundedPoints: BUDGET,
        reservedPoints: BUDGET,
        remainingPoints: 0,
      });
      // One promised order waits; every other promise is honoured at shipment, though the budget
      // ran out in between.
      const full = (i: number) => promised[i] === 7 * (1 + (i % 3));
      const waiting = orders.findIndex((_, i) => full(i));
      const shippedPoints = await Promise.all(
        orders.map(async (o, i) => {
          if (promised[i] === 0 || i === waiting) return 0;
          await k.apply(o.e.paid());
          return (await k.apply(o.e.shipped())).effect?.campaignPoints ?? 0;
        }),
      );
      const kept = promised[waiting] ?? 0;
      expect(shippedPoints.reduce((s, p) => s + p, 0)).toBe(BUDGET - kept);
      // Cancelling the waiting order gives its reservation back, and a later order uses it.
      await k.apply((orders[waiting] as (typeof orders)[number]).e.cancelled());
      expect(await budget()).toMatchObject({ reservedPoints: BUDGET - kept, remainingPoints: kept });
      const later = (n: number) =>
        orderEvents(`race-later-${n}`, `race-later-${customersPerTransaction}-${n}`, () => h.clock.now());
      const afterCancel = await k.apply(later(1).placed([line("toys", 10_000, 3)]));
      expect(promisedOf(afterCancel.effect)).toBe(kept);
      expect(await budget()).toMatchObject({ reservedPoints: BUDGET, remainingPoints: 0 });
      // A return gives a shipped order's unit back (7 points); the next order gets exactly those.
      const returning = orders.findIndex((_, i) => full(i) && i !== waiting);
      const r = orders[returning] as (typeof orders)[number];
      const lineId = (await k.order(r.customerId, `race-${returning}`)).lines[0]?.lineId as string;
      await k.apply(r.e.returned([{ lineId, quantity: 1 }]));
      expect(await budget()).toMatchObject({ reservedPoints: BUDGET - 7, remainingPoints: 7 });
      const afterReturn = await k.apply(later(2).placed([line("toys", 10_000, 3)]));
      expect(promisedOf(afterReturn.effect)).toBe(7);
      expect(await budget()).toMatchObject({ reservedPoints: BUDGET, remainingPoints: 0 });
      await expectLedgerConsistent(h);
    });
  });
}
