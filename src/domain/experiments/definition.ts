import { MAX_MULTIPLIER_BP } from "../campaigns/definition.js";
import { checkIntegerRange, checkNonEmptyString, type Problem } from "../checkout/problems.js";
import { BASIS_POINTS_PER_UNIT } from "../kinds.js";
import { MAX_SAVINGS_CASHBACK_BP } from "../savings/cashback.js";
import { MAX_SAVINGS_RATE_BP } from "../savings/interest.js";
import type { LocalizedText } from "../text.js";

/**
 * R30: an experiment, as an operator defines it. Customers (optionally only a segment's, R29) are
 * split into groups by a hash of the experiment and the customer (assignment.ts); each group but a
 * holdout gets a variant of one mechanic, and the report (report.ts) compares the groups with the
 * control.
 *
 * Roles:
 * - `control`: exactly one; the baseline every other group is compared with. It has a variant — the
 *   terms the treatments are measured against (usually the programme's current ones).
 * - `treatment`: a variant being tested.
 * - `holdout`: at most one, and without a variant: its customers are treated exactly as customers
 *   outside the experiment are (the programme's standing rules: their own R25 savings terms, the
 *   campaign's own effect). It is a group like the others for the split and the report; it shows what
 *   the experiment's own setting of the mechanic does against leaving the customer alone.
 */

/** The mechanic an experiment varies; every group's variant must be of it. */
export type ExperimentMechanic =
  /** R25: what the savings account earns — interest at some yearly rate, or cashback. */
  | { readonly type: "savings" }
  /** R26: the multiplier of one campaign's `rate_multiplier` effect. */
  | { readonly type: "campaign_multiplier"; readonly campaignId: string };

export type ExperimentVariant =
  /** R25 interest at this yearly rate, basis points (1,200 = 12%). */
  | { readonly type: "interest"; readonly annualRateBp: number }
  /** R25 cashback at this rate of the money paid from the savings account, basis points. */
  | { readonly type: "cashback"; readonly cashbackBp: number }
  /** R26: the campaign's category-rate multiplier, basis points (20,000 = ×2; 10,000 = ×1, nothing added). */
  | { readonly type: "campaign_multiplier"; readonly multiplierBp: number };

/** The variant types each mechanic admits. */
const VARIANTS_OF: Record<ExperimentMechanic["type"], readonly ExperimentVariant["type"][]> = {
  savings: ["interest", "cashback"],
  campaign_multiplier: ["campaign_multiplier"],
};

export const GROUP_ROLES = ["control", "treatment", "holdout"] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

export interface ExperimentGroup {
  readonly groupId: string;
  /**
   * The share of the experiment's customers, basis points of 10,000; the groups' weights sum to
   * exactly 10,000. They are also the group's bucket range (assignment.ts): the order of the list
   * matters, see there what a change of weights moves.
   */
  readonly weightBp: number;
  readonly role: GroupRole;
  /** What the group's customers get; null for, and only for, a holdout. */
  readonly variant: ExperimentVariant | null;
}

/**
 * What the groups are balanced on: each customer's value of these, taken from data from before the
 * experiment started, makes a stratum, and the split is checked within each (assignment.ts).
 */
export const STRATUM_DIMENSIONS = ["aov_band", "order_frequency", "financial_products"] as const;
export type StratumDimension = (typeof STRATUM_DIMENSIONS)[number];

export interface ExperimentDefinition {
  readonly name: LocalizedText;
  readonly mechanic: ExperimentMechanic;
  /** In the order that gives them their bucket ranges. */
  readonly groups: readonly ExperimentGroup[];
  /** R29: only members of this segment take part; null: every customer does. */
  readonly segmentId: string | null;
  /** The dimensions to check the balance of the groups on; null: none. */
  readonly strata: readonly StratumDimension[] | null;
  /** The window, instants: from `startsAt` (inclusive) to `endsAt` (exclusive). */
  readonly startsAt: Date;
  readonly endsAt: Date;
}

/** Fewer than two groups compare nothing; more than ten leave each too few customers to tell apart. */
export const MIN_GROUPS = 2;
export const MAX_GROUPS = 10;

