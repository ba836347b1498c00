import { BASIS_POINTS_PER_UNIT } from "../kinds.js";
import type { ExperimentDefinition, ExperimentGroup, StratumDimension } from "./definition.js";
import { chiSquareGoodnessOfFit, type GoodnessOfFit } from "./statistics.js";

/**
 * R30: which group of an experiment a customer is in — a pure function of the experiment's id, its
 * groups and the customer's id, so every process, replica and re-run agrees without storing it.
 *
 * The hash: MurmurHash3 x86_32 (Austin Appleby's reference, SMHasher; seed 0) of the UTF-8 bytes of
 * `${experimentId}:${customerId}`, into 10,000 buckets as Optimizely's SDKs do. It is fast, well mixed
 * (it passes SMHasher's avalanche tests: an input bit flips each output bit with probability close to
 * ½), widely implemented and a dozen lines long, so an analyst can recompute a customer's bucket in
 * SQL or Python. A cryptographic hash buys nothing here (nobody gains by predicting their own group),
 * and node:crypto is outside src/domain (its lint forbids node:*). For one experiment
 * the key is one-to-one with the customer id; two experiments' keys differ, so their splits are
 * independent of each other (no customer is in "the first group" of every experiment).
 *
 * Buckets: the 32-bit hash h maps to ⌊h × 10,000 / 2³²⌋, one of 10,000 buckets of 429,496 or 429,497
 * hash values each (a bias below 3 in a million). A group's weight in basis points is its number of
 * buckets, and the groups take contiguous ranges in their listed order: group i holds buckets
 * [W₁ + … + Wᵢ₋₁, W₁ + … + Wᵢ).
 *
 * Stability when weights change (the groups and their order staying the same): a customer keeps
 * their group exactly when their bucket lies in that group's range both before and after. So
 * - moving weight between two neighbouring groups moves only the customers in the buckets between the
 *   old and the new boundary of the two, from one of them to the other; everyone else stays. Growing
 *   the last group takes only from the group listed before it, and only the customers it takes move.
 * - moving weight between groups that are not neighbours moves every boundary between them: customers
 *   of the groups in between move too (from the first group to the third, part of the second moves).
 *   List the groups whose weights will change next to each other.
 * - a group's id plays no part: renaming a group keeps its customers; reordering groups, inserting or
 *   removing one reassigns customers as the new ranges say. The experiment's id is in the key:
 *   a new experiment is a new, independent split.
 */

/** One bucket per basis point of weight. */
export const BUCKETS = BASIS_POINTS_PER_UNIT;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function scrambleBlock(k: number): number {
  const mixed = Math.imul(k, C1);
  return Math.imul((mixed << 15) | (mixed >>> 17), C2);
}

