import {
  applyReferralEffect,
  type Manager,
  type ManagerMonth,
  type ReferralEffect,
  settleManagerMonth,
} from "../../domain/managers/index.js";
import { managerPolicyOf, versionInForce } from "../../domain/orders/index.js";
import { calendarMonth, monthContaining, previousMonth } from "../../domain/savings/index.js";
import { appliedEffect, type StoredEffect } from "../effects/effect-relay.js";
import type { CustomerWork, GroupCommitter } from "../group-commit.js";
import { keyedWork } from "../keyed-work.js";
import { ledgerWrite, type Outcome, type WriteRequest } from "../ledger-service.js";
import { runMonthOnce } from "../monthly-run.js";
import { type Clock, type IdGenerator, programmesOf, referralKey } from "../ports.js";
import type { ProgrammeRules } from "../programme-rules.js";
import type { RunClaims } from "../scheduled-work.js";

/** Who owns a promo code, and whether they are a manager now. */
export interface PromoCodeOwner {
  customerId: string;
  active: boolean;
}

/** What the manager use cases read outside a customer's work. */
export interface ManagerStore {
  codeOwners(codes: readonly string[]): Promise<Map<string, PromoCodeOwner>>;
  /** Up to `limit` managers with `month` not settled, after `after` in customer order: a page of the run. */
  unsettledAfter(month: string, after: string | null, limit: number): Promise<string[]>;
  /** The manager row and its months, the latest first (at most `limit`). */
  managerView(
    customerId: string,
    limit: number,
  ): Promise<{ manager: Manager | undefined; months: ManagerMonth[] }>;
}

export const MANAGER_MONTH_TASK = "manager_month";

export interface ManagerView {
  customerId: string;
  promoCode: string;
  status: Manager["status"];
  grantedBy: string;
  grantedAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
}

function managerView(m: Manager): ManagerView {
  return {
    customerId: m.customerId,
    promoCode: m.promoCode,
    status: m.status,
    grantedBy: m.grantedBy,
    grantedAt: m.grantedAt.toISOString(),
    revokedBy: m.revokedBy,
    revokedAt: m.revokedAt?.toISOString() ?? null,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: string }).code === "23505";
}

/** R24 manager programme: status and codes, the manager's side of referrals, and the month-end run. */
export class ManagerService {
  constructor(
    private readonly store: ManagerStore,
    private readonly committer: GroupCommitter,
    private readonly claims: RunClaims,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly rules: ProgrammeRules,
    /** A fresh promo code when the operator names none. */
    private readonly newCode: () => string,
    /** The operator's IANA time zone (KOPILKA_TIME_ZONE): months end at midnight there. */
    private readonly timeZone: string,
    private readonly pageSize = 2_000,
  ) {}

  /**
   * R24: an operator grants manager status, with the promo code given or a generated one. A code is
   * one manager's for good (another's is `PROMO_CODE_TAKEN`; a manager's code does not change:
   * `MANAGER_CODE_FIXED`); granting an active manager again answers it as it is; a revoked manager
   * granted again gets its code back. Audited with who, when and the status before.
   */
  async grant(customerId: string, promoCode: string | undefined, request: WriteRequest) {
    const code = promoCode ?? this.newCode();
    const owner = (await this.store.codeOwners([code])).get(code);
    const taken = {
      ok: false as const,
      code: "PROMO_CODE_TAKEN",
      message: `promo code ${code} belongs to another customer`,
      details: { field: "body.promoCode" },
    };
    const auditId = this.ids.newId("aud");
    const work = keyedWork<ManagerView>(
      customerId,
      "grant_manager",
      request,
      { programmes: { manager: true } },
      (state, ctx) => {
        const current = programmesOf(state).manager;
        if (owner && owner.customerId !== customerId) return { outcome: taken };
        if (current && promoCode !== undefined && current.promoCode !== promoCode) {
          return {
            outcome: {
              ok: false,
              code: "MANAGER_CODE_FIXED",
              message: `customer ${customerId} has promo code ${current.promoCode}; a manager's code does not change`,
              details: { field: "body.promoCode", promoCode: current.promoCode },
            } satisfies Outcome<ManagerView>,
          };
        }
        if (current?.status === "active") return { outcome: { ok: true, value: managerView(current) } };
        const manager: Manager = {
          customerId,
          promoCode: current?.promoCode ?? code,
          status: "active",
          grantedBy: request.actor,
          grantedAt: ctx.now,
          revokedBy: null,
          revokedAt: null,
        };
        return {
          outcome: { ok: true, value: managerView(manager) },
          write: {
            programmes: { manager: { manager, auditId, action: "managers.grant", before: current ?? null } },
          },
        };
      },
    );
    try {
      return await this.committer.submit(work);
    } catch (error) {
      // Two customers granted the same new code at once: the lookup's primary key let one have it.
      if (isUniqueViolation(error)) return { ...taken, replayed: false, requestId: request.requestId };
      throw error;
    }
  }

