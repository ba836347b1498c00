import { chiSquareUpperTail, normalQuantile, studentTQuantile as tQuantile } from "./special-functions.js";

/**
 * R30: the statistics of an experiment's report. Observations are integers (counts, kopecks,
 * points) and their sums are kept exactly, as BigInt, so that a report over millions of customers
 * loses nothing to rounding before the last step: only the estimates and intervals are floating
 * point (this is statistics, not accounting).
 *
 * The distributions' quantiles and tails are in `special-functions.ts`, written out in the domain
 * rather than imported: Wichura's AS 241 for the normal quantile, the t quantile by Newton's method on
 * the t tail (the regularized incomplete beta function, whose degrees of freedom may be fractional, as
 * Welch's are), and the chi-square tail as the upper regularized gamma function computed directly
 * rather than as 1 − CDF, so that a small p-value keeps its digits.
 */

/** Every interval of the report is at this level unless a caller asks for another. */
export const CONFIDENCE_LEVEL = 0.95;

/** An estimate with its confidence interval [low, high]. */
export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** A Welch interval also says its Welch-Satterthwaite degrees of freedom (fractional). */
export interface WelchInterval extends Interval {
  readonly degreesOfFreedom: number;
}

/**
 * The normal quantile (0.975 → 1.959964), the t quantile at `degreesOfFreedom` > 0 (fractional
 * allowed) and the chi-square upper tail Q(k/2, x/2), under the names the report uses.
 */
export { chiSquareUpperTail, normalQuantile, tQuantile };

/** Count, sum and sum of squares of integer observations, exact: a mean and variance in one pass. */
export class Moments {
  #count = 0;
  #sum = 0n;
  #sumOfSquares = 0n;

  add(x: number): void {
    const v = BigInt(x);
    this.#count += 1;
    this.#sum += v;
    this.#sumOfSquares += v * v;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): bigint {
    return this.#sum;
  }

  get sumOfSquares(): bigint {
    return this.#sumOfSquares;
  }

  mean(): number {
    return Number(this.#sum) / this.#count;
  }

  /** The sample variance (n − 1): its numerator n·Σx² − (Σx)² is exact, so it is never negative. */
  variance(): number {
    const n = this.#count;
    return Number(BigInt(n) * this.#sumOfSquares - this.#sum * this.#sum) / (n * (n - 1));
  }
}

/** Pairs (x, y) of integer observations with their cross products, for a ratio Σx / Σy. */
export class PairedMoments {
  readonly x = new Moments();
  readonly y = new Moments();
  #sumOfProducts = 0n;

  add(x: number, y: number): void {
    this.x.add(x);
    this.y.add(y);
    this.#sumOfProducts += BigInt(x) * BigInt(y);
  }

  get sumOfProducts(): bigint {
    return this.#sumOfProducts;
  }
}

const twoSidedQuantile = (confidence: number): number => normalQuantile(1 - (1 - confidence) / 2);

/** The mean with Student's t interval (n − 1 degrees of freedom); null below two observations. */
export function meanInterval(m: Moments, confidence = CONFIDENCE_LEVEL): Interval | null {
  if (m.count < 2) return null;
  const estimate = m.mean();
  const half = tQuantile(1 - (1 - confidence) / 2, m.count - 1) * Math.sqrt(m.variance() / m.count);
  return { estimate, low: estimate - half, high: estimate + half };
}

/**
 * The difference of means a − b with Welch's interval: unequal variances, Welch-Satterthwaite degrees
 * of freedom. Null unless both sides have two observations. When neither side varies at all the
 * interval is the point itself.
 */
export function welchDifference(a: Moments, b: Moments, confidence = CONFIDENCE_LEVEL): WelchInterval | null {
  if (a.count < 2 || b.count < 2) return null;
  const estimate = a.mean() - b.mean();
  const va = a.variance() / a.count;
  const vb = b.variance() / b.count;
  if (va + vb === 0)
    return { estimate, low: estimate, high: estimate, degreesOfFreedom: a.count + b.count - 2 };
  const degreesOfFreedom = (va + vb) ** 2 / (va ** 2 / (a.count - 1) + vb ** 2 / (b.count - 1));
  const half = tQuantile(1 - (1 - confidence) / 2, degreesOfFreedom) * Math.sqrt(va + vb);
  return { estimate, low: estimate - half, high: estimate + half, degreesOfFreedom };
}

/**
 * A proportion with Wilson's score interval (Wilson 1927; Newcombe 1998, method 3): unlike the Wald
 * interval it stays inside [0, 1] and keeps its coverage near 0 and 1. Null for no trials.
 */
export function wilsonInterval(
  successes: number,
  trials: number,
  confidence = CONFIDENCE_LEVEL,
): Interval | null {
  if (trials === 0) return null;
  const z = twoSidedQuantile(confidence);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials))) / (1 + z2n);
  return {
    estimate: p,
    low: successes === 0 ? 0 : centre - half,
    high: successes === trials ? 1 : centre + half,
  };
}

