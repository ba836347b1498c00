import { describe, expect, it } from "vitest";
import {
  chiSquareGoodnessOfFit,
  chiSquareUpperTail,
  Moments,
  meanInterval,
  newcombeDifference,
  normalQuantile,
  PairedMoments,
  ratioDifference,
  ratioInterval,
  tQuantile,
  welchDifference,
  wilsonInterval,
} from "../../../src/domain/experiments/statistics.js";

/** R30: the report's statistics against published values. */

const momentsOf = (values: readonly number[]): Moments => {
  const m = new Moments();
  for (const v of values) m.add(v);
  return m;
};

/*
 * R's `sleep` data (Cushny & Peebles 1905, as Student used it in 1908): extra hours of sleep, in
 * tenths of an hour so that they are integers like the report's observations. Intervals in tenths.
 */
const SLEEP_GROUP_1 = [7, -16, -2, -12, -1, 34, 37, 8, 0, 20];
const SLEEP_GROUP_2 = [19, 8, 11, 1, -1, 44, 55, 16, 46, 34];

describe("R30 distributions", () => {
  it("quantiles and tails match the tables", () => {
    // R: qnorm(0.975) = 1.959964, qnorm(0.995) = 2.575829.
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829, 6);
    // R: qt(0.975, 9) = 2.262157, qt(0.975, 1) = 12.7062, qt(0.975, 30) = 2.042272 (any t table).
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262157, 6);
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042272, 6);
    // Chi-square critical values (any table): 3.841459 (df 1, 5%), 11.34487 (df 3, 1%); df 2 has
    // the closed form P(X ≥ x) = exp(−x/2), so 13.81551 is the 0.1% point.
    expect(chiSquareUpperTail(3.841459, 1)).toBeCloseTo(0.05, 7);
    expect(chiSquareUpperTail(11.34487, 3)).toBeCloseTo(0.01, 7);
    expect(chiSquareUpperTail(13.81551, 2)).toBeCloseTo(0.001, 8);
    // A tail far beyond 1 − CDF's reach in doubles: exp(−100) for df 2.
    expect(chiSquareUpperTail(200, 2) / Math.exp(-100)).toBeCloseTo(1, 10);
  });
});

