import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  bonusBalance,
  credit,
  customerIds,
  expectError,
  fieldsOf,
  fullHistory,
  type Harness,
  rowCount,
} from "./routes-table.js";

/** R34: support adjusts a balance by hand, with a mandatory reason, audited with who, when and why. */
describe("POST /v1/customers/{customerId}/adjustments", () => {
  let h: Harness;
  let supportKeyId: string;
  let operatorKeyId: string;
  const nextCustomer = customerIds("adj");
  beforeAll(async () => {
    h = await httpHarness();
    const keyIdOf = async (secret: string) => {
      const principal = await h.kopilka.access.authenticate(secret);
      if (principal?.type !== "key") throw new Error("expected an API key");
      return principal.keyId;
    };
    supportKeyId = await keyIdOf(h.keys.support);
    operatorKeyId = await keyIdOf(h.keys.operator);
  });
  afterAll(async () => {
    await h.close();
  });

  const adjust = (id: string, body: Record<string, unknown>, key = h.keys.support) =>
    h.send({ method: "POST", url: `/v1/customers/${id}/adjustments`, key, body });

  it("adds points at once, and the history records who did it, when and why", async () => {
    const id = nextCustomer();
    const res = await adjust(id, { kind: "bonus", amount: 25, reason: "Compensation for ticket 4411" });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ kind: "bonus", amount: 25, reason: "Compensation for ticket 4411" });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 25, pending: 0 });
    const [item] = await fullHistory(h, id);
    expect(item).toMatchObject({
      type: "adjust",
      kind: "bonus",
      actor: supportKeyId,
      occurredAt: "2026-01-15T09:00:00.000Z",
      change: { available: 25 },
      postings: [
        { account: "funder:marketplace", amount: -25 },
        { account: "wallet:available", amount: 25 },
      ],
    });
    expect(item?.explanation.ru).toContain("Compensation for ticket 4411");
    expect(item?.explanation.en).toContain("Compensation for ticket 4411");
  });

  it("removes points with a negative amount, attributed to the operator key that asked", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    const res = await adjust(
      id,
      { kind: "bonus", amount: -40, reason: "Duplicate accrual" },
      h.keys.operator,
    );
    expect(res.statusCode).toBe(201);
    expect(await bonusBalance(h, id)).toMatchObject({ available: 60 });
    const [item] = await fullHistory(h, id);
    expect(item).toMatchObject({ type: "adjust", actor: operatorKeyId, change: { available: -40 } });
    expect(item?.explanation.en).toContain("Duplicate accrual");
  });

  it("removing more than is available → 422 INSUFFICIENT_POINTS and nothing written", async () => {
    const id = nextCustomer();
    await credit(h, id, 30);
    const movements = await rowCount(h, "movements", id);
    const res = await adjust(id, { kind: "bonus", amount: -31, reason: "Duplicate accrual" });
    expect(expectError(res, "INSUFFICIENT_POINTS").details).toEqual({
      kind: "bonus",
      requested: 31,
      available: 30,
    });
    expect(await rowCount(h, "movements", id)).toBe(movements);
    expect((await bonusBalance(h, id)).available).toBe(30);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["blank", "    "],
    ["too short", "ok"],
  ])("a %s reason → 400 naming body.reason", async (_why, reason) => {
    const id = nextCustomer();
    const res = await adjust(id, { kind: "bonus", amount: 10, ...(reason === undefined ? {} : { reason }) });
    expect(new Set(fieldsOf(res))).toEqual(new Set(["body.reason"]));
    expect(await rowCount(h, "movements", id)).toBe(0);
  });

  it("a zero adjustment → 400 naming body.amount", async () => {
    expect(
      fieldsOf(await adjust(nextCustomer(), { kind: "bonus", amount: 0, reason: "nothing at all" })),
    ).toEqual(["body.amount"]);
  });

  it("movements the clock caused are attributed to system, not to the key whose adjustment settled them", async () => {
    // Same history, two ways: a balance read settles one customer, an adjustment settles the other.
    const [read, adjusted] = [nextCustomer(), nextCustomer()];
    for (const id of [read, adjusted]) await credit(h, id, 50, { availableFrom: "2026-01-16T09:00:00Z" });
    h.clock.advanceDays(2);
    try {
      await bonusBalance(h, read);
      await adjust(read, { kind: "bonus", amount: 5, reason: "Goodwill gesture" });
      await adjust(adjusted, { kind: "bonus", amount: 5, reason: "Goodwill gesture" });
      const actorsOf = async (id: string) =>
        Object.fromEntries(
          (await fullHistory(h, id)).map((m) => [m.type, m.actor === supportKeyId ? "support key" : m.actor]),
        );
      expect(await actorsOf(read)).toEqual({
        adjust: "support key",
        make_available: "system",
        credit: operatorKeyId,
      });
      expect(await actorsOf(adjusted)).toEqual(await actorsOf(read));
    } finally {
      h.clock.advanceDays(-2);
    }
  });

  it("R34: support adjusts at most 10,000 points at once (the default); above it only an operator key may", async () => {
    const id = nextCustomer();
    for (const amount of [10_001, -10_001]) {
      const refused = await adjust(id, { kind: "bonus", amount, reason: "Goodwill after a lost parcel" });
      expect(refused.statusCode).toBe(403);
      const error = expectError(refused, "FORBIDDEN");
      expect(error.details).toMatchObject({ field: "body.amount", limit: 10_000, requested: amount });
    }
    expect(await rowCount(h, "movements", id)).toBe(0);
    const atLimit = await adjust(id, {
      kind: "bonus",
      amount: 10_000,
      reason: "Goodwill after a lost parcel",
    });
    expect(atLimit.statusCode).toBe(201);
    const operator = await adjust(
      id,
      { kind: "bonus", amount: 10_001, reason: "Goodwill after a lost parcel" },
      h.keys.operator,
    );
    expect(operator.statusCode).toBe(201);
    expect(await bonusBalance(h, id)).toMatchObject({ available: 20_001 });
  });
});
