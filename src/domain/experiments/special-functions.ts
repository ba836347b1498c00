/**
 * R30: the few special functions the experiment report's statistics need, written out here so that
 * the domain imports nothing outside itself (STYLE.md, habit 2): the standard normal quantile, the
 * Student t distribution (tail, density, quantile) and the chi-square upper tail, built on the
 * log-gamma function and the regularized incomplete beta and gamma functions.
 *
 * Each is a textbook algorithm, cited where it is written, and tested against values computed to 40
 * digits (`test/domain/experiments/special-functions.test.ts`): the quantiles agree to about 1e-14
 * relative, the tails to about 1e-13. Two habits throughout:
 *
 * - small tails are computed directly, never as 1 − CDF, which would round a p-value of 1e-20 to 0;
 * - where large arguments make terms cancel (a Welch interval over millions of customers has
 *   millions of degrees of freedom, and ln Γ(500,000) ≈ 6·10⁶ leaves only 1e-9 of absolute precision),
 *   the cancellation is done in closed form first, with Stirling's series for what remains.
 *
 * Floating point is right here and only here: these are statistics over integer counts and kopecks
 * (a report's intervals and p-values), never an amount that is credited, spent or owed.
 */

/** Below this a continued fraction's denominators are nudged off zero (Numerical Recipes §5.2). */
const TINY = 1e-300;
/** A series or continued fraction stops once its next term changes the result by less than this. */
const EPSILON = Number.EPSILON;
/** Enough for every argument a report meets; the continued fractions need about √max(a, b) terms. */
const MAX_ITERATIONS = 100_000;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** From here up, Stirling's series gives ln Γ's correction ω(x) to full precision in eight terms. */
const STIRLING_FROM = 10;

// ---------------------------------------------------------------------------------------------
// The gamma and beta functions
// ---------------------------------------------------------------------------------------------

/** c₀ + c₁x + … + cₙxⁿ by Horner's rule, the coefficients in ascending order. */
function polynomial(coefficients: readonly number[], x: number): number {
  return coefficients.reduceRight((sum, c) => sum * x + c, 0);
}

/**
 * Lanczos's coefficients for g = 607/128 and 15 terms, as Numerical Recipes (3rd ed., §6.1, `gammln`)
 * tabulates them (after Godfrey), each the nearest double to the published 18 digits: ln Γ(x) to
 * about 1e-15 relative for x > 0.
 */
const LANCZOS_G = 607 / 128;
const LANCZOS_C0 = 0.9999999999999971;
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 3.399464998481189e-5,
  4.652362892704858e-5, -9.837447530487956e-5, 1.580887032249125e-4, -2.1026444172410488e-4,
  2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5, -2.6190838401581408e-5,
  3.6899182659531625e-6,
];

/** ln Γ(x) for x > 0, by the Lanczos approximation (Numerical Recipes §6.1). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return x;
  let series = LANCZOS_C0;
  LANCZOS.forEach((c, j) => {
    series += c / (x + 1 + j);
  });
  const t = x + LANCZOS_G + 0.5;
  return (x + 0.5) * Math.log(t) - t + Math.log((Math.sqrt(2 * Math.PI) * series) / x);
}

const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/**
 * Stirling's correction ω(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π] for x ≥ 10: the asymptotic
 * series Σ B₂ₖ / (2k (2k − 1) x²ᵏ⁻¹) (Abramowitz & Stegun 6.1.40) to its eighth term; the first term
 * left out is below 2e-18 at x = 10. Unlike ln Γ itself it is small, so it keeps its relative
 * precision when two of them are subtracted.
 */
function stirlingCorrection(x: number): number {
  return polynomial(STIRLING, 1 / (x * x)) / x;
}

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b) for a, b > 0. For small arguments the three logarithms
 * are added as they are; once one argument is large, ln Γ(a) and ln Γ(a + b) are huge and nearly
 * equal, so their difference is taken in closed form from Stirling's formula:
 * ln Γ(a) − ln Γ(a + b) = −(a − ½) ln(1 + b/a) − b ln(a + b) + b + ω(a) − ω(a + b).
 */