describe("R30 means: Student's t and Welch", () => {
  it("one mean: R t.test(sleep$extra[sleep$group == 1]) gives 0.75, 95% CI [-0.5297804, 2.0297804]", () => {
    const i = meanInterval(momentsOf(SLEEP_GROUP_1));
    expect(i?.estimate).toBeCloseTo(7.5, 10);
    expect(i?.low).toBeCloseTo(-5.297804, 5);
    expect(i?.high).toBeCloseTo(20.297804, 5);
  });

  it("difference: R t.test(extra ~ group, data = sleep) gives df = 17.776, 95% CI [-3.3654832, 0.2054832]", () => {
    const i = welchDifference(momentsOf(SLEEP_GROUP_1), momentsOf(SLEEP_GROUP_2));
    expect(i?.estimate).toBeCloseTo(-15.8, 10);
    expect(i?.degreesOfFreedom).toBeCloseTo(17.776, 3);
    expect(i?.low).toBeCloseTo(-33.654832, 5);
    expect(i?.high).toBeCloseTo(2.054832, 5);
  });

  it("unequal sizes and spreads: R t.test(c(1,2,3,4,5,6,7,8,9,10), c(7,8,9,10,11,12,13,14,15,16,17,18,19,20))", () => {
    // R 4.x: t = -5.4349, df = 21.982, 95% CI [-11.052802, -4.947198]; mean of x 5.5, of y 13.5.
    const x = momentsOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const y = momentsOf([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const i = welchDifference(x, y);
    expect(i?.estimate).toBeCloseTo(-8, 10);
    expect(i?.degreesOfFreedom).toBeCloseTo(21.982, 3);
    expect(i?.low).toBeCloseTo(-11.052802, 5);
    expect(i?.high).toBeCloseTo(-4.947198, 5);
  });

  it("needs two observations a side; no spread at all is the point itself", () => {
    expect(meanInterval(momentsOf([5]))).toBeNull();
    expect(welchDifference(momentsOf([5]), momentsOf([1, 2]))).toBeNull();
    expect(welchDifference(momentsOf([3, 3]), momentsOf([1, 1]))).toEqual({
      estimate: 2,
      low: 2,
      high: 2,
      degreesOfFreedom: 2,
    });
  });

  it("sums are exact where a double's are not: amounts of 10^12 kopecks", () => {
    // (10^12)² = 10^24 is far beyond 2^53: summing squares in doubles would lose the variance of 2.
    const m = momentsOf([1_000_000_000_000, 1_000_000_000_002]);
    expect(m.sumOfSquares).toBe(2_000_000_000_004_000_000_000_004n);
    expect(m.variance()).toBe(2);
  });
});

describe("R30 proportions: Wilson and Newcombe", () => {
  it("Wilson's score interval: Newcombe (1998), Stat Med 17:857, Table I, method 3", () => {
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [x, n, low, high] of cases) {
      const i = wilsonInterval(x, n);
      expect(i?.estimate).toBe(x / n);
      expect(i?.low).toBeCloseTo(low, 4);
      expect(i?.high).toBeCloseTo(high, 4);
    }
    expect(wilsonInterval(20, 20)?.high).toBe(1);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it("Newcombe's hybrid score interval: Newcombe (1998), Stat Med 17:873, Table II, method 10", () => {
    const cases: [number, number, number, number, number, number][] = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [0, 10, 0, 20, -0.1611, 0.2775],
      [0, 10, 0, 10, -0.2775, 0.2775],
    ];
    for (const [xa, na, xb, nb, low, high] of cases) {
      const i = newcombeDifference({ successes: xa, trials: na }, { successes: xb, trials: nb });
      expect(i?.estimate).toBeCloseTo(xa / na - xb / nb, 12);
      expect(i?.low).toBeCloseTo(low, 4);
      expect(i?.high).toBeCloseTo(high, 4);
    }
    expect(newcombeDifference({ successes: 0, trials: 0 }, { successes: 1, trials: 2 })).toBeNull();
  });
});

describe("R30 a ratio by the delta method (average order value)", () => {
  const pairsOf = (pairs: readonly [number, number][]): PairedMoments => {
    const p = new PairedMoments();
    for (const [x, y] of pairs) p.add(x, y);
    return p;
  };

  it("a worked example: Var ≈ s²(x − R·y) / (n·ȳ²)", () => {
    // Customers (revenue, orders): (100, 1), (300, 2), (0, 0), (600, 3). R = 1000 / 6 = 166.67;
    // residuals x − R·y: −66.67, −33.33, 0, 100; Σ of squares 15,555.56, s² = 5,185.19; ȳ = 1.5;
    // Var = 5,185.19 / (4 × 2.25) = 576.13, standard error 24.0027; 1.959964 × 24.0027 = 47.0446.
    const i = ratioInterval(
      pairsOf([
        [100, 1],
        [300, 2],
        [0, 0],
        [600, 3],
      ]),
    );
    expect(i?.estimate).toBeCloseTo(1000 / 6, 10);
    expect(i?.high).toBeCloseTo(1000 / 6 + 47.0446, 3);
    expect(i?.low).toBeCloseTo(1000 / 6 - 47.0446, 3);
  });

  it("with one order per customer it is the mean's standard error, s / √n", () => {
    const revenues = [1_000, 25_000, 3_300, 870_000, 12];
    const ratio = ratioInterval(pairsOf(revenues.map((r) => [r, 1])));
    const m = momentsOf(revenues);
    const se = Math.sqrt(m.variance() / m.count);
    expect(ratio?.estimate).toBeCloseTo(m.mean(), 8);
    expect(ratio?.high).toBeCloseTo(m.mean() + normalQuantile(0.975) * se, 6);
  });

  it("a difference adds the two variances; no orders, or one customer, gives no ratio", () => {
    const a = pairsOf([
      [100, 1],
      [300, 2],
      [0, 0],
      [600, 3],
    ]);
    const b = pairsOf([
      [500, 1],
      [500, 1],
      [900, 2],
    ]);
    const d = ratioDifference(a, b);
    const ia = ratioInterval(a);
    const ib = ratioInterval(b);
    if (d === null || ia === null || ib === null) throw new Error("expected intervals");
    expect(d.estimate).toBeCloseTo(ia.estimate - ib.estimate, 10);
    expect(d.high - d.estimate).toBeCloseTo(Math.hypot(ia.high - ia.estimate, ib.high - ib.estimate), 8);
    expect(ratioInterval(pairsOf([[0, 0]]))).toBeNull();
    expect(
      ratioInterval(
        pairsOf([
          [0, 0],
          [0, 0],
        ]),
      ),
    ).toBeNull();
    expect(ratioDifference(a, pairsOf([[5, 1]]))).toBeNull();
  });
});

describe("R30 chi-square goodness of fit", () => {
  it("Mendel's peas, 315/108/101/32 against 9:3:3:1: R chisq.test gives X-squared = 0.47002, df = 3, p = 0.9254", () => {
    const fit = chiSquareGoodnessOfFit([315, 108, 101, 32], [9, 3, 3, 1]);
    expect(fit?.chiSquare).toBeCloseTo(0.47002, 5);
    expect(fit?.degreesOfFreedom).toBe(3);
    expect(fit?.pValue).toBeCloseTo(0.9254, 4);
    expect(fit?.smallestExpected).toBeCloseTo(34.75, 10);
  });

  it("a 51/49 split of 100,000 against 50/50: χ² = 40, p = 2.54e-10", () => {
    // χ² = 2 × 1000² / 50,000 = 40; df 1: p = erfc(√20) = 2.5396e-10.
    const fit = chiSquareGoodnessOfFit([51_000, 49_000], [5_000, 5_000]);
    expect(fit?.chiSquare).toBe(40);
    expect(fit?.pValue).toBeCloseTo(2.5396e-10, 13);
    expect(chiSquareGoodnessOfFit([0, 0], [1, 1])).toBeNull();
  });
});