  /**
   * R24: an operator revokes manager status. Orders placed with the code afterwards earn nothing
   * (`manager_revoked`); points already pending are decided at month end as usual.
   */
  revoke(customerId: string, request: WriteRequest) {
    const auditId = this.ids.newId("aud");
    return this.committer.submit(
      keyedWork<ManagerView>(
        customerId,
        "revoke_manager",
        request,
        { programmes: { manager: true } },
        (state, ctx) => {
          const current = programmesOf(state).manager;
          if (!current) {
            return {
              outcome: {
                ok: false,
                code: "MANAGER_NOT_FOUND",
                message: `customer ${customerId} is not a manager`,
                details: { customerId },
              } satisfies Outcome<ManagerView>,
            };
          }
          if (current.status === "revoked") return { outcome: { ok: true, value: managerView(current) } };
          const manager: Manager = {
            ...current,
            status: "revoked",
            revokedBy: request.actor,
            revokedAt: ctx.now,
          };
          return {
            outcome: { ok: true, value: managerView(manager) },
            write: {
              programmes: { manager: { manager, auditId, action: "managers.revoke", before: current } },
            },
          };
        },
      ),
    );
  }

  /**
   * R24: the manager, this month's own purchases against the threshold and the referral points
   * pending, and the months before (latest first). Undefined: not a manager.
   */
  async view(customerId: string) {
    const now = this.clock.now();
    const month = monthContaining(now, this.timeZone).month;
    const { manager, months } = await this.store.managerView(customerId, 13);
    if (!manager) return undefined;
    const thresholdKop = managerPolicyOf(
      versionInForce(await this.rules.versions(), now).config,
    ).ownPurchasesThresholdKop;
    const current = months.find((m) => m.month === month);
    return {
      ...managerView(manager),
      thisMonth: {
        month,
        purchasesKop: current?.purchasesKop ?? 0,
        thresholdKop,
        referralPointsPending: current?.referralPoints ?? 0,
        thresholdReached: (current?.purchasesKop ?? 0) >= thresholdKop,
      },
      months: months
        .filter((m) => m.month !== month)
        .map((m) => ({
          month: m.month,
          purchasesKop: m.purchasesKop,
          referralPoints: m.referralPoints,
          settledAt: m.settledAt?.toISOString() ?? null,
          qualified: m.qualified,
          thresholdKop: m.thresholdKop,
        })),
    };
  }

