import { describe, expect, it } from "vitest";
import {
  chiSquareUpperTail,
  logBeta,
  logGamma,
  normalQuantile,
  regularizedIncompleteBeta,
  regularizedUpperGamma,
  studentTCdf,
  studentTDensity,
  studentTQuantile,
} from "../../../src/domain/experiments/special-functions.js";

/**
 * R30: the report's special functions against reference values. Unless a comment says otherwise the
 * expected values were computed to 40 digits with mpmath (findroot on `betainc`, `ncdf`, `gammainc`
 * at mp.dps = 40) for the double nearest the argument shown, and written as the nearest double.
 */

const expectRelative = (actual: number, expected: number, tolerance: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
};

describe("R30 log-gamma and log-beta", () => {
  it("ln Γ: factorials, √π and large arguments", () => {
    expect(logGamma(1)).toBeCloseTo(0, 15);
    expect(logGamma(2)).toBeCloseTo(0, 15);
    expectRelative(logGamma(5), Math.log(24), 1e-15);
    expectRelative(logGamma(11), Math.log(3_628_800), 1e-15);
    expectRelative(logGamma(0.5), 0.5723649429247001, 1e-15); // ln √π
    expectRelative(logGamma(3.5), 1.2009736023470743, 1e-15);
    expectRelative(logGamma(1e-8), 18.42068073818021, 1e-15);
    expectRelative(logGamma(1e6), 12815504.569147613, 1e-15);
    expect(logGamma(0)).toBeNaN();
    expect(logGamma(-1)).toBeNaN();
  });

  it("ln B keeps its digits when its arguments are huge and its terms cancel", () => {
    expectRelative(logBeta(2, 3), Math.log(1 / 12), 1e-15);
    expectRelative(logBeta(0.3, 12), 0.3591224335997195, 1e-14);
    expect(logBeta(12, 0.3)).toBe(logBeta(0.3, 12));
    // ln Γ(500,000) ≈ 6·10⁶: ln Γ(a) + ln Γ(b) − ln Γ(a + b) as three numbers would keep 1e-9 of it.
    expectRelative(logBeta(5e5, 0.5), -5.988816495777464, 1e-15);
    expectRelative(logBeta(1e6, 2e6), -1909548.290968533, 1e-15);
  });
});

describe("R30 normal quantile (Wichura AS 241)", () => {
  it("matches the reference values in each of its three regions", () => {
    expectRelative(normalQuantile(0.975), 1.959963984540054, 1e-15);
    expectRelative(normalQuantile(0.999), 3.090232306167813, 1e-15);
    expectRelative(normalQuantile(0.05), -1.6448536269514726, 1e-15);
    expectRelative(normalQuantile(0.3), -0.5244005127080408, 1e-15);
    expectRelative(normalQuantile(0.5000001), 2.506628273311648e-7, 1e-9); // p − ½ itself is rounded
    expectRelative(normalQuantile(1e-10), -6.361340902404057, 1e-15);
    expectRelative(normalQuantile(1e-300), -37.0470962993612, 1e-15);
  });

  it("is odd about ½ and has the limits at 0 and 1", () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.025)).toBeCloseTo(-normalQuantile(0.975), 14);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});

describe("R30 regularized incomplete beta (Numerical Recipes §6.4)", () => {
  it("matches closed forms and reference values", () => {
    // I_½(2, 3) = Σₖ₌₂⁴ C(4, k) / 2⁴ = 11/16.
    expectRelative(regularizedIncompleteBeta(0.5, 2, 3), 0.6875, 1e-15);
    expectRelative(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-15); // uniform
    expectRelative(regularizedIncompleteBeta(0.3, 2.5, 1), 0.3 ** 2.5, 1e-14); // xᵃ
    expectRelative(regularizedIncompleteBeta(0.3, 10, 20), 0.3640040810719442, 1e-14);
    expectRelative(regularizedIncompleteBeta(1e-5, 0.1, 100), 0.5265317386393841, 1e-14);
    // I_x(500, ½) at x = 0.999 is P(|Z| ≥ ...)-like: both branches of the continued fraction meet here.
    expectRelative(regularizedIncompleteBeta(0.999, 500, 0.5), 0.31731044730971714, 1e-12);
  });

  it("is symmetric, I_x(a, b) = 1 − I_{1−x}(b, a), and has its ends", () => {
    const x = 0.37;
    expect(regularizedIncompleteBeta(x, 3.3, 15.2) + regularizedIncompleteBeta(1 - x, 15.2, 3.3)).toBeCloseTo(
      1,
      14,
    );
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(regularizedIncompleteBeta(0.5, 0, 3)).toBeNaN();
  });
});