/** MurmurHash3 x86_32 of `data` with `seed`, as an unsigned 32-bit integer. */
export function murmur3x86_32(data: Uint8Array, seed: number): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tail = data.length & 3;
  const blocksEnd = data.length - tail;
  let h = seed | 0;
  for (let i = 0; i < blocksEnd; i += 4) {
    h ^= scrambleBlock(view.getUint32(i, true));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (tail > 0) {
    let k = 0;
    for (let i = tail - 1; i >= 0; i--) k = (k << 8) | view.getUint8(blocksEnd + i);
    h ^= scrambleBlock(k);
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

/** The customer's bucket in the experiment, 0 to 9,999. */
export function bucketOf(experimentId: string, customerId: string): number {
  const hash = murmur3x86_32(utf8.encode(`${experimentId}:${customerId}`), 0);
  return Math.floor((hash * BUCKETS) / 2 ** 32);
}

/** The group whose bucket range holds `bucket`; the weights must sum to 10,000. */
export function groupOfBucket<G extends Pick<ExperimentGroup, "weightBp">>(
  groups: readonly G[],
  bucket: number,
): G {
  let upper = 0;
  for (const g of groups) {
    upper += g.weightBp;
    if (bucket < upper) return g;
  }
  throw new Error(`bucket ${bucket} is beyond the groups' weights: the definition was not validated`);
}

/** R29: an experiment limited to a segment takes only its members; one without takes everyone. */
export function isEligible(d: Pick<ExperimentDefinition, "segmentId">, inSegment: boolean): boolean {
  return d.segmentId === null || inSegment;
}

/**
 * R30: the customer's group, or null when the experiment does not take them. `inSegment`: whether
 * the customer is a member of the experiment's segment (ignored when it has none). Whether the
 * experiment is running is the caller's to say: the group does not depend on time.
 */
export function assignCustomer(
  experimentId: string,
  d: Pick<ExperimentDefinition, "groups" | "segmentId">,
  customerId: string,
  inSegment: boolean,
): ExperimentGroup | null {
  return isEligible(d, inSegment) ? groupOfBucket(d.groups, bucketOf(experimentId, customerId)) : null;
}

/*
 * Stratification, and what hashing can and cannot do for it. The hash knows nothing about the
 * customer, so within any stratum the groups' shares tend to the weights with the spread of a random
 * split (about √(n·w·(1 − w)) customers for a group of weight w among n). It cannot force each
 * stratum's counts to match the weights, as blocked randomization does, since a stateless hash has
 * no memory of whom it already placed. Salting the hash with the stratum would not do that either —
 * it would still be a random split within each stratum, only another one — and it would make the
 * group depend on the stratum, so a customer whose AOV band changes would change group mid-experiment.
 * So strata are not part of the key: they are checked. A stratum is read from data from before the
 * experiment starts (data after it may be the treatment's effect), and every stratum's split is
 * tested against the weights; a failed check points to a bug (strata taken from later data,
 * eligibility that depends on the group, lost assignments), not to chance, at these thresholds.
 */

/** Each customer's value of each of the experiment's stratifying dimensions, e.g. an AOV band's label. */
export type StratumValues = Readonly<Partial<Record<StratumDimension, string>>>;

/** The stratum a customer is in: their values of `dimensions`, in order, as one key. */
export function stratumOf(dimensions: readonly StratumDimension[], values: StratumValues): string {
  return JSON.stringify(
    dimensions.map((dimension) => {
      const value = values[dimension];
      if (value === undefined) throw new Error(`the customer's stratum lacks ${dimension}`);
      return value;
    }),
  );
}

/**
 * A sample ratio mismatch is declared at p < 0.001: an experiment is read many times, and a stricter
 * threshold than 0.05 keeps false alarms rare while a real mismatch over thousands of customers still
 * shows at p far below it (Fabijan et al. 2019, "Diagnosing Sample Ratio Mismatch in Online Controlled
 * Experiments").
 */
export const SAMPLE_RATIO_MISMATCH_P = 0.001;

/** Below this many expected customers in a group, the chi-square approximation is not to be trusted. */
export const MIN_EXPECTED_FOR_CHI_SQUARE = 5;

export interface GroupCount {
  readonly groupId: string;
  readonly customers: number;
}

export interface SampleRatioCheck {
  readonly groups: readonly GroupCount[];
  /** The chi-square goodness of fit of the counts to the weights; null when there is no customer. */
  readonly fit: GoodnessOfFit | null;
  /** p below the threshold, with every expected count at least 5 (else the test says nothing). */
  readonly mismatch: boolean;
}

const judgeable = (fit: GoodnessOfFit | null): fit is GoodnessOfFit =>
  fit !== null && fit.smallestExpected >= MIN_EXPECTED_FOR_CHI_SQUARE;

function splitCheck(
  groups: readonly ExperimentGroup[],
  customers: readonly number[],
  fit: GoodnessOfFit | null,
  threshold: number,
): SampleRatioCheck {
  return {
    groups: groups.map((g, i) => ({ groupId: g.groupId, customers: customers[i] ?? 0 })),
    fit,
    mismatch: judgeable(fit) && fit.pValue < threshold,
  };
}

const fitToWeights = (groups: readonly ExperimentGroup[], customers: readonly number[]) =>
  chiSquareGoodnessOfFit(
    customers,
    groups.map((g) => g.weightBp),
  );

/** The split's counts (one per group, in the groups' order) against the groups' weights. */
export function sampleRatioCheck(
  groups: readonly ExperimentGroup[],
  customers: readonly number[],
): SampleRatioCheck {
  return splitCheck(groups, customers, fitToWeights(groups, customers), SAMPLE_RATIO_MISMATCH_P);
}

export interface StratumSplit extends SampleRatioCheck {
  readonly stratum: string;
}

export interface StratumBalanceReport {
  /** Per stratum, in the order they were first seen. */
  readonly strata: readonly StratumSplit[];
  /**
   * The threshold each stratum was judged at: 0.001 divided by the number of strata large enough to
   * judge (Bonferroni), so that the chance of any false alarm stays below 0.001 however many strata.
   */
  readonly threshold: number;
  readonly imbalanced: boolean;
}

/** Counts an experiment's customers per stratum and group, in one pass, and checks each stratum's split. */
export class StratumBalance {
  readonly #groups: readonly ExperimentGroup[];
  readonly #position: ReadonlyMap<string, number>;
  readonly #counts = new Map<string, number[]>();

  constructor(groups: readonly ExperimentGroup[]) {
    this.#groups = groups;
    this.#position = new Map(groups.map((g, i) => [g.groupId, i]));
  }

  add(stratum: string, groupId: string): void {
    const position = this.#position.get(groupId);
    if (position === undefined) throw new Error(`no group ${groupId} in the experiment`);
    const counts = this.#counts.get(stratum) ?? this.#groups.map(() => 0);
    counts[position] = (counts[position] ?? 0) + 1;
    this.#counts.set(stratum, counts);
  }

  check(): StratumBalanceReport {
    const fits = [...this.#counts].map(([stratum, counts]) => ({
      stratum,
      counts,
      fit: fitToWeights(this.#groups, counts),
    }));
    const threshold = SAMPLE_RATIO_MISMATCH_P / Math.max(fits.filter((f) => judgeable(f.fit)).length, 1);
    const strata = fits.map(({ stratum, counts, fit }) => ({
      stratum,
      ...splitCheck(this.#groups, counts, fit, threshold),
    }));
    return { strata, threshold, imbalanced: strata.some((s) => s.mismatch) };
  }
}
