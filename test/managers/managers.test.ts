import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../http/routes-table.js";
import { api, expectLedgerConsistent, type Harness, type Line, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/** R24 manager programme through HTTP: W10, the threshold at 2,500.00 and 2,499.99, own codes, returns. */

let h: Harness;
let k: ReturnType<typeof api>;
let n = 0;
const next = (prefix: string) => {
  n += 1;
  return `${prefix}-${n}`;
};

/** One line of `totalKop` (electronics, paid by another card). */
const lineOf = (totalKop: number, lineId = "l1", quantity = 1): Line => ({
  lineId,
  sku: `sku-${lineId}`,
  sellerId: "s-9",
  category: "electronics",
  quantity,
  unitPriceKop: totalKop / quantity,
});

async function grant(customerId: string, promoCode?: string) {
  return h.send({
    method: "PUT",
    url: `/v1/customers/${customerId}/manager`,
    key: h.keys.operator,
    body: promoCode ? { promoCode } : {},
  });
}

async function manager(customerId: string) {
  const res = await h.send({
    method: "GET",
    url: `/v1/customers/${customerId}/manager`,
    key: h.keys.operator,
  });
  return res;
}

/** An order placed (with `promoCode`), paid and shipped; returns the event builder. */
async function shipped(customerId: string, orderId: string, lines: Line[], promoCode?: string, spend = {}) {
  const e = orderEvents(customerId, orderId, () => h.clock.now());
  await k.apply({ ...e.placed(lines, spend), ...(promoCode ? { promoCode } : {}) });
  await k.apply(e.paid());
  await k.apply(e.shipped());
  return e;
}

beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});

/** March 2026 in Moscow: 1 March 00:00 MSK is 28 February 21:00 UTC. */
const MARCH_10 = new Date("2026-03-10T09:00:00.000Z");
const APRIL_1_MSK = new Date("2026-03-31T21:00:00.000Z");

async function marchWithOwnPurchases(ownKop: number) {
  h.clock.set(MARCH_10);
  const m = next("manager");
  const code = `CODE${n}`;
  expect((await grant(m, code)).statusCode).toBe(200);
  // 40,000 RUB paid in money over three orders by two other customers: 5% = 2,000.
  await shipped(next("buyer"), "o-1", [lineOf(2_500_000)], code);
  const buyer = next("buyer");
  await shipped(buyer, "o-2", [lineOf(1_000_000)], code);
  await shipped(buyer, "o-3", [lineOf(500_000)], code);
  // The manager's own purchases this month.
  await shipped(m, "own", [lineOf(ownKop)]);
  return { m, code };
}

describe("W10 (R24)", () => {
  it("W10: 40,000 paid with the code in March: 2,000 referral points pending; own purchases 2,600 make them available on 1 April", async () => {
    const { m } = await marchWithOwnPurchases(260_000);
    expect((await k.balance(m)).referral).toMatchObject({ pending: 2_000, available: 0 });
    const page = (await manager(m)).json();
    expect(page.thisMonth).toMatchObject({
      month: "2026-03",
      purchasesKop: 260_000,
      thresholdKop: 250_000,
      referralPointsPending: 2_000,
      thresholdReached: true,
    });
    // Pending until the month ends, even past the purchase accrual's 24 hours.
    h.clock.set(new Date(APRIL_1_MSK.getTime() - 1000));
    expect((await k.balance(m)).referral.pending).toBe(2_000);

    h.clock.set(new Date(APRIL_1_MSK.getTime() + 60_000));
    const run = await h.kopilka.managers.settleMonth("2026-03", "test");
    expect(run).toMatchObject({ claimed: true, madeAvailable: 2_000, cancelled: 0 });
    expect((await k.balance(m)).referral).toMatchObject({ pending: 0, available: 2_000 });
    const made = (await k.history(m)).filter((x) => x.kind === "referral" && x.type === "make_available");
    expect(made.map((x) => x.explanation.ru).join("\n")).toContain("Ваши покупки за март 2026 — 2 600");
    await expectLedgerConsistent(h, m);
  });

  it("W10: own purchases of 2,400: the 2,000 are cancelled", async () => {
    const { m } = await marchWithOwnPurchases(240_000);
    h.clock.set(new Date(APRIL_1_MSK.getTime() + 60_000));
    // The month's run was claimed by the test before: this one settles what is left, unclaimed.
    const run = await h.kopilka.managers.settleAll("2026-03");
    expect(run).toMatchObject({ customers: 1, madeAvailable: 0, cancelled: 2_000 });
    expect((await k.balance(m)).referral).toMatchObject({ pending: 0, available: 0 });
    const page = (await manager(m)).json();
    expect(page.months[0]).toMatchObject({ month: "2026-03", qualified: false, purchasesKop: 240_000 });
    const cancelled = (await k.history(m)).filter((x) => x.kind === "referral" && x.type === "clawback");
    expect(cancelled[0]?.explanation.en).toContain("less than");
    await expectLedgerConsistent(h, m);
  });
});