describe("R30 Student's t", () => {
  it("quantiles: the textbook ones", () => {
    // ν = 1 is the Cauchy distribution, tan(π (p − ½)); R's qt(0.975, 1) = 12.706204736174707 is
    // that for p exactly 0.975, a little above the double 0.975.
    expectRelative(studentTQuantile(0.975, 1), 12.706204736174692, 1e-14);
    expectRelative(studentTQuantile(0.975, 1), 12.706204736174707, 1e-14);
    expectRelative(studentTQuantile(0.975, 2), 4.302652729749462, 1e-15); // closed form
    expectRelative(studentTQuantile(0.975, 9), 2.262157162798205, 1e-14);
    // R's qt(0.975, 10) prints 2.2281388519649385, 1e-11 off: its CDF there is 0.97499999999909567.
    // The value below satisfies A&S 26.7.3, the closed-form CDF for even ν, to 2e-17.
    expectRelative(studentTQuantile(0.975, 10), 2.2281388519862744, 1e-14);
    expectRelative(studentTQuantile(0.975, 10), 2.2281388519649385, 1e-10);
    expectRelative(studentTQuantile(0.995, 30), 2.749995653567225, 1e-14);
    expectRelative(studentTQuantile(0.975, 1000), 1.962339080826408, 1e-14);
  });

  it("quantiles: fractional degrees of freedom, as Welch's are", () => {
    expectRelative(studentTQuantile(0.975, 17.776), 2.102821310380221, 1e-14);
    expectRelative(studentTQuantile(0.025, 21.982), -2.0739715324622563, 1e-14);
    expectRelative(studentTQuantile(0.999, 2.5), 13.82219311086596, 1e-14);
    // Below one degree of freedom Hill's start does not apply; the power-law tail's does.
    expectRelative(studentTQuantile(0.9, 0.5), 10.270324410234512, 1e-14);
    expectRelative(studentTQuantile(1e-6, 0.5), -102849115631.634, 1e-13);
  });

  it("quantiles: far tails, and many degrees of freedom approaching the normal", () => {
    expectRelative(studentTQuantile(1e-10, 3), -2225.7692846830932, 1e-14);
    expectRelative(studentTQuantile(1e-100, 4), -1.3160740129524926e25, 1e-13);
    // From 10⁴ degrees of freedom on, the Cornish-Fisher expansion (A&S 26.7.5).
    expectRelative(studentTQuantile(0.975, 1e5), 1.9599877075346093, 1e-14);
    expectRelative(studentTQuantile(0.995, 1e6), 2.575834220105334, 1e-14);
    expectRelative(studentTQuantile(1e-20, 1e5), -9.264350176279423, 1e-14);
    expectRelative(studentTQuantile(0.975, 1e9), 1.959963986912325, 1e-14);
    expect(studentTQuantile(0.975, 1000)).toBeGreaterThan(normalQuantile(0.975));
    expect(studentTQuantile(0.975, 1000) - normalQuantile(0.975)).toBeLessThan(0.003);
    expect(studentTQuantile(0.975, Number.POSITIVE_INFINITY)).toBe(normalQuantile(0.975));
  });

  it("quantiles: odd about ½, monotone in p and in ν, and the edges", () => {
    for (const nu of [0.7, 1, 2, 3.5, 17.776, 5e4]) {
      expect(studentTQuantile(0.5, nu)).toBe(0);
      expect(studentTQuantile(0.1, nu)).toBeCloseTo(-studentTQuantile(0.9, nu), 10);
      expect(studentTQuantile(0.95, nu)).toBeGreaterThan(studentTQuantile(0.9, nu));
    }
    expect(studentTQuantile(0.975, 5)).toBeGreaterThan(studentTQuantile(0.975, 5.5));
    expect(studentTQuantile(0, 5)).toBe(Number.NEGATIVE_INFINITY);
    expect(studentTQuantile(1, 5)).toBe(Number.POSITIVE_INFINITY);
    // With ν = 0.01 the tail falls like t^(−0.01), and its 97.5% point is 6.4e128; with ν = 0.001 it
    // is beyond every double.
    expectRelative(studentTQuantile(0.975, 0.01), 6.364181928400051e128, 1e-12);
    expect(studentTQuantile(0.975, 0.001)).toBe(Number.POSITIVE_INFINITY);
    expect(studentTQuantile(0.5, 0)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
  });

  it("the CDF inverts the quantile, across ν and p", () => {
    for (const nu of [0.3, 1.5, 3, 7.25, 30, 999]) {
      for (const p of [1e-12, 1e-4, 0.025, 0.3, 0.6, 0.975, 0.9999]) {
        const t = studentTQuantile(p, nu);
        const tail = p < 0.5 ? studentTCdf(t, nu) : 1 - studentTCdf(t, nu);
        expectRelative(tail, Math.min(p, 1 - p), 1e-12);
      }
    }
  });

  it("CDF and density: reference values, and tails computed directly", () => {
    expectRelative(studentTCdf(-1.5, 4.5), 0.10010954282807676, 1e-14);
    expectRelative(studentTCdf(0.3, 1e6), 0.6179113910105029, 1e-14);
    // 1 − CDF would be 1.1e-16 and 0 here; the lower tails keep their digits.
    expectRelative(studentTCdf(-100, 10), 1.224844777709915e-16, 1e-13);
    expectRelative(studentTCdf(-1e10, 3), 1.102657790843584e-30, 1e-13);
    expect(studentTCdf(0, 3)).toBe(0.5);
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 3)).toBe(0);
    expectRelative(studentTDensity(0, 1), 1 / Math.PI, 2e-15); // Cauchy
    expectRelative(studentTDensity(1, 2), 1 / 3 ** 1.5, 1e-15); // (2 + t²)^(−3/2)
    expect(studentTDensity(Number.POSITIVE_INFINITY, 2)).toBe(0);
  });
});

