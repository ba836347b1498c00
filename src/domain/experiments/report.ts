import { type SampleRatioCheck, sampleRatioCheck } from "./assignment.js";
import type { ExperimentGroup, GroupRole } from "./definition.js";
import {
  CONFIDENCE_LEVEL,
  type Interval,
  Moments,
  meanInterval,
  newcombeDifference,
  PairedMoments,
  ratioDifference,
  ratioInterval,
  type WelchInterval,
  welchDifference,
  wilsonInterval,
} from "./statistics.js";

/**
 * R30: the report of an experiment — its groups compared on orders, average order value, points cost
 * and retention, each with a 95% confidence interval, every other group's difference to the control
 * with its interval, and the sample ratio check of the split.
 *
 * The unit is the customer, as in the assignment: every customer assigned to a group counts in it,
 * including those who ordered nothing (leaving them out would compare groups the treatment itself
 * selected). One row per customer; rows stream through `add`, and what is kept is a few exact sums per
 * group, so millions of customers take the memory of a handful of groups.
 *
 * Methods:
 * - orders per customer, points cost per customer: the mean with Student's t interval; the
 *   difference with Welch's interval (unequal variances, Welch-Satterthwaite degrees of freedom);
 * - average order value: Σ revenue / Σ orders of the group (the AOV a dashboard shows, every order
 *   weighted alike), a ratio of two per-customer sums, with the delta method's normal interval; the
 *   difference of two groups' ratios likewise (their variances add);
 * - retention: the share of the group's customers who ordered again within 30 days, with Wilson's
 *   interval; the difference with Newcombe's hybrid score interval.
 * Each treatment (and the holdout) is compared with the control at 95% on its own: with several
 * treatments the chance that one of them shows a difference by chance is larger than 5%.
 */

/** What one customer of the experiment did during its window. */
export interface CustomerOutcome {
  readonly groupId: string;
  /** Orders the customer placed in the window, not counting cancelled ones; ≥ 0. */
  readonly orders: number;
  /**
   * Those orders' totals at the prices charged, kopecks, whether paid in money or points, less what
   * was returned when the report is made; ≥ 0, and 0 without orders.
   */
  readonly revenueKop: number;
  /**
   * Points credited to the customer for the window, all kinds and sources, less what was clawed back
   * (R14): what the customer cost the programme, one point a rouble (R1). An integer, which a clawback
   * of earlier points can make negative.
   */
  readonly pointsCost: number;
  /**
   * After their first order in the window, the customer placed another within 30 days, in the window
   * or after its end: the data read must reach 30 days past the end, or a customer whose first order
   * came late counts as not retained for want of time. False for a customer without orders.
   */
  readonly orderedAgainWithin30Days: boolean;
}

/** Which method each interval of the report comes from. */
export const REPORT_METHODS = {
  group: {
    ordersPerCustomer: "student_t",
    averageOrderValueKop: "delta_method",
    pointsCostPerCustomer: "student_t",
    retention: "wilson",
  },
  differenceToControl: {
    ordersPerCustomer: "welch",
    averageOrderValueKop: "delta_method",
    pointsCostPerCustomer: "welch",
    retention: "newcombe_hybrid_score",
  },
} as const;

export interface DifferenceToControl {
  readonly ordersPerCustomer: WelchInterval | null;
  readonly averageOrderValueKop: Interval | null;
  readonly pointsCostPerCustomer: WelchInterval | null;
  /** Retention's difference, as a share (0.02 = two percentage points). */
  readonly retention: Interval | null;
}

/** One group's figures; an interval is null where the group has too few customers (or orders) for it. */
export interface GroupReport {
  readonly groupId: string;
  readonly role: GroupRole;
  readonly weightBp: number;
  readonly customers: number;
  readonly orders: number;
  readonly ordersPerCustomer: Interval | null;
  readonly averageOrderValueKop: Interval | null;
  readonly pointsCostPerCustomer: Interval | null;
  /** As a share of the group's customers, 0 to 1. */
  readonly retention: Interval | null;
  /** This group minus the control; null for the control itself. */
  readonly versusControl: DifferenceToControl | null;
}

