import {
  categoryName,
  DEFAULT_EARNING_CONFIG,
  type EarningConfig,
  type Problem,
  validateEarningConfig,
} from "../checkout/index.js";
import { DEFAULT_INVITE_POLICY, type InvitePolicy, validateInvitePolicy } from "../invites/types.js";
import type { CategoryNames } from "../ledger/index.js";
import { DEFAULT_MANAGER_POLICY, type ManagerPolicy, validateManagerPolicy } from "../managers/types.js";
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy, validateReviewPolicy } from "../reviews/types.js";
import {
  DEFAULT_SAVINGS_CASHBACK_BP,
  DEFAULT_SAVINGS_RATE_BP,
  MAX_SAVINGS_CASHBACK_BP,
  MAX_SAVINGS_RATE_BP,
} from "../savings/index.js";

/** The lifecycle numbers of rules.md that an operator may change, each with its rule. */
export interface LifecyclePolicy {
  /** R13: an accrual becomes available this many hours after the order ships. Default 24. */
  readonly pendingDelayHours: number;
  /** R3: a lot expires this many days after it becomes available. Default 365. */
  readonly expiryDays: number;
  /** R20: points held for an unpaid order are released after this many seconds. Default 1800. */
  readonly holdTimeoutSeconds: number;
  /** R15: points refunded into an expired lot live this many more days. Default 30. */
  readonly refundGraceDays: number;
}

/** R25: the savings account's numbers. */
export interface SavingsPolicy {
  /** R25: the yearly interest rate in basis points (1200 = 12%), from 0 to 1800. Default 1200. */
  readonly annualRateBp: number;
  /**
   * R25, the variant: cashback on purchases paid from the savings account, basis points of the money
   * paid (300 = 3%), from 0 to 1000, for customers whose mechanic is `cashback`. Default 300; versions
   * made before it existed have none and use the default.
   */
  readonly cashbackBp?: number | undefined;
}

/** Everything that decides what an order earns and may spend: one version of the programme. */
export interface ProgrammeConfig {
  readonly earning: EarningConfig;
  readonly lifecycle: LifecyclePolicy;
  /** R25; versions made before it existed have none and pay the default rate. */
  readonly savings?: SavingsPolicy | undefined;
  /** R22 review rewards; versions stored before reviews existed have none and use the defaults. */
  readonly reviews?: ReviewPolicy | undefined;
  /** R23 invite rewards; absent: the defaults. */
  readonly invites?: InvitePolicy | undefined;
  /** R24 manager programme; absent: the defaults. */
  readonly managers?: ManagerPolicy | undefined;
}

/** R23: the invite rewards of a programme version. */
export function invitePolicyOf(config: ProgrammeConfig): InvitePolicy {
  return config.invites ?? DEFAULT_INVITE_POLICY;
}

/** R24: the manager programme's numbers in a programme version. */
export function managerPolicyOf(config: ProgrammeConfig): ManagerPolicy {
  return config.managers ?? DEFAULT_MANAGER_POLICY;
}

/** R22: the review rewards of a programme version. */
export function reviewPolicyOf(config: ProgrammeConfig): ReviewPolicy {
  return config.reviews ?? DEFAULT_REVIEW_POLICY;
}

export const DEFAULT_PROGRAMME_CONFIG: ProgrammeConfig = {
  earning: DEFAULT_EARNING_CONFIG,
  lifecycle: { pendingDelayHours: 24, expiryDays: 365, holdTimeoutSeconds: 1800, refundGraceDays: 30 },
  savings: { annualRateBp: DEFAULT_SAVINGS_RATE_BP, cashbackBp: DEFAULT_SAVINGS_CASHBACK_BP },
  reviews: DEFAULT_REVIEW_POLICY,
  invites: DEFAULT_INVITE_POLICY,
  managers: DEFAULT_MANAGER_POLICY,
};

/** R25: the yearly savings rate a programme version sets (the default when it sets none). */
export function savingsRateOf(config: ProgrammeConfig): number {
  return config.savings?.annualRateBp ?? DEFAULT_SAVINGS_RATE_BP;
}

/** R25: the cashback rate a programme version sets (the default when it sets none). */
export function savingsCashbackOf(config: ProgrammeConfig): number {
  return config.savings?.cashbackBp ?? DEFAULT_SAVINGS_CASHBACK_BP;
}

/** A version in force from `effectiveFrom` until the next one; version 0 is the defaults. */
export interface ConfigVersion {
  readonly version: number;
  readonly effectiveFrom: Date;
  readonly config: ProgrammeConfig;
}

export const DEFAULT_CONFIG_VERSION: ConfigVersion = {
  version: 0,
  effectiveFrom: new Date(0),
  config: DEFAULT_PROGRAMME_CONFIG,
};

/** The version in force at `at`: the latest whose effectiveFrom is not after it. */
export function versionInForce(versions: readonly ConfigVersion[], at: Date): ConfigVersion {
  let best = DEFAULT_CONFIG_VERSION;
  for (const v of versions) {
    if (v.effectiveFrom.getTime() <= at.getTime() && v.version > best.version) best = v;
  }
  return best;
}

/** R33: category names as each programme version has them (the defaults for a version not listed). */
export function categoryNamesOf(versions: readonly ConfigVersion[]): CategoryNames {
  return (configVersion, category) => {
    const version = versions.find((v) => v.version === configVersion) ?? DEFAULT_CONFIG_VERSION;
    return categoryName(version.config.earning, category);
  };
}

const LIFECYCLE_LIMITS: Record<keyof LifecyclePolicy, [number, number]> = {
  pendingDelayHours: [0, 24 * 90],
  expiryDays: [1, 3650],
  holdTimeoutSeconds: [60, 7 * 86_400],
  refundGraceDays: [0, 365],
};

export function validateProgrammeConfig(config: ProgrammeConfig): Problem[] {
  const problems = validateEarningConfig(config.earning).map((p) => ({ ...p, field: `earning.${p.field}` }));
  for (const [name, [min, max]] of Object.entries(LIFECYCLE_LIMITS)) {
    const value = config.lifecycle[name as keyof LifecyclePolicy];
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push({ field: `lifecycle.${name}`, message: `must be a whole number from ${min} to ${max}` });
    }
  }
  const savingsLimits = [
    ["annualRateBp", config.savings?.annualRateBp, MAX_SAVINGS_RATE_BP],
    ["cashbackBp", config.savings?.cashbackBp, MAX_SAVINGS_CASHBACK_BP],
  ] as const;
  for (const [name, value, max] of savingsLimits) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > max)) {
      problems.push({ field: `savings.${name}`, message: `must be a whole number from 0 to ${max}` });
    }
  }
  if (config.reviews)
    for (const p of validateReviewPolicy(config.reviews))
      problems.push({ field: `reviews.${p.field}`, message: p.message });
  if (config.invites)
    for (const p of validateInvitePolicy(config.invites))
      problems.push({ field: `invites.${p.field}`, message: p.message });
  if (config.managers)
    for (const p of validateManagerPolicy(config.managers))
      problems.push({ field: `managers.${p.field}`, message: p.message });
  return problems;
}
