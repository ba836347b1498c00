import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectLedgerConsistent, type Harness, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import { invites, orderOf } from "./helpers.js";

/**
 * R23, R24 with at-least-once delivery: the friend's (or buyer's) order events arrive 1-5 times
 * each, shuffled and sent at once, while relays deliver the recorded effects concurrently. Whatever
 * the order, the inviter is rewarded once and the manager holds the referral points of the order as
 * it ends up — each applied in the other customer's own work, exactly once.
 */

let h: Harness;
let i: ReturnType<typeof invites>;
beforeAll(async () => {
  h = await httpHarness();
  i = invites(h);
});
afterAll(async () => {
  await h.close();
});

/** Each delivery 1-5 times, shuffled by `seed`, all sent at once with `relays` relay rounds. */
async function deliverShuffled(events: object[], copies: number[], relays: number, seed: number) {
  const deliveries: (() => Promise<unknown>)[] = [
    ...events.flatMap((e, n) =>
      Array.from({ length: copies[n] ?? 1 }, () => () => i.orders.post({ events: [e] })),
    ),
    ...Array.from({ length: relays }, () => () => h.kopilka.effects.deliverPending()),
  ];
  const order = fc.sample(fc.shuffledSubarray(deliveries, { minLength: deliveries.length }), {
    seed,
    numRuns: 1,
  })[0] as (() => Promise<unknown>)[];
  await Promise.all(order.map((send) => send()));
  // What a round missed (an effect another round held) the next one takes.
  await h.kopilka.effects.deliverPending();
}

const copiesOf = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 });

describe("R23, R24 redelivery", () => {
  it("an invite reward is paid at most once however the friend's events are redelivered", async () => {
    let run = 0;
    await assertAsyncProperty(
      fc.asyncProperty(
        copiesOf,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (copies, relays, seed) => {
          run += 1;
          const [inviter, friend] = [`rd-inviter-${run}`, `rd-friend-${run}`];
          expect((await i.register(friend, await i.code(inviter))).statusCode).toBe(201);
          const e = orderEvents(friend, "first", () => h.clock.now());
          await deliverShuffled(
            [e.placed([orderOf(350_000)]), e.paid(), e.shipped(), e.delivered()],
            copies,
            relays,
            seed,
          );
          const credits = (await i.orders.history(inviter)).filter((m) => m.type === "credit");
          expect(credits.map((m) => m.change.pending)).toEqual([300]);
          expect((await i.orders.balance(inviter)).bonus.pending).toBe(300);
          await expectLedgerConsistent(h, inviter);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("a manager's referral points follow the referred order exactly, however its events are redelivered", async () => {
    let run = 0;
    h.clock.set(new Date("2026-03-10T09:00:00.000Z"));
    await assertAsyncProperty(
      fc.asyncProperty(
        copiesOf,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (copies, relays, seed) => {
          run += 1;
          const [manager, buyer] = [`rd-manager-${run}`, `rd-buyer-${run}`];
          const code = `RD${run}CODE`;
          const granted = await h.send({
            method: "PUT",
            url: `/v1/customers/${manager}/manager`,
            key: h.keys.operator,
            body: { promoCode: code },
          });
          expect(granted.statusCode).toBe(200);
          const e = orderEvents(buyer, "o", () => h.clock.now());
          const line = { ...orderOf(1_000_000, "x"), quantity: 4, unitPriceKop: 250_000 };
          await deliverShuffled(
            [
              { ...e.placed([line]), promoCode: code },
              e.paid(),
              e.shipped(),
              e.returned([{ lineId: "x", quantity: 1 }]),
            ],
            copies,
            relays,
            seed,
          );
          // 3 of 4 units kept: 5% of 7,500 RUB.
          expect((await i.orders.balance(manager)).referral.pending).toBe(375);
          await expectLedgerConsistent(h, manager);
        },
      ),
      { numRuns: 8 },
    );
  });
});