export function logBeta(a: number, b: number): number {
  const small = Math.min(a, b);
  const large = Math.max(a, b);
  if (large < STIRLING_FROM) return logGamma(a) + logGamma(b) - logGamma(a + b);
  const sum = a + b;
  const corrections = stirlingCorrection(large) - stirlingCorrection(sum);
  const common = -(large - 0.5) * Math.log1p(small / large) - small * Math.log(sum);
  if (small < STIRLING_FROM) return logGamma(small) + common + small + corrections;
  // Both large: ln Γ(small) by Stirling too; its −small cancels the +small above, and ½ ln 2π stays.
  return LN_SQRT_2PI + (small - 0.5) * Math.log(small) + common + stirlingCorrection(small) + corrections;
}

// ---------------------------------------------------------------------------------------------
// The regularized incomplete beta function
// ---------------------------------------------------------------------------------------------

/**
 * The continued fraction for I_x(a, b) (Numerical Recipes §6.4, `betacf`), evaluated by the modified
 * Lentz method (§5.2): I_x(a, b) = xᵃ (1 − x)ᵇ / (a B(a, b)) · this. It converges quickly for
 * x < (a + 1) / (a + b + 2); beyond that the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) is used.
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const nudge = (v: number): number => (Math.abs(v) < TINY ? TINY : v);
  let c = 1;
  let d = 1 / nudge(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    // The even step d₂ₘ = m (b − m) x / ((a + 2m − 1)(a + 2m)) …
    let term = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / nudge(1 + term * d);
    c = nudge(1 + term / c);
    h *= d * c;
    // … and the odd one d₂ₘ₊₁ = −(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    term = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / nudge(1 + term * d);
    c = nudge(1 + term / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPSILON) return h;
  }
  throw new Error(`incomplete beta: the continued fraction did not converge (x ${x}, a ${a}, b ${b})`);
}

/**
 * I_x(a, b) given x and y = 1 − x separately (so that whichever is small keeps its precision) and
 * ln[xᵃ yᵇ / B(a, b)], which a caller may know more precisely than it could be computed from x and y.
 */
function incompleteBeta(x: number, y: number, a: number, b: number, logFront: number): number {
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(y, b, a)) / b;
}

/**
 * The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b) for 0 ≤ x ≤ 1 and a, b > 0:
 * the continued fraction of Numerical Recipes §6.4. I_0.5(2, 3) = 0.6875.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (Number.isNaN(x) || !(a > 0) || !(b > 0)) return Number.NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return incompleteBeta(x, 1 - x, a, b, a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b));
}

// ---------------------------------------------------------------------------------------------
// The regularized incomplete gamma function and the chi-square distribution
// ---------------------------------------------------------------------------------------------

/**
 * ln[xᵃ e⁻ˣ / Γ(a)], the factor in front of both the series and the continued fraction. For large a
 * the terms a ln x, x and ln Γ(a) are huge and cancel; with Stirling's formula and d = (x − a) / a it is
 * a (ln(1 + d) − d) + ½ ln(a / 2π) − ω(a), whose terms are of the size of the result.
 */
function logGammaFront(a: number, x: number): number {
  if (a < STIRLING_FROM) return a * Math.log(x) - x - logGamma(a);
  const d = (x - a) / a;
  return a * (Math.log1p(d) - d) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingCorrection(a);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) for a > 0, x ≥ 0
 * (Numerical Recipes §6.2): for x < a + 1 the series for P(a, x) = 1 − Q (`gser`), where Q is not
 * small, otherwise the continued fraction for Q itself (`gcf`, modified Lentz), so that a far tail
 * such as Q(1, 100) = e⁻¹⁰⁰ keeps all its digits.
 */
export function regularizedUpperGamma(a: number, x: number): number {
  if (Number.isNaN(x) || !(a > 0)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const front = Math.exp(logGammaFront(a, x));
  if (x < a + 1) {
    // P(a, x) = xᵃ e⁻ˣ / Γ(a) · Σₙ xⁿ / (a (a + 1) … (a + n)).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n <= MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) return 1 - front * sum;
    }
    throw new Error(`incomplete gamma: the series did not converge (a ${a}, x ${x})`);
  }
  // Q(a, x) = xᵃ e⁻ˣ / Γ(a) · 1 / (x + 1 − a − 1·(1 − a) / (x + 3 − a − 2·(2 − a) / (x + 5 − a − …))).
  const nudge = (v: number): number => (Math.abs(v) < TINY ? TINY : v);
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / nudge(an * d + b);
    c = nudge(b + an / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPSILON) return front * h;
  }
  throw new Error(`incomplete gamma: the continued fraction did not converge (a ${a}, x ${x})`);
}

