import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRAMME_CONFIG } from "../../src/domain/orders/index.js";
import { api, type Harness, line } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/** A programme configuration tried on a cart before it takes effect, beside the version in force. */
describe("programme configuration: the dry run", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const dryRun = (body: unknown, key = h.keys.operator) =>
    h.send({ method: "POST", url: "/v1/config/programme/dry-run", key, body });
  const books10 = {
    ...DEFAULT_PROGRAMME_CONFIG,
    earning: {
      ...DEFAULT_PROGRAMME_CONFIG.earning,
      baseRateBp: {
        ...DEFAULT_PROGRAMME_CONFIG.earning.baseRateBp,
        byCategory: { ...DEFAULT_PROGRAMME_CONFIG.earning.baseRateBp.byCategory, books: 1_000 },
      },
    },
  };

  it("quotes the cart under the version in force and under the draft, with what changes, and stores nothing", async () => {
    await api(h).credit("cfg-1", "bonus", 10);
    const rows = async () =>
      (
        await sql<{ n: number }>`select count(*)::int as n from programme_config_versions`.execute(
          h.kopilka.database.db,
        )
      ).rows[0]?.n;
    const before = await rows();
    const res = await dryRun({
      config: books10,
      cart: { customerId: "cfg-1", lines: [line("books", 120_000)], paymentMethod: "other_card" },
    });
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json() as {
      current: { configVersion: number; accrual: { points: number } };
      draft: { configVersion: number; accrual: { points: number } };
      difference: { accrualPoints: number };
    };
    // 1,200.00 RUB of books less the 10 points the quote spends: 1,190.00 × 5% = 59.50 → 59 now;
    // × 10% = 119 under the draft.
    expect(answer.current.accrual.points).toBe(59);
    // Numbered as the version it would become.
    expect(answer.draft).toMatchObject({
      configVersion: answer.current.configVersion + 1,
      accrual: { points: 119 },
    });
    expect(answer.difference.accrualPoints).toBe(60);
    expect(await rows()).toBe(before);
  });

  it("refuses a draft that would not be a valid version, naming the field", async () => {
    const bad = {
      ...books10,
      earning: { ...books10.earning, baseRateBp: { ...books10.earning.baseRateBp, otherwise: -5 } },
    };
    const res = await dryRun({
      config: bad,
      cart: { customerId: "cfg-2", lines: [line("books", 120_000)], paymentMethod: "other_card" },
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain("body.config.earning.baseRateBp.otherwise");
  });
});
