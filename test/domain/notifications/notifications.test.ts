import { describe, expect, it } from "vitest";
import { explainClawback } from "../../../src/domain/ledger/explain.js";
import {
  explainOrderShipped,
  explainReferralCancelled,
  type Movement,
} from "../../../src/domain/ledger/index.js";
import {
  notificationIdOfMovement,
  notificationOfMovement,
  renderNotification,
} from "../../../src/domain/notifications/index.js";
import { categoryNamesOf } from "../../../src/domain/orders/config.js";

/** R31: which movements notify, about how many points, and what the message says. */

const movement = (explanation: Movement["explanation"], type: Movement["type"] = "credit"): Movement => ({
  movementId: "mov_01JD0000000000000000000001",
  customerId: "c-1",
  kind: "bonus",
  type,
  postings: [],
  lotDeltas: [],
  reference: "o-1",
  explanation,
  occurredAt: new Date("2026-03-01T00:00:00Z"),
  causedBy: "request",
});

describe("notifications of movements (R31)", () => {
  it("a clawback is about everything the return took: cancelled pending, taken available, and the debt", () => {
    expect(notificationOfMovement(movement(explainClawback(10, 20, 5, "o-1", []), "clawback"))).toEqual({
      type: "points.clawed_back",
      amount: 35,
    });
  });

  it("a shipped order is about its points; a hold, a release and a debt offset notify nothing", () => {
    expect(notificationOfMovement(movement(explainOrderShipped("o-1", 67, 0, [])))).toEqual({
      type: "points.credited",
      amount: 67,
    });
    for (const explanation of [
      { code: "hold", params: [5, "bonus", "h", "2026-03-02T00:00:00.000Z"] },
      { code: "release", params: [5, "h", false] },
      { code: "debt_offset", params: [5, 0] },
    ] as Movement["explanation"][])
      expect(notificationOfMovement(movement(explanation))).toBeNull();
  });

  it("the id is the movement's digits", () => {
    expect(notificationIdOfMovement("mov_01JD0000000000000000000001")).toBe("ntf_01JD0000000000000000000001");
  });

  it("a settled manager month says how it was decided, an expiry notice names its lot and threshold", () => {
    const context = { categoryNames: categoryNamesOf([]), timeZone: "Europe/Moscow" };
    const base = {
      notificationId: "ntf_1",
      customerId: "c-1",
      kind: "referral" as const,
      reference: null,
      movementId: null,
      occurredAt: new Date("2026-04-01T00:00:00Z"),
      createdAt: new Date("2026-04-01T00:00:00Z"),
    };
    const settled = renderNotification(
      {
        ...base,
        type: "manager.month_settled",
        amount: 120,
        lotId: null,
        thresholdDays: null,
        lotExpiresAt: null,
        explanation: explainReferralCancelled(120, "2026-03", 100_000, 250_000),
      },
      context,
    );
    expect(settled).toMatchObject({ decision: "cancelled", expiry: null, amount: 120 });
    expect(settled.text.ru).toContain("отменены");
    const notice = renderNotification(
      {
        ...base,
        type: "points.expiring",
        amount: 40,
        lotId: "lot_1",
        thresholdDays: 7,
        lotExpiresAt: new Date("2026-04-07T21:00:00Z"),
        explanation: { code: "expiring_soon", params: [40, "2026-04-07T21:00:00.000Z", 7] },
      },
      context,
    );
    expect(notice).toMatchObject({
      decision: null,
      expiry: { lotId: "lot_1", expiresAt: "2026-04-07T21:00:00.000Z", thresholdDays: 7 },
    });
    expect(notice.text).toEqual({
      ru: "40 баллов сгорят 08.04.2026, меньше чем через 7 дней: потратьте их до этого дня",
      en: "40 points expire on 8 Apr 2026, in less than 7 days: spend them before then",
    });
  });
});
