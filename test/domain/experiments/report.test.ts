import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ExperimentGroup } from "../../../src/domain/experiments/definition.js";
import {
  type CustomerOutcome,
  type ExperimentReport,
  ExperimentReportAccumulator,
} from "../../../src/domain/experiments/report.js";
import {
  type Interval,
  newcombeDifference,
  wilsonInterval,
} from "../../../src/domain/experiments/statistics.js";
import { assertProperty } from "../../support/property.js";
import { seededRandom } from "./fixtures.js";

/** R30: the experiment's report, from one row per customer. */

const GROUPS: readonly ExperimentGroup[] = [
  {
    groupId: "x1",
    weightBp: 5_000,
    role: "control",
    variant: { type: "campaign_multiplier", multiplierBp: 10_000 },
  },
  {
    groupId: "x2",
    weightBp: 4_000,
    role: "treatment",
    variant: { type: "campaign_multiplier", multiplierBp: 20_000 },
  },
  { groupId: "rest", weightBp: 1_000, role: "holdout", variant: null },
];

const row = (
  groupId: string,
  orders: number,
  revenueKop: number,
  pointsCost: number,
  orderedAgainWithin30Days: boolean,
): CustomerOutcome => ({ groupId, orders, revenueKop, pointsCost, orderedAgainWithin30Days });

const reportOf = (groups: readonly ExperimentGroup[], rows: Iterable<CustomerOutcome>): ExperimentReport => {
  const accumulator = new ExperimentReportAccumulator(groups);
  for (const r of rows) accumulator.add(r);
  return accumulator.report();
};

const groupOf = (report: ExperimentReport, groupId: string) => {
  const g = report.groups.find((x) => x.groupId === groupId);
  if (g === undefined) throw new Error(`no ${groupId} in the report`);
  return g;
};

describe("R30 experiment report", () => {
  it("per group: customers, orders per customer, average order value, points cost, retention; the difference to the control", () => {
    const report = reportOf(GROUPS, [
      row("x1", 2, 300_000, 50, true),
      row("x1", 0, 0, 0, false),
      row("x1", 1, 150_000, 20, false),
      row("x1", 3, 450_000, 90, true),
      row("x2", 1, 100_000, 10, false),
      row("x2", 2, 260_000, 30, true),
      row("x2", 1, 90_000, 10, false),
    ]);
    const control = groupOf(report, "x1");
    expect(control).toMatchObject({
      role: "control",
      weightBp: 5_000,
      customers: 4,
      orders: 6,
      versusControl: null,
    });
    expect(control.ordersPerCustomer?.estimate).toBe(1.5);
    // Σ revenue / Σ orders, every order alike: 900,000 / 6; the customer without orders adds nothing.
    expect(control.averageOrderValueKop?.estimate).toBe(150_000);
    expect(control.pointsCostPerCustomer?.estimate).toBe(40);
    expect(control.retention).toEqual(wilsonInterval(2, 4));

    const treatment = groupOf(report, "x2");
    expect(treatment.customers).toBe(3);
    expect(treatment.averageOrderValueKop?.estimate).toBe(112_500);
    expect(treatment.versusControl?.ordersPerCustomer?.estimate).toBeCloseTo(4 / 3 - 1.5, 12);
    expect(treatment.versusControl?.averageOrderValueKop?.estimate).toBe(-37_500);
    expect(treatment.versusControl?.pointsCostPerCustomer?.estimate).toBeCloseTo(50 / 3 - 40, 12);
    expect(treatment.versusControl?.retention).toEqual(
      newcombeDifference({ successes: 1, trials: 3 }, { successes: 2, trials: 4 }),
    );

    // A group nobody was assigned to has no figures; too few customers to test the split.
    expect(groupOf(report, "rest")).toMatchObject({
      customers: 0,
      orders: 0,
      ordersPerCustomer: null,
      averageOrderValueKop: null,
      pointsCostPerCustomer: null,
      retention: null,
      versusControl: {
        ordersPerCustomer: null,
        averageOrderValueKop: null,
        pointsCostPerCustomer: null,
        retention: null,
      },
    });
    expect(report.sampleRatio.mismatch).toBe(false);
    expect(report.confidenceLevel).toBe(0.95);
    expect(report.methods.differenceToControl.retention).toBe("newcombe_hybrid_score");
  });

  it("sample ratio mismatch: 51,000 / 49,000 for a 50/50 split is flagged (p ≈ 2.5e-10), 50,150 / 49,850 is not", () => {
    const halves = GROUPS.slice(0, 2).map((g) => ({ ...g, weightBp: 5_000 }));
    const split = (control: number, treatment: number) =>
      reportOf(halves, [
        ...Array.from({ length: control }, () => row("x1", 1, 1_000, 1, false)),
        ...Array.from({ length: treatment }, () => row("x2", 1, 1_000, 1, false)),
      ]).sampleRatio;
    const skewed = split(51_000, 49_000);
    expect(skewed.mismatch).toBe(true);
    expect(skewed.fit?.pValue).toBeLessThan(1e-9);
    expect(skewed.groups).toEqual([
      { groupId: "x1", customers: 51_000 },
      { groupId: "x2", customers: 49_000 },
    ]);
    // χ² = 2 × 150² / 50,000 = 0.9, p = 0.34.
    const fine = split(50_150, 49_850);
    expect(fine.mismatch).toBe(false);
    expect(fine.fit?.pValue).toBeCloseTo(0.3428, 4);
  });

  it("does not depend on the rows' order: the sums are exact", () => {
    const outcome = fc
      .record({
        groupId: fc.constantFrom("x1", "x2", "rest"),
        orders: fc.integer({ min: 0, max: 40 }),
        revenueKop: fc.integer({ min: 1, max: 5_000_000_000 }),
        pointsCost: fc.integer({ min: -1_000, max: 10_000_000 }),
        orderedAgainWithin30Days: fc.boolean(),
      })
      .map((r) => (r.orders === 0 ? { ...r, revenueKop: 0, orderedAgainWithin30Days: false } : r));
    assertProperty(
      fc.property(
        fc
          .array(outcome, { maxLength: 60 })
          .chain((rows) =>
            fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length })),
          ),
        ([rows, shuffled]) => {
          expect(reportOf(GROUPS, shuffled)).toEqual(reportOf(GROUPS, rows));
        },
      ),
    );
  });

  it("refuses a row that breaks its contract, naming the field", () => {
    const accumulator = new ExperimentReportAccumulator(GROUPS);
    expect(() => accumulator.add(row("nope", 1, 1, 1, false))).toThrow(/no group nope/);
    expect(() => accumulator.add(row("x1", -1, 0, 0, false))).toThrow(/orders/);
    expect(() => accumulator.add(row("x1", 1, 0.5, 0, false))).toThrow(/revenueKop/);
    expect(() => accumulator.add(row("x1", 0, 100, 0, false))).toThrow(/revenueKop must be 0 without orders/);
    expect(() => accumulator.add(row("x1", 1, 100, Number.NaN, false))).toThrow(/pointsCost/);
    expect(() => accumulator.add(row("x1", 0, 0, 0, true))).toThrow(/orderedAgainWithin30Days/);
    expect(accumulator.report().groups.every((g) => g.customers === 0)).toBe(true);
  });
});

