import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, fieldsOf } from "../http/routes-table.js";
import { expectLedgerConsistent, type Harness } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { type ReviewAnswer, reviewOf, reviews } from "./helpers.js";

/** R22 reviews through HTTP: W12, eligibility, moderation, the unmoderated list, bad input. */

let h: Harness;
let r: ReturnType<typeof reviews>;
let n = 0;
const nextCustomer = () => {
  n += 1;
  return `rv-${n}`;
};

beforeAll(async () => {
  h = await httpHarness();
  r = reviews(h);
});
afterAll(async () => {
  await h.close();
});

describe("W12 (R22)", () => {
  it("W12: an approved review of a delivered product, 250 characters with 2 photos, earns 50 points", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "kettle");
    const before = await r.orders.balance(c);
    const reported = await r.report(reviewOf(c, "o-1", "kettle", { textLength: 250, photoCount: 2 }));
    expect(reported.statusCode, reported.body).toBe(201);
    expect(reported.json()).toMatchObject({ status: "awaiting", points: 50, notRewardedReason: null });
    // Pending from submission: shown in the balance, not spendable.
    const pending = await r.orders.balance(c);
    expect(pending.bonus.pending - before.bonus.pending).toBe(50);
    expect(pending.bonus.available).toBe(before.bonus.available);

    const approved = await r.moderate(c, reviewOf(c, "o-1", "kettle").reviewId, "approve");
    expect(approved.statusCode, approved.body).toBe(200);
    const review = approved.json() as ReviewAnswer;
    expect(review).toMatchObject({ status: "approved", points: 50 });
    expect(review.moderatedBy).toMatch(/^key_/);
    const after = await r.orders.balance(c);
    expect(after.bonus.available - before.bonus.available).toBe(50);
    expect(after.bonus.pending).toBe(before.bonus.pending);

    // R33: both movements explain themselves in Russian and English.
    const history = (await r.orders.history(c)).filter((m) => m.reference === review.reviewId);
    expect(history.map((m) => m.type)).toEqual(["credit", "make_available"]);
    expect(history[0]?.explanation.ru).toContain("50 баллов за отзыв");
    expect(history[0]?.explanation.en).toContain("available once the review is approved");
    expect(history[1]?.explanation.ru).toMatch(
      /одобрен: 50 баллов стали доступны, сгорят \d{2}\.\d{2}\.\d{4}/,
    );
    expect(history[1]?.explanation.en).toMatch(/approved: 50 points became available, expire on/);
    await expectLedgerConsistent(h, c);
  });

  it("W12: 120 characters without a photo earns nothing (recorded, with the reason)", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "lamp");
    const res = await r.report(reviewOf(c, "o-1", "lamp", { textLength: 120, photoCount: 0 }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      status: "awaiting",
      points: 0,
      notRewardedReason: "TOO_SHORT_WITHOUT_PHOTO",
    });
    expect(await r.reviewRows(c)).toBe(1);
    expect((await r.orders.balance(c)).bonus).toMatchObject({ available: 0, pending: 0 });
    // Approving it records the decision and moves no points.
    const approved = await r.moderate(c, reviewOf(c, "o-1", "lamp").reviewId, "approve");
    expect(approved.json()).toMatchObject({ status: "approved", points: 0 });
    expect((await r.orders.history(c)).filter((m) => m.reference?.startsWith("rev-"))).toEqual([]);
  });

  it("W12: a second review of the same product is refused, and its redelivery gets the same refusal", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "mug");
    await r.buy(c, "o-2", "mug");
    expect((await r.report(reviewOf(c, "o-1", "mug"))).statusCode).toBe(201);
    const second = reviewOf(c, "o-2", "mug", { reviewId: "second" });
    const refused = await r.report(second);
    const error = expectError(refused, "REVIEW_ALREADY_REWARDED");
    expect(error.details).toMatchObject({ rewardedReviewId: reviewOf(c, "o-1", "mug").reviewId });
    const again = await r.report(second);
    expectError(again, "REVIEW_ALREADY_REWARDED", { requestId: error.requestId });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect((await r.orders.balance(c)).bonus.pending).toBe(50);
  });

  it("a text of 200 characters or more without a photo earns 10 points", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "book");
    const res = await r.report(reviewOf(c, "o-1", "book", { textLength: 200, photoCount: 0 }));
    expect(res.json()).toMatchObject({ points: 10 });
  });
});

