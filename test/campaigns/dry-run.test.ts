import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type Harness, line } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/** R26: a dry run — what a campaign, a draft too, would add to a cart — writes nothing. */
describe("campaigns: the dry run", () => {
  let h: Harness;
  let campaignId: string;
  beforeAll(async () => {
    h = await httpHarness();
    const res = await h.send({
      method: "POST",
      url: "/v1/campaigns",
      key: h.keys.operator,
      body: {
        name: { ru: "Чёрная пятница: ×2 на электронику", en: "Black Friday: ×2 on electronics" },
        conditions: {
          startsAt: "2026-11-27T00:00:00",
          endsAt: "2026-11-28T00:00:00",
          categories: ["electronics"],
        },
        effect: { type: "rate_multiplier", multiplierBp: 20_000 },
        combinable: false,
        budgetPoints: 1_000,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    campaignId = (res.json() as { campaignId: string }).campaignId;
  });
  afterAll(async () => {
    await h.close();
  });

  const dryRun = (body: Record<string, unknown>, key = h.keys.operator) =>
    h.send({ method: "POST", url: `/v1/campaigns/${campaignId}/dry-run`, key, body });
  const cart = {
    customerId: "dry-1",
    lines: [line("electronics", 1_000_000), line("books", 100_000)],
    paymentMethod: "other_card",
  };
  const rows = async () =>
    (
      await sql<{ n: number }>`select (select count(*) from movements) + (select count(*) from notifications)
        + (select count(*) from orders) + (select count(*) from lots) as n`.execute(h.kopilka.database.db)
    ).rows[0]?.n;

  it("applies a draft ×2 at an instant inside its window (23:59:59 Moscow) and not just after it", async () => {
    await api(h).credit("dry-1", "bonus", 100);
    const before = await rows();
    const inside = await dryRun({ ...cart, at: "2026-11-27T20:59:59Z" });
    expect(inside.statusCode, inside.body).toBe(200);
    // The quote spends the 100 bonus points on the cart; R21 splits them by amount, the remainder to
    // the largest line: 91 on the phone. Its money-paid base is 10,000.00 − 91.00 RUB, and ×2 of its
    // 1% adds 1% of that: 99.09 points, 99 whole.
    expect(inside.json()).toMatchObject({
      campaignId,
      version: 1,
      at: "2026-11-27T20:59:59.000Z",
      points: 99,
      orderPoints: 0,
      budgetPoints: 1_000,
    });
    const [phone, book] = (inside.json() as { lines: { lineId: string; kop: number }[] }).lines;
    expect(phone?.kop).toBe(9_909);
    expect(book?.kop).toBe(0);
    const after = await dryRun({ ...cart, at: "2026-11-27T21:00:00Z" });
    expect(after.json()).toMatchObject({ points: 0 });
    expect(await rows()).toBe(before);
  });

  it("a seller dry-runs only its own campaigns, and a bad cart is refused naming the field", async () => {
    const other = await dryRun(cart, h.keys.seller);
    expect(other.statusCode).toBe(404);
    const bad = await dryRun({ ...cart, lines: [{ ...cart.lines[0], quantity: 0 }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("body.lines[0].quantity");
  });
});
