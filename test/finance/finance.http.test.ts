import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { checkLedgerInvariants } from "../support/invariants.js";
import { balanceTotals, csvRows, financeApi, type Harness, rowsOf } from "./helpers.js";

/**
 * Finance through the real app (README "Finance: liability, breakage and reconciliation"): each test
 * books its own funders, and reads the rows of those funders out of reports that span every customer.
 */
describe("finance reports", () => {
  let h: Harness;
  let f: ReturnType<typeof financeApi>;
  beforeAll(async () => {
    h = await httpHarness();
    f = financeApi(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it("liability: lots' remaining points by state and what active holds took, by kind and funder; its totals are the balances", async () => {
    h.clock.set(new Date("2026-01-15T09:00:00.000Z"));
    const c = "fin-liability";
    await f.credit(c, { kind: "bonus", amount: 100, source: "seller", funder: "seller:fl-1" });
    await f.credit(c, { kind: "bonus", amount: 50, source: "campaign", funder: "campaign:fl" });
    await f.credit(c, {
      kind: "savings",
      amount: 30,
      source: "savings_interest",
      funder: "savings_interest",
    });
    await f.credit(c, {
      kind: "bonus",
      amount: 40,
      source: "seller",
      funder: "seller:fl-1",
      availableFrom: "2026-01-16T09:00:00.000Z",
    });
    // R4: both available bonus lots expire together and were made together; the seller's, made first, goes first.
    await f.spend(c, "fin-l-spend", 70);
    await f.hold(c, "fin-l-hold", 40);
    const held = await f.report("/v1/finance/liability");
    expect(held.asOf).toBe("2026-01-15T09:00:00.000Z");
    expect(rowsOf(held, "seller:fl-1")).toEqual([
      { kind: "bonus", funder: "seller:fl-1", pending: 40, available: 0, held: 30, outstanding: 70 },
    ]);
    expect(rowsOf(held, "campaign:fl")).toEqual([
      { kind: "bonus", funder: "campaign:fl", pending: 0, available: 40, held: 10, outstanding: 50 },
    ]);
    expect(rowsOf(held, "savings_interest")).toEqual([
      { kind: "savings", funder: "savings_interest", pending: 0, available: 30, held: 0, outstanding: 30 },
    ]);
    expect(held.totals).toEqual(await balanceTotals(h));

    // Captured, the held points are spent: no longer anyone's liability.
    await f.capture(c, "fin-l-hold");
    const captured = await f.report("/v1/finance/liability?format=json");
    expect(rowsOf(captured, "seller:fl-1")).toEqual([
      { kind: "bonus", funder: "seller:fl-1", pending: 40, available: 0, held: 0, outstanding: 40 },
    ]);
    expect(rowsOf(captured, "campaign:fl")).toEqual([
      { kind: "bonus", funder: "campaign:fl", pending: 0, available: 40, held: 0, outstanding: 40 },
    ]);
    expect(captured.totals).toEqual(await balanceTotals(h));
    expect(captured.totals.bonus.held).toBe(held.totals.bonus.held - 40);
  });

  it("breakage: what expired per month in Moscow time, out of whose lots, as the lots' remaining at expiry", async () => {
    h.clock.set(new Date("2026-01-10T00:00:00.000Z"));
    const c = "fin-breakage";
    const lot = (amount: number, expiresAt: string) =>
      f.credit(c, { kind: "bonus", amount, source: "seller", funder: "seller:fb-1", expiresAt });
    await lot(20, "2026-01-31T20:59:00.000Z"); // 23:59 on 31 January in Moscow
    await lot(80, "2026-01-31T21:00:00.000Z"); // midnight: 1 February in Moscow
    await lot(15, "2026-02-28T21:30:00.000Z"); // 00:30 on 1 March in Moscow
    await f.credit(c, {
      kind: "bonus",
      amount: 9,
      source: "campaign",
      funder: "campaign:fb",
      expiresAt: "2026-02-10T00:00:00.000Z",
    });
    await f.spend(c, "fin-b-spend", 5); // from the lot expiring first (R4)
    h.clock.set(new Date("2026-03-10T00:00:00.000Z"));
    await f.settle(c);

    const quarter = await f.report("/v1/finance/breakage?from=2026-01&to=2026-03");
    expect(quarter).toMatchObject({ from: "2026-01", to: "2026-03", timeZone: "Europe/Moscow" });
    expect(rowsOf(quarter, "seller:fb-1")).toEqual([
      { month: "2026-01", kind: "bonus", funder: "seller:fb-1", expired: 15 },
      { month: "2026-02", kind: "bonus", funder: "seller:fb-1", expired: 80 },
      { month: "2026-03", kind: "bonus", funder: "seller:fb-1", expired: 15 },
    ]);
    expect(rowsOf(quarter, "campaign:fb")).toEqual([
      { month: "2026-02", kind: "bonus", funder: "campaign:fb", expired: 9 },
    ]);
    const rowsTotal = (rows: { kind: string; expired: number }[], kind: string) =>
      rows.filter((r) => r.kind === kind).reduce((s, r) => s + r.expired, 0);
    expect(quarter.totals).toEqual({
      bonus: rowsTotal(quarter.rows, "bonus"),
      savings: rowsTotal(quarter.rows, "savings"),
      referral: rowsTotal(quarter.rows, "referral"),
    });

    // February alone, its bounds in Moscow time: the lot that expired at 21:00 UTC on 31 January is in it.
    const february = await f.report("/v1/finance/breakage?from=2026-02&to=2026-02");
    expect(rowsOf(february, "seller:fb-1")).toEqual([
      { month: "2026-02", kind: "bonus", funder: "seller:fb-1", expired: 80 },
    ]);
    expect((await f.report("/v1/finance/breakage?from=2025-01&to=2025-12")).rows).toEqual([]);
  });

  it("expiry forecast: this month from now on and the next eleven, by the Moscow month of expiry; pending lots with a set expiry count, held points do not", async () => {
    h.clock.set(new Date("2026-01-15T09:00:00.000Z"));
    const c = "fin-forecast";
    const lot = (amount: number, expiresAt: string, availableFrom?: string) =>
      f.credit(c, {
        kind: "bonus",
        amount,
        source: "seller",
        funder: "seller:ff-1",
        expiresAt,
        ...(availableFrom ? { availableFrom } : {}),
      });
    await lot(4, "2026-01-20T00:00:00.000Z");
    await lot(10, "2026-01-31T21:30:00.000Z"); // February in Moscow
    await lot(5, "2026-06-10T00:00:00.000Z", "2026-01-17T00:00:00.000Z"); // pending until the 17th
    await lot(7, "2026-12-31T20:59:00.000Z"); // the last minute of December in Moscow: the twelfth month
    await lot(9, "2026-12-31T21:00:00.000Z"); // January 2027 in Moscow: beyond the twelve months
    await f.hold(c, "fin-f-hold", 3); // from the lot expiring first, on 20 January

    const forecast = await f.report("/v1/finance/expiry-forecast");
    expect(forecast).toMatchObject({
      asOf: "2026-01-15T09:00:00.000Z",
      timeZone: "Europe/Moscow",
      from: "2026-01",
      to: "2026-12",
    });
    expect(rowsOf(forecast, "seller:ff-1")).toEqual([
      { month: "2026-01", kind: "bonus", funder: "seller:ff-1", expiring: 1 },
      { month: "2026-02", kind: "bonus", funder: "seller:ff-1", expiring: 10 },
      { month: "2026-06", kind: "bonus", funder: "seller:ff-1", expiring: 5 },
      { month: "2026-12", kind: "bonus", funder: "seller:ff-1", expiring: 7 },
    ]);

    // A day after the first lot expired, unsettled: it is no longer in the forecast.
    h.clock.set(new Date("2026-01-21T00:00:00.000Z"));
    const later = await f.report("/v1/finance/expiry-forecast");
    expect(rowsOf(later, "seller:ff-1").map((r) => r.month)).toEqual(["2026-02", "2026-06", "2026-12"]);
  });

  it("a seller's statement: issued, clawed back (returns and support removals), expired and net per month; another funder's is FORBIDDEN to it", async () => {
    h.clock.set(new Date("2026-01-15T09:00:00.000Z"));
    const c = "fin-statement";
    const seller = { kind: "bonus" as const, source: "seller", funder: "seller:s-1" };
    const a = await f.credit(c, { ...seller, amount: 100 }, h.keys.seller);
    const b = await f.credit(
      c,
      { ...seller, amount: 50, availableFrom: "2026-01-20T09:00:00.000Z" },
      h.keys.seller,
    );
    h.clock.set(new Date("2026-01-16T09:00:00.000Z"));
    await f.clawback(c, { kind: "bonus", amount: 20, lotId: b.lotId }); // R13: cancelled while pending
    h.clock.set(new Date("2026-02-10T09:00:00.000Z"));
    await f.credit(c, { ...seller, amount: 60, expiresAt: "2026-03-15T09:00:00.000Z" }, h.keys.seller);
    await f.clawback(c, { kind: "bonus", amount: 30, lotId: a.lotId }); // R14: available points taken back
    await f.adjust(c, "bonus", -10); // R34: from the lot expiring first, the one of 60
    h.clock.set(new Date("2026-03-20T09:00:00.000Z"));
    await f.settle(c); // its last 50 expired on 15 March

    const statement = await f.report(
      "/v1/finance/funders/seller:s-1/statement?from=2026-01&to=2026-04",
      h.keys.seller,
    );
    expect(statement).toEqual({
      funder: "seller:s-1",
      from: "2026-01",
      to: "2026-04",
      timeZone: "Europe/Moscow",
      rows: [
        { month: "2026-01", issued: 150, clawedBack: 20, expired: 0, net: 130 },
        { month: "2026-02", issued: 60, clawedBack: 40, expired: 0, net: 20 },
        { month: "2026-03", issued: 0, clawedBack: 0, expired: 50, net: -50 },
        { month: "2026-04", issued: 0, clawedBack: 0, expired: 0, net: 0 },
      ],
      totals: { issued: 210, clawedBack: 60, expired: 50, net: 100 },
    });
    // Nothing of it was spent: what it still owes customers is its net.
    expect(rowsOf(await f.report("/v1/finance/liability"), "seller:s-1")).toEqual([
      { kind: "bonus", funder: "seller:s-1", pending: 0, available: 100, held: 0, outstanding: 100 },
    ]);
    // The readonly key reads any funder's; the same figures.
    const url = "/v1/finance/funders/seller:s-1/statement?from=2026-01&to=2026-04";
    expect(await f.report(url, h.keys.readonly)).toEqual(statement);

    for (const [key, funder] of [
      [h.keys.seller, "seller:s-2"],
      [h.keys.seller, "marketplace"],
      [h.keys.seller, "seller:s-10"],
      [h.keys.otherSeller, "seller:s-1"],
    ] as const) {
      const res = await h.send({
        method: "GET",
        url: `/v1/finance/funders/${funder}/statement?from=2026-01&to=2026-04`,
        key,
      });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toMatchObject({ code: "FORBIDDEN", details: { funder } });
    }
    const support = await h.send({ method: "GET", url, key: h.keys.support });
    expect(support.statusCode).toBe(403);
    expect(support.json().error.code).toBe("FORBIDDEN");
    for (const report of [
      "/v1/finance/liability",
      "/v1/finance/breakage?from=2026-01&to=2026-01",
      "/v1/finance/verify",
    ]) {
      expect((await h.send({ method: "GET", url: report, key: h.keys.seller })).statusCode).toBe(403);
    }
  });

  it("answers CSV equal to its JSON: ?format=csv and Accept: text/csv alike, the header first", async () => {
    const reports = [
      "/v1/finance/liability",
      "/v1/finance/breakage?from=2026-01&to=2026-03",
      "/v1/finance/expiry-forecast",
      "/v1/finance/funders/seller:s-1/statement?from=2026-01&to=2026-04",
    ];
    for (const url of reports) {
      const json = await f.report(url);
      expect(json.rows.length, url).toBeGreaterThan(0);
      const asked = await h.send({
        method: "GET",
        url: `${url}${url.includes("?") ? "&" : "?"}format=csv`,
        key: h.keys.readonly,
      });
      expect(asked.statusCode, asked.body).toBe(200);
      expect(asked.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(asked.headers["content-disposition"]).toMatch(/^attachment; filename="[a-z-]+\.csv"$/);
      const accepted = await h.send({
        method: "GET",
        url,
        key: h.keys.readonly,
        headers: { accept: "text/csv" },
      });
      expect(accepted.body).toBe(asked.body);
      const { header, rows } = csvRows(asked.body);
      expect(header).toEqual(Object.keys(json.rows[0]));
      expect(rows).toEqual(
        json.rows.map((row: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])),
        ),
      );
    }
    // The query wins over the header.
    const both = await h.send({
      method: "GET",
      url: "/v1/finance/liability?format=json",
      key: h.keys.readonly,
      headers: { accept: "text/csv" },
    });
    expect(both.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("verify: a consistent ledger is ok, its postings sum to zero, and the rows' own check agrees", async () => {
    const verify = await f.report("/v1/finance/verify", h.keys.readonly);
    const movements = await h.database.db
      .selectFrom("movements")
      .select((e) => e.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(verify).toMatchObject({
      ok: true,
      violations: [],
      truncated: false,
      movements: Number(movements.n),
    });
    expect(verify.postings.total).toBe(0);
    expect(verify.postings.wallets + verify.postings.sinks + verify.postings.funders).toBe(0);
    expect(verify.postings.funders).toBeLessThan(0);
    expect(await checkLedgerInvariants(h.database.db)).toEqual([]);
  });

  it("refuses bad input naming the field", async () => {
    const refused = async (url: string, code: string, field: string) => {
      const res = await h.send({ method: "GET", url, key: h.keys.operator });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      const { error } = res.json();
      expect(error.code, url).toBe(code);
      expect(
        error.details.fields.map((x: { field: string }) => x.field),
        url,
      ).toContain(field);
      expect(error.requestId).toEqual(expect.any(String));
    };
    await refused("/v1/finance/breakage?to=2026-03", "VALIDATION_FAILED", "querystring.from");
    await refused("/v1/finance/breakage?from=2026-01", "VALIDATION_FAILED", "querystring.to");
    await refused("/v1/finance/breakage?from=2026-13&to=2026-14", "VALIDATION_FAILED", "querystring.from");
    await refused("/v1/finance/breakage?from=2026-1&to=2026-03", "VALIDATION_FAILED", "querystring.from");
    await refused("/v1/finance/breakage?from=2026-04&to=2026-03", "INVALID_MONTH_RANGE", "querystring.to");
    await refused("/v1/finance/breakage?from=2016-01&to=2026-01", "INVALID_MONTH_RANGE", "querystring.to");
    await refused("/v1/finance/liability?format=xml", "VALIDATION_FAILED", "querystring.format");
    await refused("/v1/finance/liability?kind=bonus", "VALIDATION_FAILED", "querystring.kind");
    await refused(
      "/v1/finance/funders/bank/statement?from=2026-01&to=2026-02",
      "VALIDATION_FAILED",
      "params.funder",
    );
    await refused(
      "/v1/finance/funders/seller:s-1/statement?from=2026-03&to=2026-02",
      "INVALID_MONTH_RANGE",
      "querystring.to",
    );
    // 120 months is the most one report spans.
    const decade = await h.send({
      method: "GET",
      url: "/v1/finance/breakage?from=2016-02&to=2026-01",
      key: h.keys.operator,
    });
    expect(decade.statusCode, decade.body).toBe(200);
  });
});