describe("eligibility (R22): refusals with codes, recorded and replayed", () => {
  it("not bought: the order has no such product", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea");
    expectError(await r.report(reviewOf(c, "o-1", "coffee")), "REVIEW_NOT_BOUGHT");
    expectError(await r.report(reviewOf(c, "o-404", "tea", { reviewId: "x" })), "REVIEW_NOT_BOUGHT");
    expectError(
      await r.report(reviewOf(c, "o-1", "tea", { reviewId: "y", sellerId: "s-other" })),
      "REVIEW_NOT_BOUGHT",
    );
    expect((await r.orders.balance(c)).bonus.pending).toBe(0);
  });

  it("not delivered: shipped is not enough", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea", { until: "shipped" });
    const error = expectError(await r.report(reviewOf(c, "o-1", "tea")), "REVIEW_NOT_DELIVERED");
    expect(error.details).toMatchObject({ orderState: "shipped" });
  });

  it("returned: every unit came back; a partial return still earns", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea", { quantity: 2, returned: 2 });
    expectError(await r.report(reviewOf(c, "o-1", "tea")), "REVIEW_PRODUCT_RETURNED");
    await r.buy(c, "o-2", "cup", { quantity: 2, returned: 1 });
    expect((await r.report(reviewOf(c, "o-2", "cup"))).json()).toMatchObject({ points: 50 });
  });

  it("the same review id with another body is a conflict, and changes nothing", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea");
    expect((await r.report(reviewOf(c, "o-1", "tea"))).statusCode).toBe(201);
    expectError(await r.report(reviewOf(c, "o-1", "tea", { photoCount: 0 })), "IDEMPOTENCY_CONFLICT");
    expect((await r.orders.balance(c)).bonus.pending).toBe(50);
  });
});

describe("moderation (R22)", () => {
  it("rejection cancels the pending points with a movement of its own; deciding again moves nothing", async () => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea");
    const { reviewId } = reviewOf(c, "o-1", "tea");
    await r.report(reviewOf(c, "o-1", "tea"));
    const rejected = await r.moderate(c, reviewId, "reject");
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ status: "rejected", points: 50 });
    expect((await r.orders.balance(c)).bonus).toMatchObject({ available: 0, pending: 0 });
    const history = (await r.orders.history(c)).filter((m) => m.reference === reviewId);
    expect(history.map((m) => m.type)).toEqual(["credit", "clawback"]);
    expect(history[1]?.explanation).toEqual({
      ru: `Отзыв ${reviewId} отклонён при проверке: 50 баллов за него отменены`,
      en: `Review ${reviewId} rejected by moderation: its 50 points are cancelled`,
    });
    expect(history[1]?.postings).toEqual(
      expect.arrayContaining([{ account: "funder:marketplace", amount: 50 }]),
    );
    // The same decision again (another key) answers the review as it is; the other one is refused.
    expect((await r.moderate(c, reviewId, "reject")).json()).toMatchObject({ status: "rejected" });
    expectError(await r.moderate(c, reviewId, "approve"), "REVIEW_ALREADY_MODERATED");
    expect((await r.orders.history(c)).filter((m) => m.reference === reviewId)).toHaveLength(2);
    await expectLedgerConsistent(h, c);
  });

  it("a decision on an unknown review is refused; the same Idempotency-Key replays the answer", async () => {
    const c = nextCustomer();
    const first = expectError(
      await r.moderate(c, "nope", "approve", { idempotencyKey: "mod-1" }),
      "REVIEW_NOT_FOUND",
    );
    const replay = await r.moderate(c, "nope", "approve", { idempotencyKey: "mod-1" });
    expectError(replay, "REVIEW_NOT_FOUND", { requestId: first.requestId });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
  });

  it("only operators and support moderate", async () => {
    const c = nextCustomer();
    expectError(await r.moderate(c, "any", "approve", { key: h.keys.readonly }), "FORBIDDEN");
    expectError(await r.moderate(c, "any", "approve", { key: h.keys.seller }), "FORBIDDEN");
  });
});

