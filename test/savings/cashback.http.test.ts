import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarMonth } from "../../src/domain/savings/index.js";
import { expectError } from "../http/routes-table.js";
import { type Api, api, expectLedgerConsistent, type Harness, line, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

const MOSCOW = "Europe/Moscow";
const RUB = 100;

/**
 * R25, the variant, through HTTP: cashback of the programme's `savings.cashbackBp` (3% by default) of
 * the money paid from the savings account, as `savings` points, for customers whose mechanic is
 * cashback; it follows the order lifecycle of purchase accruals (R13).
 */
describe("R25 savings cashback", () => {
  let h: Harness;
  let a: Api;
  let n = 0;
  const nextCustomer = () => `cb-${++n}`;
  beforeAll(async () => {
    h = await httpHarness({ KOPILKA_TIME_ZONE: MOSCOW });
    a = api(h);
  });
  afterAll(async () => {
    await h.close();
  });

  const url = (id: string, tail = "") => `/v1/customers/${id}/savings${tail}`;
  const setMechanic = (
    id: string,
    mechanic: unknown,
    key: string = h.keys.operator,
    idempotencyKey?: string,
  ) => h.send({ method: "PUT", url: url(id, "/mechanic"), key, body: { mechanic }, idempotencyKey });
  const account = async (id: string) => {
    const res = await h.send({ method: "GET", url: url(id), key: h.keys.operator });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { mechanic: string; cashbackBp: number; accruedThisMonth: number; rateBp: number };
  };
  const cashbackCustomer = async () => {
    const id = nextCustomer();
    const res = await setMechanic(id, "cashback");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ customerId: id, mechanic: "cashback" });
    return id;
  };
  /** Places and pays an order of `lines` paid by `paymentMethod`, at the clock's now. */
  const placeAndPay = async (
    id: string,
    orderId: string,
    lines: ReturnType<typeof line>[],
    paymentMethod: "savings_account" | "other_card" = "savings_account",
    spend: { bonus?: number } = {},
  ) => {
    const ev = orderEvents(id, orderId, () => h.clock.now());
    const placed = await a.apply(ev.placed(lines, spend, paymentMethod));
    await a.apply(ev.paid());
    return { ev, placed };
  };

  it("R25 cashback: 2,800 paid from the savings account at 3% earns 84 points as the units ship; a returned jacket takes back 24", async () => {
    const id = await cashbackCustomer();
    h.clock.set(new Date("2026-11-02T09:00:00Z"));
    const book = line("books", 1_200 * RUB, 1);
    const jackets = line("clothing_shoes", 800 * RUB, 2);
    const { ev, placed } = await placeAndPay(id, "cb-order-1", [book, jackets]);
    expect(placed.effect).toMatchObject({ expectedCashbackPoints: 84 });
    expect((await a.order(id, "cb-order-1")).cashback).toEqual({ rateBp: 300, points: 0 });

    // The book ships: 3% of 1,200 = 36 points, pending for 24 hours (R13).
    const shipped = await a.apply(ev.shipped([{ lineId: book.lineId }]));
    expect(shipped.effect).toMatchObject({ cashbackPoints: 36, availableFrom: "2026-11-03T09:00:00.000Z" });
    expect((await a.balance(id)).savings).toMatchObject({ available: 0, pending: 36 });
    const [credit] = (await a.history(id)).filter((m) => m.kind === "savings" && m.type === "credit");
    expect(credit?.postings).toEqual([
      { account: "funder:savings_cashback", amount: -36 },
      { account: "wallet:pending", amount: 36 },
    ]);
    expect(credit?.explanation).toEqual({
      ru: "Кешбэк за заказ cb-order-1, оплаченный с накопительного счёта: 3% от 1 200 ₽ — 36 баллов",
      en: "Cashback for order cb-order-1, paid from the savings account: 3% of 1,200 RUB — 36 points",
    });
    h.clock.set(new Date("2026-11-03T09:00:00Z"));
    expect((await a.balance(id)).savings).toMatchObject({ available: 36, pending: 0 });

    // The jackets ship: 3% of 1,600 = 48 more; one comes back: half the line's 48 is clawed back.
    h.clock.set(new Date("2026-11-03T10:00:00Z"));
    expect((await a.apply(ev.shipped())).effect).toMatchObject({ cashbackPoints: 48 });
    expect((await a.order(id, "cb-order-1")).cashback).toEqual({ rateBp: 300, points: 84 });
    h.clock.set(new Date("2026-11-03T12:00:00Z"));
    const returned = await a.apply(ev.returned([{ lineId: jackets.lineId, quantity: 1 }]));
    expect(returned.effect).toMatchObject({ cashbackPoints: 24, shortfall: 0 });
    expect((await a.balance(id)).savings).toMatchObject({ available: 36, pending: 24 });
    expect((await a.order(id, "cb-order-1")).cashback).toEqual({ rateBp: 300, points: 60 });
    // The purchase accrual (R7, bonus points) is earned besides, as for any payment method.
    expect((await a.order(id, "cb-order-1")).accrualPoints).toBe(60 + 24);
    await expectLedgerConsistent(h, id);
  });

  it("only money counts: points spent on the order earn no cashback (R10, R21)", async () => {
    const id = await cashbackCustomer();
    h.clock.set(new Date("2026-11-05T09:00:00Z"));
    await a.credit(id, "bonus", 500);
    const { ev, placed } = await placeAndPay(
      id,
      "cb-order-2",
      [line("books", 2_000 * RUB)],
      "savings_account",
      {
        bonus: 500,
      },
    );
    // 2,000 − 500 points = 1,500 RUB of money: 45 points.
    expect(placed.effect).toMatchObject({ expectedCashbackPoints: 45 });
    expect((await a.apply(ev.shipped())).effect).toMatchObject({ cashbackPoints: 45 });
    await expectLedgerConsistent(h, id);
  });

  it("a return after the cashback was spent reports the shortfall, kept as savings debt (R14)", async () => {
    const id = await cashbackCustomer();
    h.clock.set(new Date("2026-11-06T09:00:00Z"));
    const tv = line("electronics", 10_000 * RUB);
    const { ev } = await placeAndPay(id, "cb-order-3", [tv]);
    expect((await a.apply(ev.shipped())).effect).toMatchObject({ cashbackPoints: 300 });
    h.clock.set(new Date("2026-11-07T10:00:00Z"));
    const spend = await h.send({
      method: "POST",
      url: `/v1/customers/${id}/spends`,
      key: h.keys.operator,
      body: { redemptionId: "spent-cashback", kind: "savings", amount: 300 },
    });
    expect(spend.statusCode, spend.body).toBe(201);
    const returned = await a.apply(ev.returned([{ lineId: tv.lineId, quantity: 1 }]));
    // The bonus accrual (100) is still there to claw back; the 300 savings points are not.
    expect(returned.effect).toMatchObject({ accrualPoints: 100, cashbackPoints: 300, shortfall: 300 });
    expect((await a.balance(id)).savings).toMatchObject({ available: 0, debt: 300 });
    expect((await a.order(id, "cb-order-3")).cashback).toEqual({ rateBp: 300, points: 0 });
    await expectLedgerConsistent(h, id);
  });

  it("an interest customer paying from the savings account, or a cashback customer paying by card, earns no cashback", async () => {
    const interest = nextCustomer();
    const cashback = await cashbackCustomer();
    h.clock.set(new Date("2026-11-07T09:00:00Z"));
    for (const [id, method] of [
      [interest, "savings_account"],
      [cashback, "other_card"],
    ] as const) {
      const { ev, placed } = await placeAndPay(id, `cb-none-${id}`, [line("books", 1_000 * RUB)], method);
      expect(placed.effect?.expectedCashbackPoints).toBeUndefined();
      expect((await a.apply(ev.shipped())).effect?.cashbackPoints).toBeUndefined();
      expect((await a.order(id, `cb-none-${id}`)).cashback).toBeUndefined();
      expect((await a.balance(id)).savings).toMatchObject({ available: 0, pending: 0 });
    }
  });

  it("a cashback customer earns no monthly interest, an interest customer does; GET shows the mechanic", async () => {
    const interest = nextCustomer();
    const cashback = await cashbackCustomer();
    h.clock.set(new Date("2026-08-10T10:00:00Z"));
    for (const id of [interest, cashback]) {
      const res = await h.send({
        method: "POST",
        url: url(id, "/deposits"),
        key: h.keys.operator,
        body: { id: "d", amount: 50_000 * RUB, occurredAt: "2026-07-20T10:00:00Z" },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect(await account(interest)).toMatchObject({ mechanic: "interest", cashbackBp: 300 });
    expect(await account(cashback)).toMatchObject({
      mechanic: "cashback",
      cashbackBp: 300,
      accruedThisMonth: 0,
    });
    expect((await account(interest)).accruedThisMonth).toBeGreaterThan(0);
    h.clock.set(new Date("2026-09-01T00:00:00Z"));
    await h.kopilka.savings.payAll(calendarMonth("2026-08", MOSCOW));
    expect((await a.balance(interest)).savings.available).toBe(500);
    expect((await a.balance(cashback)).savings.available).toBe(0);
  });

  it("the mechanic is the operator's, audited, idempotent by Idempotency-Key, and refused naming the field", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-11-10T10:00:00Z"));
    const first = await setMechanic(id, "cashback", h.keys.operator, "mech-1");
    const again = await setMechanic(id, "cashback", h.keys.operator, "mech-1");
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toBe(first.body);
    expectError(await setMechanic(id, "interest", h.keys.operator, "mech-1"), "IDEMPOTENCY_CONFLICT");
    expect((await setMechanic(id, "interest")).statusCode).toBe(200);
    for (const bad of ["both", 1, null]) {
      const error = expectError(await setMechanic(id, bad), "VALIDATION_FAILED");
      expect(JSON.stringify(error.details)).toContain("body.mechanic");
    }
    for (const key of [h.keys.support, h.keys.readonly, h.keys.seller, await h.customerToken(id)]) {
      expectError(await setMechanic(id, "cashback", key), "FORBIDDEN");
    }
    const audits = await sql<{ actor: string; before: unknown; after: unknown }>`
      select actor, before, after from audit_log
      where action = 'savings.set_mechanic' and subject = ${`customer:${id}`} order by audit_id`.execute(
      h.database.db,
    );
    expect(audits.rows.map((r) => [r.before, r.after])).toEqual([
      [{ mechanic: "interest" }, { mechanic: "cashback" }],
      [{ mechanic: "cashback" }, { mechanic: "interest" }],
    ]);
    expect(audits.rows[0]?.actor).toMatch(/^key_/);
    expect((await account(id)).mechanic).toBe("interest");
  });

  it("the rate is the programme's savings.cashbackBp in force when the order was placed; 0-10% only", async () => {
    const id = await cashbackCustomer();
    h.clock.set(new Date("2027-05-10T10:00:00Z"));
    const current = (
      await h.send({ method: "GET", url: "/v1/config/programme", key: h.keys.operator })
    ).json() as {
      defaults: Record<string, unknown>;
    };
    const version = (cashbackBp: number) =>
      h.send({
        method: "POST",
        url: "/v1/config/programme",
        key: h.keys.operator,
        body: {
          config: { ...current.defaults, savings: { annualRateBp: 1200, cashbackBp } },
          effectiveFrom: "2027-06-01T00:00:00Z",
          reason: "cashback campaign",
        },
      });
    const refused = expectError(await version(1001), "VALIDATION_FAILED");
    expect(JSON.stringify(refused.details)).toContain("body.config.savings.cashbackBp");
    expect((await version(500)).statusCode).toBe(201);
    const { ev } = await placeAndPay(id, "cb-order-may", [line("books", 1_000 * RUB)]);
    h.clock.set(new Date("2027-06-02T10:00:00Z"));
    // Placed in May at 3%, shipped in June: still 3%.
    expect((await a.apply(ev.shipped())).effect).toMatchObject({ cashbackPoints: 30 });
    const june = await placeAndPay(id, "cb-order-june", [line("books", 1_000 * RUB)]);
    expect(june.placed.effect).toMatchObject({ expectedCashbackPoints: 50 });
    expect((await account(id)).cashbackBp).toBe(500);
  });
});
