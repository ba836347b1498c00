import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyInviteEffect,
  type InvitedFriend,
  type InviteEffect,
} from "../../../src/domain/invites/index.js";
import {
  applyChange,
  DEFAULT_LEDGER_POLICY,
  emptyLedger,
  type OperationContext,
} from "../../../src/domain/ledger/index.js";
import { assertProperty } from "../../support/property.js";

/** R23, the inviter's side: however the friend's effects are redelivered and reordered, the reward is applied once. */

const NOW = new Date("2026-03-10T09:00:00.000Z");

function context(): OperationContext {
  let n = 0;
  return {
    now: NOW,
    newId: (prefix) => {
      n += 1;
      return `${prefix}_${String(n).padStart(26, "0")}`;
    },
    policy: DEFAULT_LEDGER_POLICY,
  };
}

/** The friend's snapshots: registered, then (maybe) rewarded, then (maybe) clawed back. */
function snapshots(points: number, stages: 1 | 2 | 3): InviteEffect[] {
  const base = {
    type: "invite" as const,
    friendId: "friend",
    registeredAt: NOW.toISOString(),
    orderId: null,
    orderTotalKop: null,
    points: 0,
    availableFrom: null,
    expiresAt: null,
  };
  const rewarded = {
    ...base,
    orderId: "o-1",
    orderTotalKop: 350_000,
    points,
    availableFrom: new Date(NOW.getTime() + 86_400_000).toISOString(),
    expiresAt: new Date(NOW.getTime() + 366 * 86_400_000).toISOString(),
  };
  const all: InviteEffect[] = [
    { ...base, seq: 1, status: "registered" },
    { ...rewarded, seq: 2, status: "rewarded" },
    { ...rewarded, seq: 3, status: "clawed_back" },
  ];
  return all.slice(0, stages);
}

describe("invite effects (R23)", () => {
  it("delivered 1-5 times each, in any order, the inviter is credited the reward at most once and ends as the last snapshot says", () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }),
        fc.infiniteStream(fc.nat()),
        (points, stages, copies, shuffle) => {
          const effects = snapshots(points, stages);
          const deliveries = effects.flatMap((e, i) => Array.from({ length: copies[i] ?? 1 }, () => e));
          const order = [...deliveries]
            .map((e) => ({ e, k: shuffle.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const ctx = context();
          let ledger = emptyLedger("inviter");
          let friend: InvitedFriend | undefined;
          let credited = 0;
          for (const effect of order) {
            const applied = applyInviteEffect(friend, effect, ledger, ctx);
            if (!applied) continue;
            friend = applied.friend;
            if (applied.change) {
              ledger = applyChange(ledger, applied.change);
              credited += applied.change.movements
                .filter((m) => m.type === "credit")
                .reduce((sum, m) => sum + (m.postings.find((p) => p.amount > 0)?.amount ?? 0), 0);
            }
          }
          const last = effects[effects.length - 1] as InviteEffect;
          expect(friend?.appliedSeq).toBe(last.seq);
          expect(friend?.status).toBe(last.status);
          expect(credited).toBeLessThanOrEqual(points);
          const held = ledger.totals.bonus.pending + ledger.totals.bonus.available;
          expect(held).toBe(last.status === "rewarded" ? points : 0);
        },
      ),
    );
  });
});