/** A date in `month` of 2026 (10th, 09:00 UTC) and the instant just after it ends in Moscow. */
const inMonth = (month: number) => new Date(Date.UTC(2026, month - 1, 10, 9));
const afterMonth = (month: number) => new Date(Date.UTC(2026, month, 1, 0, 0, 0) - 3 * 3600_000 + 60_000);
const monthKey = (month: number) => `2026-${String(month).padStart(2, "0")}`;

describe("R24 the threshold (inclusive)", () => {
  for (const [ownKop, qualified] of [
    [250_000, true],
    [249_999, false],
  ] as const) {
    it(`own purchases of ${ownKop / 100} RUB: the month's points are ${qualified ? "made available" : "cancelled"}`, async () => {
      h.clock.set(inMonth(5));
      const m = next("manager");
      const code = `T${n}X`;
      await grant(m, code);
      await shipped(next("buyer"), "o", [lineOf(1_000_000)], code);
      await shipped(m, "own", [lineOf(ownKop)]);
      h.clock.set(afterMonth(5));
      await h.kopilka.managers.settleAll(monthKey(5));
      expect((await k.balance(m)).referral).toMatchObject({ pending: 0, available: qualified ? 500 : 0 });
    });
  }

  it("purchases are money paid on own orders placed that month, net of cancellations and returns", async () => {
    h.clock.set(inMonth(6));
    const m = next("manager");
    const code = `NET${n}`;
    await grant(m, code);
    await shipped(next("buyer"), "o", [lineOf(2_000_000)], code);
    // 3,000 paid, of which 500 points: 2,500 money…
    await k.credit(m, "bonus", 500);
    const own = await shipped(m, "own", [lineOf(150_000, "a"), lineOf(150_000, "b")], undefined, {
      bonus: 500,
    });
    // … a cancelled order counts nothing, and one of two lines returned comes off.
    const cancelled = orderEvents(m, "cancelled", () => h.clock.now());
    await k.apply(cancelled.placed([lineOf(900_000)]));
    await k.apply(cancelled.cancelled());
    expect((await manager(m)).json().thisMonth.purchasesKop).toBe(250_000);
    await k.apply(own.returned([{ lineId: "b", quantity: 1 }]));
    expect((await manager(m)).json().thisMonth.purchasesKop).toBe(125_000);
    h.clock.set(afterMonth(6));
    await h.kopilka.managers.settleAll(monthKey(6));
    expect((await k.balance(m)).referral).toMatchObject({ pending: 0, available: 0 });
  });
});

