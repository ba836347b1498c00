import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignCustomer,
  BUCKETS,
  bucketOf,
  groupOfBucket,
  isEligible,
  murmur3x86_32,
  StratumBalance,
  stratumOf,
} from "../../../src/domain/experiments/assignment.js";
import type { ExperimentGroup } from "../../../src/domain/experiments/definition.js";
import { chiSquareGoodnessOfFit } from "../../../src/domain/experiments/statistics.js";
import { assertProperty } from "../../support/property.js";
import { customerIds, SAVINGS_GROUPS } from "./fixtures.js";

/** R30: deterministic assignment to groups, its balance and its stability. */

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Groups with these weights: the first is the control, the others treatments. */
const groupsWithWeights = (weights: readonly number[]): ExperimentGroup[] =>
  weights.map((weightBp, i) => ({
    groupId: `g${i}`,
    weightBp,
    role: i === 0 ? "control" : "treatment",
    variant: { type: "interest", annualRateBp: 1_200 },
  }));

/** The groups' bucket ranges' upper ends, from the weights alone: what assignment.ts documents. */
const cumulative = (weights: readonly number[]): number[] => {
  let upper = 0;
  return weights.map((w) => {
    upper += w;
    return upper;
  });
};

const countsByGroup = (
  experimentId: string,
  groups: readonly ExperimentGroup[],
  customers: readonly string[],
) => {
  const counts = new Map(groups.map((g) => [g.groupId, 0]));
  for (const c of customers) {
    const g = assignCustomer(experimentId, { groups, segmentId: null }, c, false);
    if (g === null) throw new Error("everyone takes part in an experiment without a segment");
    counts.set(g.groupId, (counts.get(g.groupId) ?? 0) + 1);
  }
  return groups.map((g) => counts.get(g.groupId) ?? 0);
};

const HUNDRED_THOUSAND = customerIds(100_000);