/** P(X ≥ x) for X chi-square with k > 0 degrees of freedom: Q(k/2, x/2). 1 at x = 0. */
export function chiSquareUpperTail(x: number, degreesOfFreedom: number): number {
  return regularizedUpperGamma(degreesOfFreedom / 2, x / 2);
}

// ---------------------------------------------------------------------------------------------
// The standard normal quantile
// ---------------------------------------------------------------------------------------------

/*
 * Wichura's coefficients, in ascending powers, each the nearest double to the published 20 digits:
 * a₀…a₇ / b₀…b₇ about the median, c / d for r = √(−ln q) ≤ 5, e / f beyond.
 */
const AS241_A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const AS241_B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852546,
];
const AS241_C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 7.745450142783414e-4,
];
const AS241_D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  5.475938084995345e-4, 1.0507500716444169e-9,
];
const AS241_E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const AS241_F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 7.868691311456133e-4, 1.8463183175100548e-5,
  1.421511758316446e-7, 2.0442631033899397e-15,
];

/**
 * The p-quantile of the standard normal distribution: Wichura's algorithm AS 241, PPND16 (Applied
 * Statistics 37 (1988) 477–484), rational approximations of degree 7 accurate to about 1e-16
 * relative — the algorithm R's `qnorm` uses. Three regions: |p − ½| ≤ 0.425, then
 * r = √(−ln min(p, 1 − p)) ≤ 5 (down to p ≈ 1.4e-11), and beyond.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q; // 0.425² − q²
    return (q * polynomial(AS241_A, r)) / polynomial(AS241_B, r);
  }
  // 1 − p is exact for p ≥ ½ (Sterbenz), so the upper tail loses nothing here.
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const value =
    r <= 5
      ? polynomial(AS241_C, r - 1.6) / polynomial(AS241_D, r - 1.6)
      : polynomial(AS241_E, r - 5) / polynomial(AS241_F, r - 5);
  return q < 0 ? -value : value;
}

// ---------------------------------------------------------------------------------------------
// Student's t distribution
// ---------------------------------------------------------------------------------------------

/**
 * What the t tail and density at t share, for ν degrees of freedom: L = ln(1 + t²/ν) without
 * overflowing t², x = ν / (ν + t²) and y = t² / (ν + t²) each to full relative precision, and ln|t/√ν|.
 */
function tTerms(t: number, nu: number): { L: number; x: number; y: number; logR: number } {
  const r = Math.abs(t) / Math.sqrt(nu);
  // r overflows for a huge t and ν < 1; its logarithm does not.
  const logR = Number.isFinite(r) ? Math.log(r) : Math.log(Math.abs(t)) - 0.5 * Math.log(nu);
  if (r <= 1) {
    const r2 = r * r;
    return { L: Math.log1p(r2), x: 1 / (1 + r2), y: r2 / (1 + r2), logR };
  }
  const inverse = 1 / r / r;
  return { L: 2 * logR + Math.log1p(inverse), x: inverse / (1 + inverse), y: 1 / (1 + inverse), logR };
}

/**
 * P(T ≥ t) for T Student's t with ν > 0 degrees of freedom (fractional allowed), t ≥ 0:
 * ½ I_x(ν/2, ½) with x = ν / (ν + t²) (Abramowitz & Stegun 26.7.1, 26.5.27). The continued fraction's
 * front factor xᵃ yᵇ / B(a, b) is −((ν + 1)/2) ln(1 + t²/ν) + ln|t/√ν| − ln B(ν/2, ½) in logarithms,
 * computed from t itself: from x, rounded near 1, it would lose digits in proportion to ν.
 */
function tUpperTailOfPositive(t: number, nu: number): number {
  if (t === 0) return 0.5;
  if (t === Number.POSITIVE_INFINITY) return 0;
  const { L, x, y, logR } = tTerms(t, nu);
  const logFront = -((nu + 1) / 2) * L + logR - logBeta(nu / 2, 0.5);
  return 0.5 * incompleteBeta(x, y, nu / 2, 0.5, logFront);
}

