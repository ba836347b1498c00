import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import { reviewOf, reviews } from "./helpers.js";

/**
 * R22 with at-least-once delivery: the report of a review arrives 1-5 times and moderation requests
 * 1-5 times (approvals and rejections under up to three Idempotency-Keys), shuffled and sent at once.
 * Whatever the order, the review's points are credited once and then made available or cancelled
 * at most once, never both; one more approval after it all pays them, still once, unless rejected.
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
        // Each moderation request: which of three Idempotency-Keys it carries, each key its decision.
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
        fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (reports, keys, rejects, seed) => {
          run += 1;
          const c = `redeliver-${run}`;
          await r.buy(c, "o-1", "kettle");
          const report = reviewOf(c, "o-1", "kettle");
          const deliveries: (() => Promise<unknown>)[] = [
            ...Array.from({ length: reports }, () => () => r.report(report)),
            ...keys.map(
              (k) => () =>
                r.moderate(c, report.reviewId, rejects[k] ? "reject" : "approve", {
                  idempotencyKey: `${c}-moderate-${k}`,
                }),
            ),
          ];
          // A shuffle drawn from the seed, so that a failure replays; all sent at once.
          const order = fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
            seed,
            numRuns: 1,
          })[0] as (() => Promise<unknown>)[];
          await Promise.all(order.map((send) => send()));

          const movements = async () =>
            (await r.orders.history(c)).filter((m) => m.reference === report.reviewId);
          const after = await movements();
          const count = (type: string) => after.filter((m) => m.type === type).length;
          expect(count("credit")).toBe(1);
          // Approved or rejected, at most once, never both.
          expect(count("make_available") + count("clawback")).toBeLessThanOrEqual(1);
          const { bonus } = await r.orders.balance(c);
          expect(bonus.available).toBe(count("make_available") * 50);
          expect(bonus.pending).toBe(count("make_available") + count("clawback") === 0 ? 50 : 0);

          // An approval after everything arrived (a new key) settles it: paid once, unless rejected.
          const last = await r.moderate(c, report.reviewId, "approve");
          const rejected = count("clawback") === 1;
          expect(last.statusCode, last.body).toBe(rejected ? 409 : 200);
          const settled = await movements();
          expect(settled.filter((m) => m.type === "make_available")).toHaveLength(rejected ? 0 : 1);
          expect((await r.orders.balance(c)).bonus).toMatchObject({
            available: rejected ? 0 : 50,
            pending: 0,
          });
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);
});