/**
 * The difference of proportions a − b with Newcombe's hybrid score interval (Newcombe 1998, "Interval
 * estimation for the difference between independent proportions", method 10): each side's Wilson
 * limits combined as L = d − √((pa − la)² + (ub − pb)²), U = d + √((ua − pa)² + (pb − lb)²). Null
 * unless both sides have trials.
 */
export function newcombeDifference(
  a: { readonly successes: number; readonly trials: number },
  b: { readonly successes: number; readonly trials: number },
  confidence = CONFIDENCE_LEVEL,
): Interval | null {
  const wa = wilsonInterval(a.successes, a.trials, confidence);
  const wb = wilsonInterval(b.successes, b.trials, confidence);
  if (wa === null || wb === null) return null;
  const estimate = wa.estimate - wb.estimate;
  return {
    estimate,
    low: estimate - Math.hypot(wa.estimate - wa.low, wb.high - wb.estimate),
    high: estimate + Math.hypot(wa.high - wa.estimate, wb.estimate - wb.low),
  };
}

/**
 * The ratio Σx / Σy of per-customer sums (orders' revenue over orders: the average order value) and
 * the delta method's variance of it, the customer being the unit that was randomized (Deng, Knoblich,
 * Lu 2018, "Applying the Delta Method in Metric Analytics"): Var ≈ s²(x − R·y) / (n·ȳ²), which is the
 * usual (s²x − 2R·sxy + R²·s²y) / (n·ȳ²). With X = Σx, Y = Σy the residuals x − (X/Y)·y sum to zero,
 * so s²(x − R·y) = Σ(x − R·y)² / (n − 1), and Y²·Σ(x − R·y)² = Y²Σx² − 2XYΣxy + X²Σy² is an exact
 * integer, never negative: Var = that / Y⁴ · n / (n − 1). Null unless n ≥ 2 and Σy > 0.
 */
function ratioWithVariance(p: PairedMoments): { estimate: number; variance: number } | null {
  const n = p.x.count;
  const X = p.x.sum;
  const Y = p.y.sum;
  if (n < 2 || Y === 0n) return null;
  const residualSquares = Y * Y * p.x.sumOfSquares - 2n * X * Y * p.sumOfProducts + X * X * p.y.sumOfSquares;
  const y2 = Number(Y * Y);
  return { estimate: Number(X) / Number(Y), variance: (Number(residualSquares) / y2 / y2) * (n / (n - 1)) };
}

/** The ratio Σx / Σy with its delta-method normal interval; null unless n ≥ 2 and Σy > 0. */
export function ratioInterval(p: PairedMoments, confidence = CONFIDENCE_LEVEL): Interval | null {
  const r = ratioWithVariance(p);
  if (r === null) return null;
  const half = twoSidedQuantile(confidence) * Math.sqrt(r.variance);
  return { estimate: r.estimate, low: r.estimate - half, high: r.estimate + half };
}

/** The difference of two independent groups' ratios a − b, delta method, normal interval. */
export function ratioDifference(
  a: PairedMoments,
  b: PairedMoments,
  confidence = CONFIDENCE_LEVEL,
): Interval | null {
  const ra = ratioWithVariance(a);
  const rb = ratioWithVariance(b);
  if (ra === null || rb === null) return null;
  const estimate = ra.estimate - rb.estimate;
  const half = twoSidedQuantile(confidence) * Math.sqrt(ra.variance + rb.variance);
  return { estimate, low: estimate - half, high: estimate + half };
}

export interface GoodnessOfFit {
  readonly chiSquare: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  /** The smallest expected count: below 5 the chi-square approximation is not to be trusted. */
  readonly smallestExpected: number;
}

/**
 * Pearson's chi-square goodness of fit of observed counts to the shares `weights` stand for (any
 * positive numbers, e.g. basis points); k − 1 degrees of freedom. Null when nothing was observed.
 */
export function chiSquareGoodnessOfFit(
  observed: readonly number[],
  weights: readonly number[],
): GoodnessOfFit | null {
  if (observed.length !== weights.length || observed.length < 2)
    throw new Error("goodness of fit: one weight per observed count, and at least two of them");
  const total = observed.reduce((s, o) => s + o, 0);
  if (total === 0) return null;
  const weightSum = weights.reduce((s, w) => s + w, 0);
  let chiSquare = 0;
  let smallestExpected = Number.POSITIVE_INFINITY;
  observed.forEach((o, i) => {
    const expected = (total * (weights[i] ?? 0)) / weightSum;
    chiSquare += (o - expected) ** 2 / expected;
    smallestExpected = Math.min(smallestExpected, expected);
  });
  const degreesOfFreedom = observed.length - 1;
  return {
    chiSquare,
    degreesOfFreedom,
    pValue: chiSquareUpperTail(chiSquare, degreesOfFreedom),
    smallestExpected,
  };
}