describe("R24 referral points", () => {
  it("are 5% of the money paid: points spent on the order do not count", async () => {
    h.clock.set(inMonth(7));
    const m = next("manager");
    const code = `MONEY${n}`;
    await grant(m, code);
    const buyer = next("buyer");
    await k.credit(buyer, "bonus", 1_000);
    await shipped(buyer, "o", [lineOf(1_000_000)], code, { bonus: 1_000 });
    expect((await k.balance(m)).referral.pending).toBe(450);
    const order = await k.order(buyer, "o");
    expect((order as unknown as { referral: unknown }).referral).toMatchObject({
      promoCode: code,
      managerId: m,
      status: "counted",
      points: 450,
    });
  });

  it("one's own code earns nothing, and the order says why", async () => {
    h.clock.set(inMonth(7));
    const m = next("manager");
    const code = `OWN${n}`;
    await grant(m, code);
    await shipped(m, "own", [lineOf(1_000_000)], code);
    expect((await k.balance(m)).referral.pending).toBe(0);
    const { referral } = (await k.order(m, "own")) as unknown as {
      referral: { status: string; points: number; explanation: { ru: string; en: string } };
    };
    expect(referral).toMatchObject({ status: "own_code", points: 0 });
    expect(referral.explanation.en).toContain("own promo code");
    expect(referral.explanation.ru).toContain("собственным промокодом");
  });

  it("a return claws back its share: pending before month end, available after (R14: debt when spent)", async () => {
    h.clock.set(inMonth(8));
    const m = next("manager");
    const code = `RET${n}`;
    await grant(m, code);
    const buyer = next("buyer");
    const e = await shipped(buyer, "o", [lineOf(2_000_000, "x", 4)], code);
    expect((await k.balance(m)).referral.pending).toBe(1_000);
    await k.apply(e.returned([{ lineId: "x", quantity: 1 }]));
    expect((await k.balance(m)).referral.pending).toBe(750);
    await shipped(m, "own", [lineOf(300_000)]);
    h.clock.set(afterMonth(8));
    await h.kopilka.managers.settleAll(monthKey(8));
    expect((await k.balance(m)).referral.available).toBe(750);
    // The manager spends the points, then two more units come back: 500 clawed back, all debt.
    const spent = await h.send({
      method: "POST",
      url: `/v1/customers/${m}/spends`,
      key: h.keys.operator,
      body: { redemptionId: "r-1", kind: "referral", amount: 750 },
    });
    expect(spent.statusCode, spent.body).toBe(201);
    await k.apply(e.returned([{ lineId: "x", quantity: 2 }]));
    expect((await k.balance(m)).referral).toMatchObject({ available: 0, debt: 500 });
    await expectLedgerConsistent(h, m);
  });

  it("a revoked manager's code earns nothing for orders placed afterwards", async () => {
    h.clock.set(inMonth(9));
    const m = next("manager");
    const code = `REV${n}`;
    await grant(m, code);
    const revoked = await h.send({
      method: "DELETE",
      url: `/v1/customers/${m}/manager`,
      key: h.keys.operator,
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ status: "revoked", promoCode: code });
    const buyer = next("buyer");
    await shipped(buyer, "o", [lineOf(1_000_000)], code);
    expect((await k.balance(m)).referral.pending).toBe(0);
    expect(((await k.order(buyer, "o")) as unknown as { referral: { status: string } }).referral.status).toBe(
      "manager_revoked",
    );
    // Granted again: the same code, counted again.
    expect((await grant(m)).json()).toMatchObject({ status: "active", promoCode: code });
  });
});

describe("R24 the month an order counts in", () => {
  it("is the month it was placed in (Moscow time): placed at 23:30 on 31 January, shipped in February", async () => {
    const m = next("manager");
    const code = `JAN${n}`;
    h.clock.set(new Date("2026-01-20T09:00:00.000Z"));
    await grant(m, code);
    await shipped(m, "own", [lineOf(300_000)]);
    const buyer = next("buyer");
    const e = orderEvents(buyer, "late", () => h.clock.now());
    h.clock.set(new Date("2026-01-31T20:30:00.000Z")); // 23:30 MSK
    await k.apply({ ...e.placed([lineOf(1_000_000)]), promoCode: code });
    await k.apply(e.paid());
    h.clock.set(new Date("2026-02-01T09:00:00.000Z"));
    await h.kopilka.managers.settleAll("2026-01");
    // January is decided (qualified) before the order ships: its points are available at once.
    await k.apply(e.shipped());
    expect((await k.balance(m)).referral).toMatchObject({ pending: 0, available: 500 });
    const page = (await manager(m)).json();
    expect(page.months.find((x: { month: string }) => x.month === "2026-01")).toMatchObject({
      qualified: true,
    });
  });
});