export interface ExperimentReport {
  readonly confidenceLevel: number;
  readonly methods: typeof REPORT_METHODS;
  /** In the definition's order. */
  readonly groups: readonly GroupReport[];
  /** R30: the split against the weights; `mismatch` means the comparisons are not to be trusted. */
  readonly sampleRatio: SampleRatioCheck;
}

/** The exact sums kept for one group. */
class GroupSums {
  /** x: revenue, y: orders — orders per customer is y's mean, the average order value Σx / Σy. */
  readonly revenueAndOrders = new PairedMoments();
  readonly pointsCost = new Moments();
  retained = 0;

  get customers(): number {
    return this.pointsCost.count;
  }
}

function checkOutcome(row: CustomerOutcome): void {
  const bad = (field: string, what: string) => new Error(`customer outcome: ${field} ${what}`);
  if (!Number.isSafeInteger(row.orders) || row.orders < 0) throw bad("orders", "must be an integer ≥ 0");
  if (!Number.isSafeInteger(row.revenueKop) || row.revenueKop < 0)
    throw bad("revenueKop", "must be an integer ≥ 0");
  if (row.orders === 0 && row.revenueKop !== 0) throw bad("revenueKop", "must be 0 without orders");
  if (!Number.isSafeInteger(row.pointsCost)) throw bad("pointsCost", "must be an integer");
  if (row.orderedAgainWithin30Days && row.orders === 0)
    throw bad("orderedAgainWithin30Days", "must be false without orders");
}

/** R30: accumulates customers' outcomes, one `add` each, into the experiment's report. */
export class ExperimentReportAccumulator {
  readonly #groups: readonly ExperimentGroup[];
  readonly #sums: ReadonlyMap<string, GroupSums>;

  /** `groups`: a valid definition's (one control, weights summing to 10,000). */
  constructor(groups: readonly ExperimentGroup[]) {
    this.#groups = groups;
    this.#sums = new Map(groups.map((g) => [g.groupId, new GroupSums()]));
  }

  /** Adds one customer's outcome; a row that breaks the contract of CustomerOutcome is a bug, thrown. */
  add(row: CustomerOutcome): void {
    const sums = this.#sums.get(row.groupId);
    if (sums === undefined) throw new Error(`customer outcome: no group ${row.groupId} in the experiment`);
    checkOutcome(row);
    sums.revenueAndOrders.add(row.revenueKop, row.orders);
    sums.pointsCost.add(row.pointsCost);
    if (row.orderedAgainWithin30Days) sums.retained += 1;
  }

  report(): ExperimentReport {
    const sumsOf = (g: ExperimentGroup): GroupSums => {
      const sums = this.#sums.get(g.groupId);
      if (sums === undefined) throw new Error(`no sums for group ${g.groupId}`);
      return sums;
    };
    const controlGroup = this.#groups.find((g) => g.role === "control");
    if (controlGroup === undefined) throw new Error("an experiment without a control: it was not validated");
    const control = sumsOf(controlGroup);
    const groups = this.#groups.map((g): GroupReport => {
      const s = sumsOf(g);
      return {
        groupId: g.groupId,
        role: g.role,
        weightBp: g.weightBp,
        customers: s.customers,
        orders: Number(s.revenueAndOrders.y.sum),
        ordersPerCustomer: meanInterval(s.revenueAndOrders.y),
        averageOrderValueKop: ratioInterval(s.revenueAndOrders),
        pointsCostPerCustomer: meanInterval(s.pointsCost),
        retention: wilsonInterval(s.retained, s.customers),
        versusControl:
          g === controlGroup
            ? null
            : {
                ordersPerCustomer: welchDifference(s.revenueAndOrders.y, control.revenueAndOrders.y),
                averageOrderValueKop: ratioDifference(s.revenueAndOrders, control.revenueAndOrders),
                pointsCostPerCustomer: welchDifference(s.pointsCost, control.pointsCost),
                retention: newcombeDifference(
                  { successes: s.retained, trials: s.customers },
                  { successes: control.retained, trials: control.customers },
                ),
              },
      };
    });
    return {
      confidenceLevel: CONFIDENCE_LEVEL,
      methods: REPORT_METHODS,
      groups,
      sampleRatio: sampleRatioCheck(
        this.#groups,
        groups.map((g) => g.customers),
      ),
    };
  }
}