/** P(T ≤ t) for T Student's t with ν > 0 degrees of freedom; each tail is computed directly. */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t) || !(degreesOfFreedom > 0)) return Number.NaN;
  return t < 0 ? tUpperTailOfPositive(-t, degreesOfFreedom) : 1 - tUpperTailOfPositive(t, degreesOfFreedom);
}

/** ln f(t), f the density of Student's t: −((ν + 1)/2) ln(1 + t²/ν) − ½ ln ν − ln B(ν/2, ½). */
function tLogDensity(t: number, nu: number): number {
  return -((nu + 1) / 2) * tTerms(t, nu).L - 0.5 * Math.log(nu) - logBeta(nu / 2, 0.5);
}

/** The density of Student's t: (1 + t²/ν)^(−(ν+1)/2) / (√ν B(ν/2, ½)). */
export function studentTDensity(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t) || !(degreesOfFreedom > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.exp(tLogDensity(t, degreesOfFreedom));
}

/**
 * ln t₀, a starting point for the t quantile with upper tail q < ½ and ν ≥ 1: G. W. Hill, "Algorithm
 * 396: Student's t-quantiles", Communications of the ACM 13 (1970) 619–620, as R's `qt` uses it — an
 * expansion about the normal quantile, or in the far tail of few degrees of freedom one about the
 * power law P(T ≥ t) ∝ t^(−ν), taken in logarithms so that a tiny q cannot underflow. Within a few
 * digits everywhere, which Newton's steps then complete.
 */
function hillStart(q: number, nu: number): number {
  const P = 2 * q; // Hill works with the two-sided probability
  const a = 1 / (nu - 0.5);
  const b = 48 / (a * a);
  let c = (((20700 * a) / b - 98) * a - 16) * a + 96.36;
  const d = ((94.5 / (b + c) - 3) / b + 1) * Math.sqrt((a * Math.PI) / 2) * nu;
  const logY = (2 / nu) * (Math.log(d) + Math.log(P));
  if ((nu < 2.1 && P > 0.5) || logY > Math.log(0.05 + a)) {
    const x = normalQuantile(0.5 * P);
    let y = x * x;
    if (nu < 5) c += 0.3 * (nu - 4.5) * (x + 0.6);
    c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c;
    y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x;
    return 0.5 * Math.log(nu * Math.expm1(a * y * y));
  }
  // Below ε the expression below is 1/y to working precision: t₀ = √(ν / y).
  if (logY < Math.log(EPSILON)) return 0.5 * (Math.log(nu) - logY);
  const y = Math.exp(logY);
  const z =
    ((1 / (((nu + 6) / (nu * y) - 0.089 * d - 0.822) * (nu + 2) * 3) + 0.5 / (nu + 4)) * y - 1) *
      ((nu + 1) / (nu + 2)) +
    1 / y;
  return 0.5 * Math.log(nu * z);
}

/**
 * ln t₀ for ν < 1, outside Hill's range: the leading term of the tail, P(T ≥ t) ≈ ν^(ν/2 − 1) t^(−ν) / B(ν/2, ½),
 * solved for t. Exact in the limit of small q; nearer the middle Newton's steps and the bracket do the rest.
 */
function powerLawStart(q: number, nu: number): number {
  return 0.5 * Math.log(nu) - (Math.log(q) + Math.log(nu) + logBeta(nu / 2, 0.5)) / nu;
}

/**
 * The Cornish-Fisher expansion of the t quantile about the normal one, z the normal quantile
 * (Abramowitz & Stegun 26.7.5): t = z + g₁/ν + g₂/ν² + g₃/ν³ + g₄/ν⁴. Its error is about
 * 0.05/ν⁵ + 1e-4 (z²/ν)⁵ relative, so below 1e-16 once ν ≥ 10⁴ and z² ≤ ν/200. There it is the
 * more precise: the continued fraction, its terms multiples of x = ν/(ν + t²) ≈ 1, loses digits in
 * proportion to ν once |t| > √3 (1e-13 at ν = 10⁴, 1e-10 at ν = 10⁸).
 */
