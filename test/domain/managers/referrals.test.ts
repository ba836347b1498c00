import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyChange,
  DEFAULT_LEDGER_POLICY,
  emptyLedger,
  type OperationContext,
} from "../../../src/domain/ledger/index.js";
import {
  applyReferralEffect,
  type ManagerMonth,
  type ManagerReferral,
  type ReferralEffect,
  settleManagerMonth,
} from "../../../src/domain/managers/index.js";
import { assertProperty } from "../../support/property.js";

/** R24, the manager's side of referral effects and the month-end decision. */

const NOW = new Date("2026-03-10T09:00:00.000Z");

function context(now = NOW): OperationContext {
  let n = 0;
  return {
    now,
    newId: (prefix) => {
      n += 1;
      return `${prefix}_${String(n).padStart(26, "0")}`;
    },
    policy: DEFAULT_LEDGER_POLICY,
  };
}

const effect = (seq: number, points: number): ReferralEffect => ({
  type: "referral",
  seq,
  buyerId: "buyer",
  orderId: "o-1",
  points,
  firstShippedAt: NOW.toISOString(),
  placedAt: NOW.toISOString(),
});

const unsettled = (): ManagerMonth => ({
  month: "2026-03",
  purchasesKop: 0,
  referralPoints: 0,
  settledAt: null,
  qualified: null,
  thresholdKop: null,
});

describe("referral effects (R24)", () => {
  it("redelivered and reordered, the order's pending referral points are those of its latest snapshot", () => {
    assertProperty(
      fc.property(
        // The buyer's snapshots: points after each shipment or return.
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 6, maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        (points, copies, shuffle) => {
          const effects = points.map((p, i) => effect(i + 1, p));
          const deliveries = effects
            .flatMap((e, i) => Array.from({ length: copies[i] ?? 1 }, () => e))
            .map((e) => ({ e, k: shuffle.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const ctx = context();
          let ledger = emptyLedger("manager");
          let referral: ManagerReferral | undefined;
          let month = unsettled();
          for (const e of deliveries) {
            const applied = applyReferralEffect(
              { referral, month, monthPlaced: "2026-03", thresholdKop: 250_000 },
              e,
              ledger,
              ctx,
            );
            if (!applied) continue;
            referral = applied.referral;
            month = { ...month, referralPoints: month.referralPoints + applied.monthPointsDelta };
            if (applied.change) ledger = applyChange(ledger, applied.change);
          }
          // The latest snapshot applied wins; an older one arriving after it changes nothing.
          const applied = Math.max(...deliveries.map((d) => d.seq));
          expect(referral?.appliedSeq).toBe(applied);
          const expected = effects[applied - 1]?.points ?? 0;
          expect(ledger.totals.referral.pending).toBe(referral?.points);
          expect(month.referralPoints).toBe(referral?.points);
          expect(ledger.totals.referral.available + ledger.totals.referral.debt).toBe(0);
          // What the latest snapshot says, whichever of the earlier ones came.
          expect(referral?.points).toBe(expected);
        },
      ),
    );
  });

  it("month end: at the threshold the points become available, a kopeck short they are cancelled", () => {
    for (const [purchasesKop, available] of [
      [250_000, 700],
      [249_999, 0],
    ] as const) {
      const ctx = context();
      const applied = applyReferralEffect(
        { referral: undefined, month: unsettled(), monthPlaced: "2026-03", thresholdKop: 250_000 },
        effect(1, 700),
        emptyLedger("manager"),
        ctx,
      );
      if (!applied?.change) throw new Error("no credit");
      const ledger = applyChange(emptyLedger("manager"), applied.change);
      const settled = settleManagerMonth(
        { ...unsettled(), purchasesKop, referralPoints: 700 },
        [applied.referral],
        250_000,
        ledger,
        context(new Date("2026-04-01T00:00:00.000Z")),
      );
      const after = settled.change ? applyChange(ledger, settled.change) : ledger;
      expect(after.totals.referral).toMatchObject({ pending: 0, available });
      expect(settled.month).toMatchObject({ qualified: available > 0, thresholdKop: 250_000 });
      expect(settled.points).toBe(700);
    }
  });

  it("a snapshot for a month already decided: credited available if it qualified, not credited if not", () => {
    for (const qualified of [true, false]) {
      const month = {
        ...unsettled(),
        settledAt: new Date("2026-04-01T00:00:00Z"),
        qualified,
        thresholdKop: 250_000,
      };
      const applied = applyReferralEffect(
        { referral: undefined, month, monthPlaced: "2026-03", thresholdKop: 250_000 },
        effect(1, 300),
        emptyLedger("manager"),
        context(new Date("2026-04-02T00:00:00Z")),
      );
      const ledger = applied?.change
        ? applyChange(emptyLedger("manager"), applied.change)
        : emptyLedger("manager");
      expect(ledger.totals.referral).toMatchObject({ pending: 0, available: qualified ? 300 : 0 });
      expect(applied?.monthPointsDelta).toBe(0);
    }
  });
});
