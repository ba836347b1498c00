import type { CategoryNames, LedgerPolicy } from "../domain/ledger/index.js";
import {
  categoryNamesOf,
  type LifecyclePolicy,
  savingsCashbackOf,
  savingsRateOf,
  versionInForce,
} from "../domain/orders/index.js";
import type { ConfigVersionRecord } from "./ports.js";

/**
 * Where the ledger's policy (R3 expiry, R15 grace, R20 hold time-out) comes from at an instant, and
 * the category names explanations are rendered with (R33, per programme version).
 */
export interface PolicySource {
  ledgerPolicy(at: Date): Promise<LedgerPolicy>;
  categoryNames(): Promise<CategoryNames>;
}

/** A fixed policy and the default category names. */
export function fixedPolicy(policy: LedgerPolicy): PolicySource {
  return { ledgerPolicy: async () => policy, categoryNames: async () => categoryNamesOf([]) };
}

export function ledgerPolicyOf(lifecycle: LifecyclePolicy, expiringWithinDays: number): LedgerPolicy {
  return {
    expiryDays: lifecycle.expiryDays,
    refundGraceDays: lifecycle.refundGraceDays,
    holdTimeoutSeconds: lifecycle.holdTimeoutSeconds,
    expiringWithinDays,
  };
}

/**
 * The programme's configuration versions, read through a short cache: every write needs the
 * version in force, and versions change rarely. A version added here is seen at once; one added by
 * another instance within `ttlMs`.
 */
export class ProgrammeRules implements PolicySource {
  private cached: { at: number; versions: ConfigVersionRecord[] } | undefined;

  constructor(
    private readonly load: () => Promise<ConfigVersionRecord[]>,
    private readonly expiringWithinDays: number,
    private readonly ttlMs = 5_000,
  ) {}

  async versions(): Promise<ConfigVersionRecord[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.ttlMs)
      this.cached = { at: now, versions: await this.load() };
    return this.cached.versions;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  async categoryNames(): Promise<CategoryNames> {
    return categoryNamesOf(await this.versions());
  }

  /**
   * R25: the yearly savings rate and the cashback rate of the version in force at `at`, basis points,
   * and the days the points it credits then live (R3).
   */
  async savingsPolicy(at: Date): Promise<{ annualRateBp: number; cashbackBp: number; expiryDays: number }> {
    const { config } = versionInForce(await this.versions(), at);
    return {
      annualRateBp: savingsRateOf(config),
      cashbackBp: savingsCashbackOf(config),
      expiryDays: config.lifecycle.expiryDays,
    };
  }

  async ledgerPolicy(at: Date): Promise<LedgerPolicy> {
    return ledgerPolicyOf(
      versionInForce(await this.versions(), at).config.lifecycle,
      this.expiringWithinDays,
    );
  }
}