describe("R30 chi-square upper tail (Numerical Recipes §6.2)", () => {
  it("critical values of the tables give their levels", () => {
    expectRelative(chiSquareUpperTail(3.841458820694124, 1), 0.05000000000000006, 1e-14);
    expectRelative(chiSquareUpperTail(11.070497693516351, 5), 0.05000000000000005, 1e-14);
    expectRelative(chiSquareUpperTail(0.47002, 3), 0.9254267558539683, 1e-14);
    expectRelative(chiSquareUpperTail(30, 30), 0.46565370894400965, 1e-14);
  });

  it("far tails keep their digits; the ends are 1 and 0", () => {
    expectRelative(chiSquareUpperTail(40, 1), 2.539628589470865e-10, 1e-14); // erfc(√20)
    expectRelative(chiSquareUpperTail(100, 10), 5.4497019829205295e-17, 1e-14);
    expectRelative(chiSquareUpperTail(1000, 5), 6.010077687920804e-214, 1e-13);
    expectRelative(chiSquareUpperTail(200, 2), Math.exp(-100), 1e-14); // df 2: exp(−x/2)
    expect(chiSquareUpperTail(0, 1)).toBe(1);
    expect(chiSquareUpperTail(0, 7)).toBe(1);
    expect(chiSquareUpperTail(1e4, 3)).toBe(0); // e^(−5000) is below every double
    expect(chiSquareUpperTail(Number.POSITIVE_INFINITY, 3)).toBe(0);
  });

  it("many degrees of freedom, where xᵃ e⁻ˣ / Γ(a) is a ratio of huge numbers", () => {
    expectRelative(chiSquareUpperTail(101_000, 100_000), 0.01286884037723367, 1e-12);
    expectRelative(regularizedUpperGamma(1, 3), Math.exp(-3), 1e-15);
    expectRelative(regularizedUpperGamma(0.5, 2), 0.04550026389635842, 1e-14); // erfc(√2)
    expect(regularizedUpperGamma(0, 1)).toBeNaN();
  });
});
