import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  bonusBalance,
  createHold,
  credit,
  customerIds,
  expectError,
  expectSuccess,
  fullHistory,
  type Harness,
  openHold,
  rowCount,
  settleHold,
} from "./routes-table.js";

/** R20 through HTTP: create → capture | release | time-out, each step idempotent. */
describe("holds: POST …/holds, …/holds/{holdId}/capture, …/holds/{holdId}/release", () => {
  let h: Harness;
  const nextCustomer = customerIds("hold");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("create → capture: held then spent; a second capture is a no-op 200", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    const created = await openHold(h, id, "order-1", 30);
    expect(created).toEqual({
      holdId: "order-1",
      kind: "bonus",
      amount: 30,
      state: "active",
      releaseReason: null,
      expiresAt: "2026-01-15T09:30:00.000Z", // R20: 30 minutes
    });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 70, held: 30 });

    const captured = expectSuccess(await settleHold(h, id, "order-1", "capture"), 200);
    expect(captured).toEqual({ ...created, state: "captured" });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 70, held: 0 });
    const movements = await rowCount(h, "movements", id);

    const again = await settleHold(h, id, "order-1", "capture");
    expect(expectSuccess(again, 200)).toEqual(captured);
    expect(again.response.headers.get("idempotent-replayed")).toBeNull(); // a new request, not a replay
    expect(await rowCount(h, "movements", id)).toBe(movements);
    expect(await bonusBalance(h, id)).toMatchObject({ available: 70, held: 0 });
    expect((await fullHistory(h, id)).map((m) => m.type)).toEqual(["capture", "hold", "credit"]);
  });

  it("create → release: the points come back; a second release is a no-op 200", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    const released = expectSuccess(await settleHold(h, id, "order-1", "release"), 200);
    expect(released).toMatchObject({
      holdId: "order-1",
      state: "released",
      releaseReason: "requested",
    });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 100, held: 0 });
    const movements = await rowCount(h, "movements", id);

    expect(expectSuccess(await settleHold(h, id, "order-1", "release"), 200)).toEqual(released);
    expect(await rowCount(h, "movements", id)).toBe(movements);
    const [release] = await fullHistory(h, id);
    expect(release).toMatchObject({
      type: "release",
      reference: "order-1",
      change: { available: 30, held: -30, pending: 0, debt: 0 },
    });
  });

  it("capture after the 30-minute time-out → 409 HOLD_EXPIRED, and the points are available again", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    h.clock.advanceSeconds(30 * 60);
    try {
      const res = await settleHold(h, id, "order-1", "capture");
      expect(expectError(res, "HOLD_EXPIRED").details).toEqual({
        holdId: "order-1",
        expiredAt: "2026-01-15T09:30:00.000Z",
      });
      expect(await bonusBalance(h, id)).toMatchObject({ available: 100, held: 0 });
      expectError(await settleHold(h, id, "order-1", "release"), "HOLD_EXPIRED");
      const [timeout] = await fullHistory(h, id);
      expect(timeout).toMatchObject({
        type: "release",
        actor: "system",
        change: { available: 30, held: -30 },
      });
    } finally {
      h.clock.advanceSeconds(-30 * 60);
    }
  });

  it("capture one second before the time-out still succeeds", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    h.clock.advanceSeconds(30 * 60 - 1);
    try {
      expect(expectSuccess(await settleHold(h, id, "order-1", "capture"), 200).state).toBe("captured");
    } finally {
      h.clock.advanceSeconds(-(30 * 60 - 1));
    }
  });

  it("a hold's own timeoutSeconds replaces the default", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    const created = await openHold(h, id, "order-1", 30, { timeoutSeconds: 60 });
    expect(created.expiresAt).toBe("2026-01-15T09:01:00.000Z");
    h.clock.advanceSeconds(61);
    try {
      expectError(await settleHold(h, id, "order-1", "capture"), "HOLD_EXPIRED");
    } finally {
      h.clock.advanceSeconds(-61);
    }
  });

  it("release of a captured hold → 409 HOLD_NOT_ACTIVE (refund it instead)", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    expectSuccess(await settleHold(h, id, "order-1", "capture"), 200);
    const movements = await rowCount(h, "movements", id);
    const error = expectError(await settleHold(h, id, "order-1", "release"), "HOLD_NOT_ACTIVE");
    expect(error.details).toEqual({ holdId: "order-1", state: "captured" });
    expect(await rowCount(h, "movements", id)).toBe(movements);
    expect(await bonusBalance(h, id)).toMatchObject({ available: 70, held: 0 });
  });

  it("capture of a released hold → 409 HOLD_NOT_ACTIVE", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    expectSuccess(await settleHold(h, id, "order-1", "release"), 200);
    const error = expectError(await settleHold(h, id, "order-1", "capture"), "HOLD_NOT_ACTIVE");
    expect(error.details).toEqual({ holdId: "order-1", state: "released" });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 100, held: 0 });
  });

  it.each(["capture", "release"] as const)("%s of an unknown hold → 404 HOLD_NOT_FOUND", async (action) => {
    const id = nextCustomer();
    await credit(h, id, 100);
    expect(expectError(await settleHold(h, id, "nope", action), "HOLD_NOT_FOUND").details).toEqual({
      holdId: "nope",
    });
  });

  it("another customer's hold is unknown to this customer", async () => {
    const owner = nextCustomer();
    const other = nextCustomer();
    await credit(h, owner, 100);
    await openHold(h, owner, "order-1", 30);
    expectError(await settleHold(h, other, "order-1", "capture"), "HOLD_NOT_FOUND");
    expect(await bonusBalance(h, owner)).toMatchObject({ held: 30 });
  });

  it("a second hold with the same id → 409 HOLD_ALREADY_EXISTS", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    const res = await createHold(h, id, { holdId: "order-1", kind: "bonus", amount: 10 });
    expectError(res, "HOLD_ALREADY_EXISTS");
    expect(await bonusBalance(h, id)).toMatchObject({ available: 70, held: 30 });
  });

  it("holding more than is available → 422 INSUFFICIENT_POINTS; held points are not available", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 80);
    const res = await createHold(h, id, { holdId: "order-2", kind: "bonus", amount: 30 });
    expect(expectError(res, "INSUFFICIENT_POINTS").details).toEqual({
      kind: "bonus",
      requested: 30,
      available: 20,
    });
  });

  it("R4: a hold takes the soonest-expiring lot first", async () => {
    const id = nextCustomer();
    await credit(h, id, 30, { expiresAt: "2026-01-25T09:00:00Z" });
    await credit(h, id, 100, { expiresAt: "2026-12-01T09:00:00Z" });
    expect((await bonusBalance(h, id)).expiringSoon.amount).toBe(30);
    await openHold(h, id, "order-1", 30);
    expect(await bonusBalance(h, id)).toMatchObject({
      available: 100,
      held: 30,
      expiringSoon: { amount: 0, nearestDate: null },
    });
  });
});