describe("R30 intervals cover the truth about 95% of the time", () => {
  /** A group's behaviour: orders ~ Poisson(λ), each order's value lognormal with mean `aovKop`. */
  interface Behaviour {
    readonly ordersMean: number;
    readonly aovKop: number;
    /** The chance a customer with an order orders again within 30 days. */
    readonly againGivenOrder: number;
  }
  const CONTROL: Behaviour = { ordersMean: 1.5, aovKop: 250_000, againGivenOrder: 0.4 };
  const TREATMENT: Behaviour = { ordersMean: 1.8, aovKop: 230_000, againGivenOrder: 0.45 };
  /** Points: one per 20 roubles of revenue, so their true mean is λ × AOV / 2,000. */
  const POINTS_PER_KOP = 1 / 2_000;
  const SIGMA = 0.8;

  const truth = (b: Behaviour) => ({
    ordersPerCustomer: b.ordersMean,
    averageOrderValueKop: b.aovKop,
    pointsCostPerCustomer: b.ordersMean * b.aovKop * POINTS_PER_KOP,
    retention: (1 - Math.exp(-b.ordersMean)) * b.againGivenOrder,
  });

  function simulate(random: () => number, groupId: string, b: Behaviour): CustomerOutcome {
    let orders = 0;
    for (let p = random(), limit = Math.exp(-b.ordersMean); p > limit; p *= random()) orders += 1;
    let revenueKop = 0;
    for (let i = 0; i < orders; i++) {
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      revenueKop += Math.round(b.aovKop * Math.exp(SIGMA * z - (SIGMA * SIGMA) / 2));
    }
    return {
      groupId,
      orders,
      revenueKop,
      pointsCost: Math.round(revenueKop * POINTS_PER_KOP),
      orderedAgainWithin30Days: orders > 0 && random() < b.againGivenOrder,
    };
  }

  it("over 300 simulated experiments of 400 customers a group (a fixed seed)", () => {
    const groups = GROUPS.slice(0, 2).map((g) => ({ ...g, weightBp: 5_000 }));
    const metrics = [
      "ordersPerCustomer",
      "averageOrderValueKop",
      "pointsCostPerCustomer",
      "retention",
    ] as const;
    const covers = (i: Interval | null, value: number) => i !== null && i.low <= value && value <= i.high;
    const covered = { control: new Map<string, number>(), difference: new Map<string, number>() };
    const random = seededRandom(20_260_301);
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const rows: CustomerOutcome[] = [];
      for (let i = 0; i < 400; i++)
        rows.push(simulate(random, "x1", CONTROL), simulate(random, "x2", TREATMENT));
      const report = reportOf(groups, rows);
      const control = groupOf(report, "x1");
      const treatment = groupOf(report, "x2");
      for (const m of metrics) {
        const isControl = covers(control[m], truth(CONTROL)[m]);
        const isDifference = covers(
          treatment.versusControl?.[m] ?? null,
          truth(TREATMENT)[m] - truth(CONTROL)[m],
        );
        covered.control.set(m, (covered.control.get(m) ?? 0) + (isControl ? 1 : 0));
        covered.difference.set(m, (covered.difference.get(m) ?? 0) + (isDifference ? 1 : 0));
      }
    }
    // 95% of 300 is 285, give or take 3.8 (binomial): between 270 and 297 is −4 to +3.2 of those.
    // An interval half as wide covers about 68%; a standard deviation taken for a standard error, 100%.
    for (const m of metrics) {
      for (const [what, counts] of Object.entries(covered)) {
        const n = counts.get(m) ?? 0;
        expect(n, `${what} ${m}: ${n} of ${runs}`).toBeGreaterThanOrEqual(270);
        expect(n, `${what} ${m}: ${n} of ${runs}`).toBeLessThanOrEqual(297);
      }
    }
  });
});
