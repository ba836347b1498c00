import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import { reviewOf, reviews } from "./helpers.js";

/**
 * R22 with at-least-once delivery: the report of a review and its approvals arrive 1-5 times each,
 * shuffled and concurrently, approvals under one or two Idempotency-Keys. Whatever the order, the
 * review's points are credited once and made available at most once; one more approval after it
 * all makes them available, still once.
 */

let h: Harness;
let r: ReturnType<typeof reviews>;
beforeAll(async () => {
  h = await httpHarness();
  r = reviews(h);
});
afterAll(async () => {
  await h.close();
});

describe("R22 redelivery", () => {
  it("a review reward is paid at most once however the report and moderation are redelivered", async () => {
    let run = 0;
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (reports, approvalKeys, seed) => {
          run += 1;
          const c = `redeliver-${run}`;
          await r.buy(c, "o-1", "kettle");
          const report = reviewOf(c, "o-1", "kettle");
          const deliveries: (() => Promise<unknown>)[] = [
            ...Array.from({ length: reports }, () => () => r.report(report)),
            ...approvalKeys.map(
              (k) => () => r.moderate(c, report.reviewId, "approve", { idempotencyKey: `${c}-approve-${k}` }),
            ),
          ];
          // A shuffle drawn from the seed, so that a failure replays.
          const order = fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
            seed,
            numRuns: 1,
          })[0] as (() => Promise<unknown>)[];
          await Promise.all(order.map((send) => send()));

          const movements = async () =>
            (await r.orders.history(c)).filter((m) => m.reference === report.reviewId);
          const after = await movements();
          expect(after.filter((m) => m.type === "credit")).toHaveLength(1);
          const madeAvailable = after.filter((m) => m.type === "make_available").length;
          expect(madeAvailable).toBeLessThanOrEqual(1);
          const { bonus } = await r.orders.balance(c);
          expect(bonus.available + bonus.pending).toBe(50);
          expect(bonus.available).toBe(madeAvailable * 50);

          // An approval after everything arrived (a new key) settles it: paid, once.
          const last = await r.moderate(c, report.reviewId, "approve");
          expect(last.statusCode, last.body).toBe(200);
          const settled = await movements();
          expect(settled.filter((m) => m.type === "make_available")).toHaveLength(1);
          expect((await r.orders.balance(c)).bonus).toMatchObject({ available: 50, pending: 0 });
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);
});