describe("reviews not moderated in time (R22)", () => {
  it("are listed oldest first, in pages, past the 3 days by default; decided ones leave the list", async () => {
    const c = nextCustomer();
    const skus = ["p1", "p2", "p3"];
    for (const [i, sku] of skus.entries()) {
      await r.buy(c, `o-${sku}`, sku);
      const submittedAt = new Date(h.clock.now().getTime() - (5 - i) * 86_400_000).toISOString();
      await r.report(reviewOf(c, `o-${sku}`, sku, { submittedAt }));
    }
    await r.buy(c, "o-fresh", "fresh");
    await r.report(reviewOf(c, "o-fresh", "fresh", { submittedAt: h.clock.now().toISOString() }));
    const mine = (items: { customerId: string; sku: string }[]) =>
      items.filter((i) => i.customerId === c).map((i) => i.sku);

    const all = (await r.unmoderated()).json() as {
      olderThanDays: number;
      items: { customerId: string; sku: string }[];
    };
    expect(all.olderThanDays).toBe(3);
    expect(mine(all.items)).toEqual(["p1", "p2", "p3"]);

    const first = (await r.unmoderated("?limit=1")).json() as {
      items: { sku: string; customerId: string }[];
      next: string;
    };
    expect(first.next).toBeTruthy();
    const rest = (await r.unmoderated(`?limit=500&after=${first.next}`)).json() as {
      items: { sku: string; customerId: string }[];
    };
    expect([...mine(first.items), ...mine(rest.items)]).toEqual(mine(all.items));

    await r.moderate(c, reviewOf(c, "o-p1", "p1").reviewId, "approve");
    expect(mine(((await r.unmoderated()).json() as typeof all).items)).toEqual(["p2", "p3"]);
    expect(mine(((await r.unmoderated("?olderThanDays=0")).json() as typeof all).items)).toEqual([
      "p2",
      "p3",
      "fresh",
    ]);
    expect(fieldsOf(await r.unmoderated("?olderThanDays=-1"))).toContain("querystring.olderThanDays");
  });
});

describe("bad input (R22): a 4xx naming the field, and nothing changes", () => {
  it.each([
    ["textLength", { textLength: -1 }],
    ["photoCount", { photoCount: 1.5 }],
    ["submittedAt", { submittedAt: "yesterday" }],
    ["reviewId", { reviewId: "" }],
    ["sku", { sku: "with space" }],
  ])("%s", async (field, bad) => {
    const c = nextCustomer();
    await r.buy(c, "o-1", "tea");
    const res = await r.report({ ...reviewOf(c, "o-1", "tea"), ...bad } as never);
    expect(fieldsOf(res)).toContain(`body.${field}`);
    expect(await r.reviewRows(c)).toBe(0);
    expect((await r.orders.balance(c)).bonus.pending).toBe(0);
  });

  it("a field missing or unknown", async () => {
    const c = nextCustomer();
    const { orderId: _, ...missing } = reviewOf(c, "o-1", "tea");
    expect(fieldsOf(await r.report(missing as never))).toContain("body.orderId");
    expect(fieldsOf(await r.report({ ...reviewOf(c, "o-1", "tea"), stars: 5 } as never))).toContain(
      "body.stars",
    );
    const noCustomer = await h.send({
      method: "POST",
      url: "/v1/reviews/r-1/approve",
      key: h.keys.support,
      body: {},
    });
    expect(fieldsOf(noCustomer)).toContain("body.customerId");
    expect(await r.reviewRows(c)).toBe(0);
  });
});