describe("R24 the month-end run", () => {
  it("is claimed once per month: a second run claims nothing and changes nothing", async () => {
    h.clock.set(inMonth(10));
    const m = next("manager");
    const code = `ONCE${n}`;
    await grant(m, code);
    await shipped(next("buyer"), "o", [lineOf(1_000_000)], code);
    await shipped(m, "own", [lineOf(300_000)]);
    h.clock.set(afterMonth(10));
    const first = await h.kopilka.managers.settleMonth(monthKey(10), "instance-a");
    const second = await h.kopilka.managers.settleMonth(monthKey(10), "instance-b");
    expect(first.claimed).toBe(true);
    expect(second.claimed).toBe(false);
    expect(await h.kopilka.managers.settleAll(monthKey(10))).toMatchObject({ customers: 0 });
    expect((await k.balance(m)).referral.available).toBe(500);
  });

  it("two runs at once (two instances, their claims taken over) decide each manager's month once", async () => {
    h.clock.set(inMonth(12));
    const ms = [next("manager"), next("manager"), next("manager")];
    for (const [j, m] of ms.entries()) {
      const code = `TWO${n}M${j}`;
      await grant(m, code);
      await shipped(next("buyer"), "o", [lineOf(1_000_000)], code);
      await shipped(m, "own", [lineOf(j === 2 ? 100_000 : 300_000)]);
    }
    h.clock.set(afterMonth(12));
    const [a, b] = await Promise.all([
      h.kopilka.managers.settleAll(monthKey(12)),
      h.kopilka.managers.settleAll(monthKey(12)),
    ]);
    expect(a.customers + b.customers).toBe(3);
    expect(a.madeAvailable + b.madeAvailable).toBe(1_000);
    expect(a.cancelled + b.cancelled).toBe(500);
    for (const m of ms) {
      const made = (await k.history(m)).filter((x) => x.kind === "referral" && x.type !== "credit");
      expect(made).toHaveLength(1);
      await expectLedgerConsistent(h, m);
    }
  });

  it("refuses a month not over yet", async () => {
    h.clock.set(inMonth(11));
    await expect(h.kopilka.managers.settleMonth(monthKey(11), "x")).rejects.toThrow(/not over/);
  });
});

describe("R24 status and bad input", () => {
  it("a code taken by another customer, a code change, an unknown code and a revoke of a non-manager are refused", async () => {
    const a = next("manager");
    const code = `TAKEN${n}`;
    expect((await grant(a, code)).statusCode).toBe(200);
    const again = await grant(a, code);
    expect(again.statusCode).toBe(200);
    const other = await grant(next("manager"), code);
    expectError(other, "PROMO_CODE_TAKEN");
    expect(other.json().error.details.field).toBe("body.promoCode");
    expectError(await grant(a, `${code}Z`), "MANAGER_CODE_FIXED");
    expectError(
      await h.send({
        method: "DELETE",
        url: `/v1/customers/${next("nobody")}/manager`,
        key: h.keys.operator,
      }),
      "MANAGER_NOT_FOUND",
    );
    expectError(await manager(next("nobody")), "MANAGER_NOT_FOUND");
  });

  it("an order event with an unknown promo code is refused naming the field, and nothing is written", async () => {
    const buyer = next("buyer");
    const e = orderEvents(buyer, "o", () => h.clock.now());
    const res = await k.post({ events: [{ ...e.placed([lineOf(100_000)]), promoCode: "NOSUCHCODE" }] });
    const [result] = res.json().results;
    expect(result).toMatchObject({ status: "refused", error: { code: "PROMO_CODE_NOT_FOUND" } });
    expect(result.error.details.field).toBe("body.events[0].promoCode");
    const order = await h.send({
      method: "GET",
      url: `/v1/orders/o?customerId=${buyer}`,
      key: h.keys.operator,
    });
    expectError(order, "ORDER_NOT_FOUND");
  });

  it("only operators grant and revoke; a manager reads its own page with a customer token", async () => {
    const m = next("manager");
    expectError(
      await h.send({ method: "PUT", url: `/v1/customers/${m}/manager`, key: h.keys.support, body: {} }),
      "FORBIDDEN",
    );
    await grant(m);
    const token = await h.customerToken(m);
    const own = await h.send({ method: "GET", url: `/v1/customers/${m}/manager`, key: token });
    expect(own.statusCode).toBe(200);
    expect(own.json().promoCode).toMatch(/^M[0-9A-Z]{10}$/);
    expectError(
      await h.send({ method: "GET", url: `/v1/customers/${next("other")}/manager`, key: token }),
      "FORBIDDEN",
    );
    expectError(
      await h.send({ method: "DELETE", url: `/v1/customers/${m}/manager`, key: token }),
      "FORBIDDEN",
    );
  });
});
