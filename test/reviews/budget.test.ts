import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../http/routes-table.js";
import { expectLedgerConsistent, type Harness } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { type ReviewAnswer, reviewOf, reviews, SELLER } from "./helpers.js";

/** R22: a seller's points budget for review rewards on its products, reserved at submission. */

let h: Harness;
let r: ReturnType<typeof reviews>;
beforeAll(async () => {
  h = await httpHarness();
  r = reviews(h);
});
afterAll(async () => {
  await h.close();
});

const fund = (sellerId: string, fundingId: string, points: number, key = h.keys.operator) =>
  h.send({
    method: "POST",
    url: `/v1/sellers/${sellerId}/review-budget/fundings`,
    key,
    body: { fundingId, points },
  });
const budget = async (sellerId: string) =>
  (
    await h.send({ method: "GET", url: `/v1/sellers/${sellerId}/review-budget`, key: h.keys.operator })
  ).json();

describe("review budgets (R22)", () => {
  it("a seller key funds only its own budget, once per funding id", async () => {
    expectError(await fund(SELLER, "f-1", 100, h.keys.seller), "FORBIDDEN");
    const funded = await fund("s-1", "f-1", 100, h.keys.seller);
    expect(funded.statusCode, funded.body).toBe(201);
    expect(funded.json()).toEqual({ sellerId: "s-1", funded: 100, reserved: 0, remaining: 100 });
    const again = await fund("s-1", "f-1", 100, h.keys.seller);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toMatchObject({ funded: 100 });
    expectError(await fund("s-1", "f-1", 70, h.keys.seller), "IDEMPOTENCY_CONFLICT");
    expect(await budget("s-1")).toMatchObject({ funded: 100 });
  });

  it("reserves the reward at submission; once the budget cannot hold one, the marketplace funds it", async () => {
    expect((await fund(SELLER, "f-1", 60)).statusCode).toBe(201);
    const submit = async (customerId: string, sku: string, extra: { photoCount?: number } = {}) => {
      await r.buy(customerId, "o-1", sku);
      const res = await r.report(reviewOf(customerId, "o-1", sku, extra));
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as ReviewAnswer;
    };
    const first = await submit("b-1", "kettle");
    expect(first).toMatchObject({ points: 50, funder: `seller:${SELLER}` });
    expect(await budget(SELLER)).toMatchObject({ funded: 60, reserved: 50, remaining: 10 });
    // 10 points fit what is left, across the budget's slices.
    const second = await submit("b-2", "kettle", { photoCount: 0 });
    expect(second).toMatchObject({ points: 10, funder: `seller:${SELLER}` });
    const third = await submit("b-3", "kettle");
    expect(third).toMatchObject({ points: 50, funder: "marketplace" });
    expect(await budget(SELLER)).toMatchObject({ reserved: 60, remaining: 0 });

    // What was promised holds after the budget ran out.
    expect((await r.moderate("b-2", second.reviewId, "approve")).json()).toMatchObject({
      status: "approved",
    });
    expect((await r.orders.balance("b-2")).bonus.available).toBe(10);

    // A rejection cancels the points back to the seller and gives its reservation back to the budget.
    await r.moderate("b-1", first.reviewId, "reject");
    expect(await budget(SELLER)).toMatchObject({ reserved: 10, remaining: 50 });
    const cancel = (await r.orders.history("b-1")).find((m) => m.type === "clawback");
    expect(cancel?.postings).toEqual(
      expect.arrayContaining([{ account: `funder:seller:${SELLER}`, amount: 50 }]),
    );
    const fourth = await submit("b-4", "kettle");
    expect(fourth).toMatchObject({ points: 50, funder: `seller:${SELLER}` });
    for (const c of ["b-1", "b-2", "b-3", "b-4"]) await expectLedgerConsistent(h, c);
  });

  it("concurrent reviews never reserve more than the budget holds", async () => {
    const seller = "s-race";
    expect((await fund(seller, "f-1", 120)).statusCode).toBe(201);
    const customers = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    for (const c of customers) await r.buy(c, "o-1", "kettle", { sellerId: seller });
    const answers = await Promise.all(
      customers.map((c) => r.report(reviewOf(c, "o-1", "kettle", { sellerId: seller }))),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(customers.map(() => 201));
    const funders = answers.map((a) => (a.json() as ReviewAnswer).funder);
    // 120 points hold two rewards of 50; every other review is the marketplace's.
    expect(funders.filter((f) => f === `seller:${seller}`)).toHaveLength(2);
    expect(funders.filter((f) => f === "marketplace")).toHaveLength(6);
    expect(await budget(seller)).toMatchObject({ funded: 120, reserved: 100, remaining: 20 });
  });
});
