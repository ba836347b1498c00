import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  balanceDays,
  calendarMonth,
  lowestBalanceFrom,
  monthlyInterest,
  type SavingsEntry,
} from "../../src/domain/savings/index.js";
import { expectError, type Harness } from "../http/routes-table.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";

const MOSCOW = "Europe/Moscow";
const RUB = 100;

/** R25 through HTTP and the monthly run, on one service with a fake clock. */
describe("R25 the savings account", () => {
  let h: Harness;
  let n = 0;
  const nextCustomer = () => `sav-${++n}`;
  beforeAll(async () => {
    h = await httpHarness({ KOPILKA_TIME_ZONE: MOSCOW });
  });
  afterAll(async () => {
    await h.close();
  });

  const url = (id: string, tail = "") => `/v1/customers/${id}/savings${tail}`;
  const report = (
    id: string,
    type: "deposits" | "withdrawals",
    body: Record<string, unknown>,
    key: string = h.keys.operator,
  ) => h.send({ method: "POST", url: url(id, `/${type}`), key, body });
  const deposit = (id: string, entryId: string, amount: number, occurredAt: string) =>
    report(id, "deposits", { id: entryId, amount, occurredAt });
  const withdraw = (id: string, entryId: string, amount: number, occurredAt: string) =>
    report(id, "withdrawals", { id: entryId, amount, occurredAt });
  const account = async (id: string, key: string = h.keys.operator) => {
    const res = await h.send({ method: "GET", url: url(id), key });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { balance: number; rateBp: number; accruedThisMonth: number; month: string };
  };
  const savingsPoints = async (id: string) => {
    const res = await h.send({ method: "GET", url: `/v1/customers/${id}/balance`, key: h.keys.operator });
    return (res.json() as { kinds: { savings: { available: number } } }).kinds.savings.available;
  };
  const history = async (id: string) => {
    const res = await h.send({
      method: "GET",
      url: `/v1/customers/${id}/history?kind=savings`,
      key: h.keys.operator,
    });
    return (res.json() as { items: { type: string; explanation: { ru: string; en: string } }[] }).items;
  };
  const entryCount = async (id: string) =>
    (
      await sql<{
        n: number;
      }>`select count(*)::int as n from savings_entries where customer_id = ${id}`.execute(h.database.db)
    ).rows[0]?.n;
  /** Moves the clock to `at` and pays every account's `month` (no claim: a rerun is allowed). */
  const payMonth = async (month: string, at: string) => {
    h.clock.set(new Date(at));
    return h.kopilka.savings.payAll(calendarMonth(month, MOSCOW));
  };

  it("W9 (R25): 50,000 kept for 12 months at 12% pays 500 points every month, 6,000 in all", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2025-12-31T10:00:00Z"));
    const res = await deposit(id, "dep-1", 50_000 * RUB, "2025-12-31T10:00:00Z");
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ type: "deposit", amount: 5_000_000, balance: 5_000_000 });
    const paid: number[] = [];
    for (let m = 1; m <= 12; m++) {
      const month = `2026-${String(m).padStart(2, "0")}`;
      const before = await savingsPoints(id);
      // The month is over once Moscow's next month has begun: pay it an hour into the 1st.
      await payMonth(month, new Date(calendarMonth(month, MOSCOW).end.getTime() + 3_600_000).toISOString());
      paid.push((await savingsPoints(id)) - before);
    }
    expect(paid).toEqual(Array(12).fill(500));
    expect(await savingsPoints(id)).toBe(6_000);
    const credits = (await history(id)).filter((m) => m.type === "credit");
    expect(credits).toHaveLength(12);
    expect(credits.at(-1)?.explanation).toEqual({
      ru: "Проценты на остаток за январь: средний остаток 50 000 ₽ × 12% / 12 — 500 баллов",
      en: "Interest for January: average balance 50,000 RUB × 12% / 12 — 500 points",
    });
  });

  it("W9 (R25): a 30-day month with 50,000 for 15 days and 20,000 for 15 pays 350 points", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-11-20T10:00:00Z"));
    expect((await deposit(id, "d", 50_000 * RUB, "2026-10-20T10:00:00Z")).statusCode).toBe(201);
    // 16 November in Moscow: the 16th ends with 20,000.
    expect((await withdraw(id, "w", 30_000 * RUB, "2026-11-16T09:00:00Z")).statusCode).toBe(201);
    expect((await account(id)).balance).toBe(20_000 * RUB);
    await payMonth("2026-11", "2026-12-01T00:00:00Z");
    expect(await savingsPoints(id)).toBe(350);
    const [interest] = (await history(id)).filter((m) => m.type === "credit");
    expect(interest?.explanation).toEqual({
      ru: "Проценты на остаток за ноябрь: средний остаток 35 000 ₽ × 12% / 12 — 350 баллов",
      en: "Interest for November: average balance 35,000 RUB × 12% / 12 — 350 points",
    });
    // Paid again — the same run by a second instance, or a rerun — it pays nothing more.
    expect(await payMonth("2026-11", "2026-12-01T01:00:00Z")).toMatchObject({ accounts: 0, points: 0 });
    expect(await savingsPoints(id)).toBe(350);
  });

  it("a month is claimed once across instances, and two runs at once pay each account once", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-05-10T10:00:00Z"));
    await deposit(id, "d", 10_000 * RUB, "2026-04-20T10:00:00Z");
    h.clock.set(new Date("2026-06-01T09:00:00Z"));
    const [a, b] = await Promise.all([
      h.kopilka.savings.payMonth("2026-05", "instance-a"),
      h.kopilka.savings.payMonth("2026-05", "instance-b"),
    ]);
    expect([a.claimed, b.claimed].sort()).toEqual([false, true]);
    // Unclaimed reruns in parallel still pay once: the (customer, month) row is checked in the customer's own work.
    await Promise.all([
      h.kopilka.savings.payAll(calendarMonth("2026-05", MOSCOW)),
      h.kopilka.savings.payAll(calendarMonth("2026-05", MOSCOW)),
    ]);
    expect(await savingsPoints(id)).toBe(100);
    const rows = await sql<{ n: number }>`select count(*)::int as n from savings_interest
      where customer_id = ${id} and month = '2026-05'`.execute(h.database.db);
    expect(rows.rows[0]?.n).toBe(1);
  });

  it("a run whose instance died mid-month is taken over an hour later and pays the rest once", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-08-10T10:00:00Z"));
    await deposit(id, "d", 10_000 * RUB, "2026-07-20T10:00:00Z");
    // Instance "dead" claimed August and died before paying anyone.
    h.clock.set(new Date("2026-09-01T00:00:00Z"));
    await sql`insert into scheduled_runs (task, slot, claimed_by, claimed_at)
      values ('savings_interest', ${2026 * 12 + 7}, 'dead', ${h.clock.now()})`.execute(h.database.db);
    h.clock.set(new Date("2026-09-01T00:30:00Z"));
    expect((await h.kopilka.savings.payDueMonth("alive")).claimed).toBe(false);
    h.clock.set(new Date("2026-09-01T01:01:00Z"));
    const [first, second] = await Promise.all([
      h.kopilka.savings.payDueMonth("alive"),
      h.kopilka.savings.payDueMonth("other"),
    ]);
    expect([first.claimed, second.claimed].sort()).toEqual([false, true]);
    expect(await savingsPoints(id)).toBe(100);
    // Finished: nobody takes it again.
    h.clock.set(new Date("2026-09-02T00:00:00Z"));
    expect((await h.kopilka.savings.payDueMonth("late")).claimed).toBe(false);
  });

  it("a deposit at 23:30 UTC counts from the next Moscow day", async () => {
    const late = nextCustomer();
    const early = nextCustomer();
    h.clock.set(new Date("2026-09-20T10:00:00Z"));
    // September 2026 has 30 days. 23:30 UTC on the 15th is 02:30 on the 16th in Moscow: 15 days;
    // 20:30 UTC is 23:30 on the 15th there: 16 days.
    await deposit(late, "d", 600_000 * RUB, "2026-09-15T23:30:00Z");
    await deposit(early, "d", 600_000 * RUB, "2026-09-15T20:30:00Z");
    await payMonth("2026-09", "2026-10-01T00:00:00Z");
    // 600,000 × 15/30 × 12% / 12 = 3,000; × 16/30 → 3,200.
    expect(await savingsPoints(late)).toBe(3_000);
    expect(await savingsPoints(early)).toBe(3_200);
  });

  it("a deposit across a month boundary: 00:30 on 1 November in Moscow is November's, not October's", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-11-05T10:00:00Z"));
    // 21:30 UTC on 31 October is 00:30 on 1 November in Moscow.
    await deposit(id, "d", 120_000 * RUB, "2026-10-31T21:30:00Z");
    await payMonth("2026-10", "2026-11-05T10:00:00Z");
    expect(await savingsPoints(id)).toBe(0);
    await payMonth("2026-11", "2026-12-01T00:00:00Z");
    // Every day of November's 30: 120,000 × 12% / 12 = 1,200.
    expect(await savingsPoints(id)).toBe(1_200);
  });

  it("concurrent reports for one customer apply in order, each seeing the ones before it", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-03-10T10:00:00Z"));
    const answers = await Promise.all([
      deposit(id, "a", 1_000, "2026-03-01T10:00:00Z"),
      withdraw(id, "b", 1_000, "2026-03-02T10:00:00Z"),
      deposit(id, "c", 300, "2026-03-03T10:00:00Z"),
      deposit(id, "c", 300, "2026-03-03T10:00:00Z"),
      withdraw(id, "d", 301, "2026-03-04T10:00:00Z"),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201, 201, 422]);
    expect(answers.map((a) => a.headers["idempotent-replayed"])).toEqual([
      undefined,
      undefined,
      undefined,
      "true",
      undefined,
    ]);
    expect((await account(id)).balance).toBe(300);
    expect(await entryCount(id)).toBe(3);
  });

  it("the rate comes from the programme version in force on the month's last day; 0-18% only", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2027-02-10T10:00:00Z"));
    await deposit(id, "d", 50_000 * RUB, "2027-02-01T10:00:00Z");
    const current = (
      await h.send({ method: "GET", url: "/v1/config/programme", key: h.keys.operator })
    ).json() as {
      defaults: Record<string, unknown>;
    };
    const version = (annualRateBp: number) =>
      h.send({
        method: "POST",
        url: "/v1/config/programme",
        key: h.keys.operator,
        body: {
          config: { ...current.defaults, savings: { annualRateBp } },
          effectiveFrom: "2027-03-01T00:00:00Z",
          reason: "savings rate campaign",
        },
      });
    const refused = await version(1801);
    expect(refused.statusCode, refused.body).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    expect(refused.body).toContain("body.config.savings.annualRateBp");
    expect((await version(1500)).statusCode).toBe(201);
    // February is paid at 12% (the version in force on 28 February), March at 15%.
    await payMonth("2027-02", "2027-03-01T00:00:00Z");
    expect(await savingsPoints(id)).toBe(500);
    await payMonth("2027-03", "2027-04-01T00:00:00Z");
    expect(await savingsPoints(id)).toBe(500 + 625);
  });

  it("a customer's own rate (R30 experiments) replaces the programme's; null gives it back", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-07-10T10:00:00Z"));
    await deposit(id, "d", 50_000 * RUB, "2026-06-20T10:00:00Z");
    const rate = (rateBp: unknown) =>
      h.send({ method: "PUT", url: url(id, "/rate"), key: h.keys.operator, body: { rateBp } });
    const set = await rate(1800);
    expect(set.statusCode, set.body).toBe(200);
    expect(await account(id)).toMatchObject({ rateBp: 1800, rateSource: "customer" });
    await payMonth("2026-07", "2026-08-01T00:00:00Z");
    expect(await savingsPoints(id)).toBe(750);
    for (const bad of [1801, -1, 12.5, "1200"]) expectError(await rate(bad), "VALIDATION_FAILED");
    expect((await rate(null)).statusCode).toBe(200);
    expect(await account(id)).toMatchObject({ rateBp: 1200, rateSource: "programme" });
    // Each change is audited: who, when, from what to what.
    const audits = await sql<{ actor: string; before: unknown; after: unknown }>`
      select actor, before, after from audit_log
      where action = 'savings.set_rate' and subject = ${`customer:${id}`} order by audit_id`.execute(
      h.database.db,
    );
    expect(audits.rows.map((r) => [r.before, r.after])).toEqual([
      [{ rateBp: null }, { rateBp: 1800 }],
      [{ rateBp: 1800 }, { rateBp: null }],
    ]);
    expect(audits.rows[0]?.actor).toMatch(/^key_/);
  });

  it("shows the balance and this month's interest so far, to the customer's own token too", async () => {
    const id = nextCustomer();
    h.clock.set(new Date("2026-11-10T12:00:00Z"));
    await deposit(id, "d", 300_000 * RUB, "2026-10-25T10:00:00Z");
    // Through 10 November: 300,000 × 10/30 × 12% / 12 = 1,000.
    const token = await h.customerToken(id);
    expect(await account(id, token)).toMatchObject({
      balance: 300_000 * RUB,
      month: "2026-11",
      accruedThisMonth: 1_000,
      daysSoFar: 10,
      daysInMonth: 30,
    });
    const other = await h.send({ method: "GET", url: url(nextCustomer()), key: token });
    expect(other.statusCode).toBe(403);
    for (const key of [h.keys.support, h.keys.readonly]) {
      expect((await account(id, key)).balance).toBe(300_000 * RUB);
    }
  });

  it("the calculator: 50,000 at 12% for 12 months → 500 a month, 6,000 in all; it writes nothing", async () => {
    const id = nextCustomer();
    const token = await h.customerToken(id);
    const calculate = (query: string) =>
      h.send({ method: "GET", url: url(id, `/calculator?${query}`), key: token });
    const res = await calculate("amount=5000000&rateBp=1200&months=12");
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { months: { month: number; points: number; total: number }[]; total: number };
    expect(body.months.map((m) => m.points)).toEqual(Array(12).fill(500));
    expect(body.months.map((m) => m.total)).toEqual(Array.from({ length: 12 }, (_, i) => 500 * (i + 1)));
    expect(body.total).toBe(6_000);
    // Without a rate: the programme's 12%.
    expect((await calculate("amount=5000000&months=1")).json()).toMatchObject({ rateBp: 1200, total: 500 });
    for (const query of [
      "amount=-5&months=1",
      "amount=1.5&months=1",
      "amount=5&months=0",
      "amount=5&months=1&rateBp=1900",
      "amount=5&months=1&x=1",
    ]) {
      expectError(await calculate(query), "VALIDATION_FAILED");
    }
    expect(await entryCount(id)).toBe(0);
  });

  describe("bad input is refused naming the field, and nothing changes", () => {
    it("negative, zero, fractional and non-integer amounts; unknown and missing fields → 400", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-10T10:00:00Z"));
      await deposit(id, "d", 1_000 * RUB, "2026-03-01T10:00:00Z");
      const good = { id: "e", amount: 100, occurredAt: "2026-03-02T10:00:00Z" };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...good, amount: -100 }, "body.amount"],
        [{ ...good, amount: 0 }, "body.amount"],
        [{ ...good, amount: 1.5 }, "body.amount"],
        [{ ...good, amount: "100" }, "body.amount"],
        [{ ...good, occurredAt: "yesterday" }, "body.occurredAt"],
        [{ ...good, id: "has space" }, "body.id"],
        [{ ...good, amountt: 5 }, "body.amountt"],
        [{ amount: 100, occurredAt: good.occurredAt }, "body.id"],
      ];
      for (const type of ["deposits", "withdrawals"] as const) {
        for (const [body, field] of cases) {
          const error = expectError(await report(id, type, body), "VALIDATION_FAILED");
          const fields = (error.details as { fields: { field: string }[] }).fields.map((f) => f.field);
          expect([...new Set(fields)], JSON.stringify(body)).toEqual([field]);
        }
      }
      expect(await entryCount(id)).toBe(1);
      expect((await account(id)).balance).toBe(1_000 * RUB);
    });

    it("a withdrawal beyond the balance → 422 INSUFFICIENT_SAVINGS naming body.amount, nothing written", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-10T10:00:00Z"));
      await deposit(id, "d", 1_000 * RUB, "2026-03-01T10:00:00Z");
      const error = expectError(
        await withdraw(id, "w", 1_000 * RUB + 1, "2026-03-05T10:00:00Z"),
        "INSUFFICIENT_SAVINGS",
      );
      expect(error.details).toMatchObject({
        fields: [{ field: "body.amount" }],
        balance: 100_000,
        amount: 100_001,
      });
      expect(await entryCount(id)).toBe(1);
      expect((await account(id)).balance).toBe(1_000 * RUB);
      // The whole balance may go.
      expect((await withdraw(id, "w", 1_000 * RUB, "2026-03-05T10:00:00Z")).statusCode).toBe(201);
      expect((await account(id)).balance).toBe(0);
    });

    it("a withdrawal reported late must fit the balance at its instant and leave every later balance ≥ 0", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-20T10:00:00Z"));
      await deposit(id, "d", 1_000 * RUB, "2026-03-05T10:00:00Z");
      await withdraw(id, "w1", 600 * RUB, "2026-03-10T10:00:00Z");
      // On 7 March the balance was 1,000, but 500 then would leave −100 after the 10 March withdrawal.
      const later = expectError(
        await withdraw(id, "w2", 500 * RUB, "2026-03-07T10:00:00Z"),
        "INSUFFICIENT_SAVINGS",
      );
      expect(later.details).toMatchObject({
        fields: [{ field: "body.amount" }],
        balance: 400 * RUB,
        lowestBalanceFromOccurredAt: 400 * RUB,
      });
      // Before the deposit there was nothing to withdraw, whatever the balance is now.
      const early = expectError(
        await withdraw(id, "w3", 100, "2026-03-01T10:00:00Z"),
        "INSUFFICIENT_SAVINGS",
      );
      expect(early.details).toMatchObject({ lowestBalanceFromOccurredAt: 0 });
      expect(await entryCount(id)).toBe(2);
      // 400 on 7 March fits: every balance from then on stays ≥ 0, and March's interest counts it from then.
      expect((await withdraw(id, "w4", 400 * RUB, "2026-03-07T10:00:00Z")).statusCode).toBe(201);
      expect((await account(id)).balance).toBe(0);
      await payMonth("2026-03", "2026-04-01T00:00:00Z");
      // End-of-day balances: 1,000 on 5-6 March, 600 on 7-9, 0 from the 10th: 4,000 RUB-days / 31 × 12% / 12.
      expect(await savingsPoints(id)).toBe(monthlyInterest(4_000n * 100n, 31, 1200));
    });

    it("an instant in the future → 422 INVALID_DATES naming body.occurredAt", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-10T10:00:00Z"));
      const error = expectError(await deposit(id, "d", 100, "2026-03-11T10:00:00Z"), "INVALID_DATES");
      expect(error.details).toMatchObject({ fields: [{ field: "body.occurredAt" }] });
      expect(await entryCount(id)).toBe(0);
    });

    it("the same id again answers the stored entry; with another body it is 409 and changes nothing", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-10T10:00:00Z"));
      const first = await deposit(id, "d", 500, "2026-03-01T10:00:00Z");
      await deposit(id, "d2", 700, "2026-03-02T10:00:00Z");
      const again = await deposit(id, "d", 500, "2026-03-01T10:00:00Z");
      expect(again.statusCode).toBe(201);
      expect(again.body).toBe(first.body);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      expectError(await deposit(id, "d", 501, "2026-03-01T10:00:00Z"), "IDEMPOTENCY_CONFLICT");
      expectError(await withdraw(id, "d", 500, "2026-03-01T10:00:00Z"), "IDEMPOTENCY_CONFLICT");
      expect(await entryCount(id)).toBe(2);
      expect((await account(id)).balance).toBe(1_200);
    });

    it("only operators report money or set rates", async () => {
      const id = nextCustomer();
      h.clock.set(new Date("2026-03-10T10:00:00Z"));
      const body = { id: "d", amount: 100, occurredAt: "2026-03-01T10:00:00Z" };
      for (const key of [h.keys.support, h.keys.readonly, h.keys.seller, await h.customerToken(id)]) {
        expectError(await report(id, "deposits", body, key), "FORBIDDEN");
        expectError(
          await h.send({ method: "PUT", url: url(id, "/rate"), key, body: { rateBp: 1 } }),
          "FORBIDDEN",
        );
      }
      expect(await entryCount(id)).toBe(0);
    });
  });

  it("property: reported in any order, a month run twice pays once, exactly the formula over the end-of-day balances", async () => {
    const month = calendarMonth("2026-04", MOSCOW);
    const span = month.end.getTime() - month.start.getTime();
    const entry = fc.record({
      deposit: fc.boolean(),
      amount: fc.integer({ min: 1, max: 10_000_000 }),
      offsetMs: fc.integer({ min: 0, max: span - 1 }),
    });
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.array(entry, { maxLength: 6 }),
        async (opening, raw) => {
          const id = nextCustomer();
          h.clock.set(new Date("2026-05-01T00:00:00Z"));
          if (opening > 0) await deposit(id, "opening", opening, "2026-03-15T10:00:00Z");
          let balance = opening;
          const accepted: SavingsEntry[] = [];
          for (const [i, e] of raw.entries()) {
            const entryId = `e${i}`;
            const occurredAt = new Date(month.start.getTime() + e.offsetMs).toISOString();
            const res = e.deposit
              ? await deposit(id, entryId, e.amount, occurredAt)
              : await withdraw(id, entryId, e.amount, occurredAt);
            // Reports arrive in any order: a withdrawal must leave every balance from its instant on ≥ 0.
            if (!e.deposit && e.amount > lowestBalanceFrom(balance, accepted, new Date(occurredAt))) {
              expectError(res, "INSUFFICIENT_SAVINGS");
              continue;
            }
            expect(res.statusCode, res.body).toBe(201);
            balance += e.deposit ? e.amount : -e.amount;
            const type = e.deposit ? "deposit" : "withdrawal";
            accepted.push({ entryId, type, amount: e.amount, occurredAt: new Date(occurredAt) });
          }
          await payMonth("2026-04", "2026-05-01T00:00:00Z");
          await payMonth("2026-04", "2026-05-01T01:00:00Z");
          const expected = monthlyInterest(balanceDays(opening, accepted, month, MOSCOW), month.days, 1200);
          expect(await savingsPoints(id)).toBe(expected);
        },
      ),
      { numRuns: 15 },
    );
  });
});