describe("R30 the hash", () => {
  it("is MurmurHash3 x86_32: the reference implementation's test vectors", () => {
    // SMHasher's MurmurHash3_x86_32 (Appleby's C++ reference) on these inputs and seeds, as collected
    // for implementers in the Stack Overflow answer "MurmurHash3 test vectors".
    expect(murmur3x86_32(utf8(""), 0)).toBe(0);
    expect(murmur3x86_32(utf8(""), 1)).toBe(0x514e28b7);
    expect(murmur3x86_32(utf8(""), 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3x86_32(new Uint8Array([0, 0, 0, 0]), 0)).toBe(0x2362f9de);
    expect(murmur3x86_32(utf8("aaaa"), 0x9747b28c)).toBe(0x5a97808a);
    expect(murmur3x86_32(utf8("abc"), 0)).toBe(0xb3dd93fa);
    expect(murmur3x86_32(utf8("Hello, world!"), 0x9747b28c)).toBe(0x24884cba);
    expect(murmur3x86_32(utf8("The quick brown fox jumps over the lazy dog"), 0x9747b28c)).toBe(0x2fa826cd);
    expect(murmur3x86_32(utf8("The quick brown fox jumps over the lazy dog"), 0)).toBe(0x2e4ff723);
  });

  it("gives each customer one bucket per experiment, for good: these values must never change", () => {
    // Pinned: a change of the key or the hash would move the customers of every running experiment.
    expect(bucketOf("exp-1", "c-1")).toBe(2_104);
    expect(bucketOf("exp-1", "c-2")).toBe(2_247);
    expect(bucketOf("exp-2", "c-1")).toBe(8_729);
    expect(bucketOf("exp-1", "покупатель-7")).toBe(3_948);
    for (const c of HUNDRED_THOUSAND.slice(0, 1_000)) {
      const b = bucketOf("exp-1", c);
      expect(b).toBe(bucketOf("exp-1", c));
      expect(Number.isInteger(b) && b >= 0 && b < BUCKETS).toBe(true);
    }
  });
});

describe("R30 groups from buckets", () => {
  it("groups take contiguous ranges in their listed order", () => {
    const groups = groupsWithWeights([5_000, 3_000, 2_000]);
    const at = (b: number) => groupOfBucket(groups, b).groupId;
    expect([0, 4_999, 5_000, 7_999, 8_000, 9_999].map(at)).toEqual(["g0", "g0", "g1", "g1", "g2", "g2"]);
    expect(() => groupOfBucket(groupsWithWeights([5_000, 4_000]), 9_500)).toThrow(/not validated/);
  });

  it("a segment's experiment takes only its members (R29); one without takes everyone", () => {
    const d = { groups: SAVINGS_GROUPS, segmentId: "frequent-buyers" };
    expect(isEligible(d, false)).toBe(false);
    expect(assignCustomer("exp-1", d, "c-1", false)).toBeNull();
    const member = assignCustomer("exp-1", d, "c-1", true);
    expect(member).toBe(groupOfBucket(SAVINGS_GROUPS, bucketOf("exp-1", "c-1")));
    expect(isEligible({ segmentId: null }, false)).toBe(true);
  });

  it("100,000 customers split close to the weights: chi-square p > 0.001, for several experiments and weights", () => {
    const designs: [string, readonly number[]][] = [
      ["exp-savings-2026-03", SAVINGS_GROUPS.map((g) => g.weightBp)],
      ["exp-multiplier-x2", [5_000, 5_000]],
      ["exp-small-treatment", [9_000, 500, 300, 200]],
    ];
    for (const [experimentId, weights] of designs) {
      const counts = countsByGroup(experimentId, groupsWithWeights(weights), HUNDRED_THOUSAND);
      const fit = chiSquareGoodnessOfFit(counts, weights);
      expect(fit?.pValue, `${experimentId}: ${counts.join("/")}`).toBeGreaterThan(0.001);
    }
  });

  it("two experiments' splits are independent: the joint counts fit the product of the weights", () => {
    const a = groupsWithWeights([5_000, 5_000]);
    const b = SAVINGS_GROUPS;
    const joint = new Map<string, number>();
    for (const c of HUNDRED_THOUSAND) {
      const key = `${assignCustomer("exp-a", { groups: a, segmentId: null }, c, false)?.groupId}|${
        assignCustomer("exp-b", { groups: b, segmentId: null }, c, false)?.groupId
      }`;
      joint.set(key, (joint.get(key) ?? 0) + 1);
    }
    const cells = a.flatMap((ga) =>
      b.map((gb) => [`${ga.groupId}|${gb.groupId}`, ga.weightBp * gb.weightBp] as const),
    );
    const fit = chiSquareGoodnessOfFit(
      cells.map(([key]) => joint.get(key) ?? 0),
      cells.map(([, weight]) => weight),
    );
    expect(fit?.degreesOfFreedom).toBe(7);
    expect(fit?.pValue).toBeGreaterThan(0.001);
  });
});

describe("R30 stability when weights change", () => {
  const customers = customerIds(3_000, "stable-");
  /** 2 to 10 groups as the upper ends of their ranges: distinct cuts in 1..9,999, then 10,000. */
  const cuts = fc
    .uniqueArray(fc.integer({ min: 1, max: BUCKETS - 1 }), { minLength: 1, maxLength: 9 })
    .map((c) => [...c].sort((x, y) => x - y));
  const weightsOf = (c: readonly number[]) =>
    [...c, BUCKETS].map((upper, i, all) => upper - (all[i - 1] ?? 0));

  it("moving weight between neighbours moves exactly the customers between the old and new boundary, between those two", () => {
    assertProperty(
      fc.property(
        cuts,
        fc.nat(),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 12 }),
        (before, which, to, experimentId) => {
          // Move the boundary j between groups j and j + 1 anywhere strictly between its neighbours.
          const j = which % before.length;
          const floor = (before[j - 1] ?? 0) + 1;
          const ceiling = (before[j + 1] ?? BUCKETS) - 1;
          const moved = floor + (to % (ceiling - floor + 1));
          const after = before.map((cut, i) => (i === j ? moved : cut));
          const old = groupsWithWeights(weightsOf(before));
          const changed = groupsWithWeights(weightsOf(after));
          const bandLow = Math.min(before[j] ?? 0, moved);
          const bandHigh = Math.max(before[j] ?? 0, moved);
          for (const c of customers) {
            const b = bucketOf(experimentId, c);
            const was = assignCustomer(experimentId, { groups: old, segmentId: null }, c, false)?.groupId;
            const is = assignCustomer(experimentId, { groups: changed, segmentId: null }, c, false)?.groupId;
            const inBand = b >= bandLow && b < bandHigh;
            expect(was !== is).toBe(inBand);
            if (inBand) expect(new Set([was, is])).toEqual(new Set([`g${j}`, `g${j + 1}`]));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("any change of weights: a customer stays exactly when their bucket is in their group's old and new range", () => {
    assertProperty(
      fc.property(
        fc
          .integer({ min: 1, max: 9 })
          .chain((k) =>
            fc.tuple(
              fc.uniqueArray(fc.integer({ min: 1, max: BUCKETS - 1 }), { minLength: k, maxLength: k }),
              fc.uniqueArray(fc.integer({ min: 1, max: BUCKETS - 1 }), { minLength: k, maxLength: k }),
            ),
          ),
        ([a, b]) => {
          const before = weightsOf([...a].sort((x, y) => x - y));
          const after = weightsOf([...b].sort((x, y) => x - y));
          const [oldUpper, newUpper] = [cumulative(before), cumulative(after)];
          const old = groupsWithWeights(before);
          const changed = groupsWithWeights(after);
          for (const c of customers.slice(0, 1_000)) {
            const bucket = bucketOf("exp-weights", c);
            const i = old.indexOf(groupOfBucket(old, bucket));
            const stays = bucket >= (newUpper[i - 1] ?? 0) && bucket < (newUpper[i] ?? 0);
            expect(bucket >= (oldUpper[i - 1] ?? 0) && bucket < (oldUpper[i] ?? 0)).toBe(true);
            expect(groupOfBucket(changed, bucket).groupId === `g${i}`).toBe(stays);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("growing the last group takes customers only from the group before it", () => {
    const before = groupsWithWeights([4_000, 3_000, 2_000, 1_000]);
    const after = groupsWithWeights([4_000, 3_000, 1_500, 1_500]);
    let moved = 0;
    for (const c of HUNDRED_THOUSAND) {
      const was = assignCustomer("exp-grow", { groups: before, segmentId: null }, c, false)?.groupId;
      const is = assignCustomer("exp-grow", { groups: after, segmentId: null }, c, false)?.groupId;
      if (was === is) continue;
      moved += 1;
      expect([was, is]).toEqual(["g2", "g3"]);
    }
    // About 5% of them: the 500 buckets that changed hands.
    expect(moved).toBeGreaterThan(4_500);
    expect(moved).toBeLessThan(5_500);
  });
});

describe("R30 stratification: checked, not forced", () => {
  const experimentId = "exp-strata";
  const d = { groups: SAVINGS_GROUPS, segmentId: null };
  /** Strata from the customer's number, as pre-experiment data would be: independent of the hash. */
  const stratumOfCustomer = (i: number) =>
    stratumOf(["aov_band", "financial_products"], {
      aov_band: ["under-1000", "1000-3000", "over-3000"][i % 3],
      financial_products: i % 7 === 0 ? "card+savings" : "none",
    });

  it("a stratum is the customer's values of the experiment's dimensions, in order", () => {
    expect(stratumOf(["aov_band", "order_frequency"], { order_frequency: "weekly", aov_band: "low" })).toBe(
      '["low","weekly"]',
    );
    expect(() => stratumOf(["aov_band"], { order_frequency: "weekly" })).toThrow(/aov_band/);
  });

  it("hashing keeps every stratum's split close to the weights", () => {
    const balance = new StratumBalance(SAVINGS_GROUPS);
    HUNDRED_THOUSAND.forEach((c, i) => {
      balance.add(stratumOfCustomer(i), assignCustomer(experimentId, d, c, false)?.groupId ?? "none");
    });
    const report = balance.check();
    expect(report.strata).toHaveLength(6);
    expect(report.threshold).toBeCloseTo(0.001 / 6, 12);
    expect(report.strata.map((s) => s.fit?.pValue ?? 0).every((p) => p > report.threshold)).toBe(true);
    expect(report.imbalanced).toBe(false);
    const total = report.strata.reduce((s, st) => s + st.groups.reduce((t, g) => t + g.customers, 0), 0);
    expect(total).toBe(100_000);
  });

  it("flags the stratum whose split went wrong, e.g. half of one group's assignments lost there", () => {
    const balance = new StratumBalance(SAVINGS_GROUPS);
    HUNDRED_THOUSAND.forEach((c, i) => {
      const stratum = stratumOfCustomer(i);
      const group = assignCustomer(experimentId, d, c, false)?.groupId ?? "none";
      const lost = group === "rate-18" && stratum === '["over-3000","card+savings"]' && i % 2 === 0;
      if (!lost) balance.add(stratum, group);
    });
    const report = balance.check();
    expect(report.imbalanced).toBe(true);
    expect(report.strata.filter((s) => s.mismatch).map((s) => s.stratum)).toEqual([
      '["over-3000","card+savings"]',
    ]);
  });

  it("does not judge a stratum too small for the chi-square test", () => {
    const balance = new StratumBalance(SAVINGS_GROUPS);
    for (let i = 0; i < 40; i++) balance.add("tiny", "rate-12");
    const [tiny] = balance.check().strata;
    expect(tiny?.fit?.smallestExpected).toBe(4);
    expect(tiny?.mismatch).toBe(false);
    expect(balance.check().threshold).toBe(0.001);
    expect(() => balance.add("tiny", "no-such-group")).toThrow(/no-such-group/);
  });
});