function cornishFisher(z: number, nu: number): number {
  const z2 = z * z;
  const g1 = ((z2 + 1) * z) / 4;
  const g2 = (((5 * z2 + 16) * z2 + 3) * z) / 96;
  const g3 = ((((3 * z2 + 19) * z2 + 17) * z2 - 15) * z) / 384;
  const g4 = (((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z) / 92160;
  return z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu;
}

/** Newton's steps stop once a step in ln t is below this: the next would be below 1e-24. */
const T_QUANTILE_TOLERANCE = 1e-12;
const T_QUANTILE_MAX_STEPS = 200;

/**
 * The p-quantile of Student's t with ν > 0 degrees of freedom (fractional allowed, as Welch's are);
 * accurate to about 1e-14 relative. ν = 1 (Cauchy) and ν = 2 have closed forms, and ν ≥ 10⁴ in all
 * but the farthest tails the Cornish-Fisher expansion. Otherwise the upper tail S(t) = P(T ≥ t) = q,
 * q = min(p, 1 − p), is solved for t > 0 by Newton's method on ln S as a function of u = ln t
 * (d ln S / du = −t f(t) / S(t), f the density), in which the power-law tails of few degrees of freedom
 * are nearly straight lines; from Hill's starting point, inside a bracket on u that falls back to
 * bisection should a step leave it.
 */
export function studentTQuantile(p: number, degreesOfFreedom: number): number {
  const nu = degreesOfFreedom;
  if (Number.isNaN(p) || p < 0 || p > 1 || !(nu > 0)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  if (nu === Number.POSITIVE_INFINITY) return normalQuantile(p);
  const sign = p < 0.5 ? -1 : 1;
  const q = p < 0.5 ? p : 1 - p; // exact for p ≥ ½
  // S(t) = ½ − atan(t)/π for ν = 1, and ½ (1 − t / √(2 + t²)) for ν = 2.
  if (nu === 1) return sign / Math.tan(Math.PI * q);
  if (nu === 2) return (sign * (1 - 2 * q)) / Math.sqrt(2 * q * (1 - q));
  if (nu >= 1e4) {
    const z = normalQuantile(q); // negative: the lower tail's
    if (z * z <= nu / 200) return -sign * cornishFisher(z, nu);
  }

  // Below one degree of freedom the tails are so heavy that a quantile may lie beyond every double.
  if (nu < 1 && tUpperTailOfPositive(Number.MAX_VALUE, nu) >= q) return sign * Number.POSITIVE_INFINITY;
  // ln S falls as u grows: below `low` S is above q, above `high` below it.
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let u: number;
  if (nu >= 1) u = hillStart(q, nu);
  else {
    // S is convex and below its power-law leading term, so (½ − q) / f(0) ≤ t ≤ the power law's t.
    low = Math.log((0.5 - q) / studentTDensity(0, nu));
    high = powerLawStart(q, nu);
    u = high;
  }
  if (!Number.isFinite(u)) u = 0;
  for (let i = 0; i < T_QUANTILE_MAX_STEPS; i++) {
    const t = Math.exp(u);
    const tail = tUpperTailOfPositive(t, nu);
    if (tail === q) return sign * t;
    const excess = Math.log(tail / q);
    if (excess > 0) low = u;
    else high = u;
    // −d ln S / du = t f(t) / S(t), in logarithms: in a far tail f(t) alone may underflow.
    let next = u + excess / Math.exp(u + tLogDensity(t, nu) - Math.log(tail));
    if (Math.abs(next - u) <= T_QUANTILE_TOLERANCE) return sign * Math.exp(next);
    // A step that leaves the bracket (or overflows) gives way to bisection, or while one end is still
    // open, to a step of max(1, |u|) towards it.
    if (!(Number.isFinite(next) && next >= low && next <= high)) {
      if (Number.isFinite(low) && Number.isFinite(high)) next = (low + high) / 2;
      else next = u + (excess > 0 ? 1 : -1) * Math.max(1, Math.abs(u));
    }
    if (high - low <= T_QUANTILE_TOLERANCE) return sign * Math.exp(next);
    u = next;
  }
  return sign * Math.exp(u);
}