  /** R24, the manager's side of a referral effect: the manager's own work, applying it once. */
  async effectWork(effect: StoredEffect & { payload: ReferralEffect }): Promise<CustomerWork<void>> {
    const { payload } = effect;
    const month = monthContaining(new Date(payload.placedAt), this.timeZone).month;
    const thresholdKop = await this.thresholdOf(month);
    return {
      customerId: effect.targetCustomerId,
      load: {
        programmes: {
          referrals: [{ buyerId: payload.buyerId, orderId: payload.orderId }],
          managerMonths: [month],
        },
      },
      run: (state, ctx) => {
        const programmes = programmesOf(state);
        const referral = programmes.referrals.get(referralKey(payload.buyerId, payload.orderId));
        const applied = applyReferralEffect(
          {
            referral,
            month: programmes.managerMonths.get(referral?.month ?? month),
            monthPlaced: month,
            thresholdKop,
          },
          payload,
          state.ledger,
          ctx,
        );
        if (!applied) return { result: undefined };
        return appliedEffect(state, applied.change, {
          referrals: [applied.referral],
          monthDeltas: [
            { month: applied.referral.month, purchasesKop: 0, referralPoints: applied.monthPointsDelta },
          ],
        });
      },
    };
  }

  /** R24: the threshold of the programme version in force on the month's last day. */
  private async thresholdOf(month: string): Promise<number> {
    const lastInstant = new Date(calendarMonth(month, this.timeZone).end.getTime() - 1);
    return managerPolicyOf(versionInForce(await this.rules.versions(), lastInstant).config)
      .ownPurchasesThresholdKop;
  }

  /** R24: settles last month on the scheduler's first round after it ends. */
  settleDueMonth(claimer: string) {
    return this.settleMonth(previousMonth(monthContaining(this.clock.now(), this.timeZone).month), claimer);
  }

  /**
   * R24: settles `month` (YYYY-MM, over) for every manager with a month row: claimed once per month
   * across instances, and decided once per (manager, month) under the manager's lock (`settled_at`),
   * so a month run twice — or resumed after a crash — decides once.
   */
  async settleMonth(month: string, claimer: string) {
    if (calendarMonth(month, this.timeZone).end.getTime() > this.clock.now().getTime())
      throw new Error(`month ${month} is not over yet`);
    return runMonthOnce(
      this.claims,
      MANAGER_MONTH_TASK,
      month,
      claimer,
      () => this.clock.now(),
      () => this.settleAll(month),
      (done) => done.customers,
    );
  }

  /** Every manager's `month`, page by page, without a claim (a claimed run, or a test's second run). */
  async settleAll(month: string): Promise<{ customers: number; madeAvailable: number; cancelled: number }> {
    const thresholdKop = await this.thresholdOf(month);
    let after: string | null = null;
    const totals = { customers: 0, madeAvailable: 0, cancelled: 0 };
    for (;;) {
      const page = await this.store.unsettledAfter(month, after, this.pageSize);
      if (page.length === 0) return totals;
      const done = await this.committer.submitAll(page.map((c) => this.settleWork(c, month, thresholdKop)));
      for (const d of done) {
        if (!d) continue;
        totals.customers += 1;
        if (d.qualified) totals.madeAvailable += d.points;
        else totals.cancelled += d.points;
      }
      after = page[page.length - 1] as string;
    }
  }

  private settleWork(
    customerId: string,
    month: string,
    thresholdKop: number,
  ): CustomerWork<{ qualified: boolean; points: number } | undefined> {
    return {
      customerId,
      load: { programmes: { managerMonths: [month], referralsOfMonth: month } },
      run: (state, ctx) => {
        const programmes = programmesOf(state);
        const row = programmes.managerMonths.get(month);
        if (!row || row.settledAt) return { result: undefined };
        const referrals = [...programmes.referrals.values()].filter((r) => r.month === month);
        const settled = settleManagerMonth(row, referrals, thresholdKop, state.ledger, ctx);
        return {
          result: { qualified: settled.month.qualified === true, points: settled.points },
          write: {
            actor: "system",
            ledger: settled.change ? ledgerWrite(state.ledger, settled.change) : undefined,
            programmes: { settledMonths: [settled.month] },
          },
        };
      },
    };
  }
}