function checkVariant(
  problems: Problem[],
  field: string,
  mechanic: ExperimentMechanic,
  variant: ExperimentVariant,
): void {
  const allowed = VARIANTS_OF[mechanic.type];
  if (!allowed.includes(variant.type)) {
    problems.push({
      field: `${field}.type`,
      message: `a ${mechanic.type} experiment's variants are ${allowed.map((t) => `"${t}"`).join(" or ")}`,
    });
    return;
  }
  if (variant.type === "interest")
    checkIntegerRange(problems, `${field}.annualRateBp`, variant.annualRateBp, 1, MAX_SAVINGS_RATE_BP);
  if (variant.type === "cashback")
    checkIntegerRange(problems, `${field}.cashbackBp`, variant.cashbackBp, 1, MAX_SAVINGS_CASHBACK_BP);
  if (variant.type === "campaign_multiplier")
    checkIntegerRange(
      problems,
      `${field}.multiplierBp`,
      variant.multiplierBp,
      BASIS_POINTS_PER_UNIT,
      MAX_MULTIPLIER_BP,
    );
}

function checkGroups(problems: Problem[], d: ExperimentDefinition): void {
  const groups = d.groups;
  if (groups.length < MIN_GROUPS || groups.length > MAX_GROUPS) {
    problems.push({ field: "groups", message: `must list ${MIN_GROUPS} to ${MAX_GROUPS} groups` });
  }
  const seen = new Set<string>();
  let weightsAreIntegers = true;
  groups.forEach((g, i) => {
    const field = `groups[${i}]`;
    if (checkNonEmptyString(problems, `${field}.groupId`, g.groupId) && seen.has(g.groupId))
      problems.push({ field: `${field}.groupId`, message: `repeats ${JSON.stringify(g.groupId)}` });
    seen.add(g.groupId);
    // Every group takes at least one bucket: a group of weight 0 would hold no customer.
    if (!checkIntegerRange(problems, `${field}.weightBp`, g.weightBp, 1, BASIS_POINTS_PER_UNIT - 1))
      weightsAreIntegers = false;
    if (g.role === "holdout") {
      if (g.variant !== null)
        problems.push({
          field: `${field}.variant`,
          message:
            "a holdout gets no variant (its customers keep the programme's standing rules): must be null",
        });
    } else if (g.variant === null) {
      problems.push({ field: `${field}.variant`, message: `a ${g.role} group needs a variant` });
    } else {
      checkVariant(problems, `${field}.variant`, d.mechanic, g.variant);
    }
  });
  if (weightsAreIntegers) {
    const sum = groups.reduce((s, g) => s + g.weightBp, 0);
    if (sum !== BASIS_POINTS_PER_UNIT)
      problems.push({
        field: "groups.weightBp",
        message: `the weights must sum to exactly ${BASIS_POINTS_PER_UNIT} bp; they sum to ${sum}`,
      });
  }
  const controls = groups.filter((g) => g.role === "control").length;
  if (controls !== 1)
    problems.push({ field: "groups", message: `must have exactly one control group; it has ${controls}` });
  const holdouts = groups.filter((g) => g.role === "holdout").length;
  if (holdouts > 1)
    problems.push({ field: "groups", message: `may have at most one holdout group; it has ${holdouts}` });
}

function checkStrata(problems: Problem[], strata: readonly StratumDimension[] | null): void {
  if (strata === null) return;
  if (strata.length === 0)
    problems.push({ field: "strata", message: "must list at least one dimension, or be left out" });
  const seen = new Set<string>();
  strata.forEach((s, i) => {
    if (seen.has(s)) problems.push({ field: `strata[${i}]`, message: `repeats ${JSON.stringify(s)}` });
    seen.add(s);
  });
}

/**
 * R30: the problems of a definition, each naming its field; empty: valid. The closed sets (a role, a
 * mechanic's or a variant's type, a stratum dimension) are the request schema's to enforce; this checks
 * what a schema cannot: ranges, sums, uniqueness and how the parts fit together.
 */
export function validateExperiment(d: ExperimentDefinition): Problem[] {
  const problems: Problem[] = [];
  checkNonEmptyString(problems, "name.ru", d.name.ru);
  checkNonEmptyString(problems, "name.en", d.name.en);
  if (d.mechanic.type === "campaign_multiplier")
    checkNonEmptyString(problems, "mechanic.campaignId", d.mechanic.campaignId);
  checkGroups(problems, d);
  if (d.segmentId !== null) checkNonEmptyString(problems, "segmentId", d.segmentId);
  checkStrata(problems, d.strata);
  if (!(d.endsAt.getTime() > d.startsAt.getTime()))
    problems.push({ field: "endsAt", message: "must be after startsAt" });
  return problems;
}
