import type { ExperimentDefinition, ExperimentGroup } from "../../../src/domain/experiments/definition.js";

/** R30's own example: savings interest at 12% (control) against 18% and against 3% cashback, with a holdout. */
export const SAVINGS_GROUPS: readonly ExperimentGroup[] = [
  {
    groupId: "rate-12",
    weightBp: 4_000,
    role: "control",
    variant: { type: "interest", annualRateBp: 1_200 },
  },
  {
    groupId: "rate-18",
    weightBp: 2_500,
    role: "treatment",
    variant: { type: "interest", annualRateBp: 1_800 },
  },
  {
    groupId: "cashback-3",
    weightBp: 2_500,
    role: "treatment",
    variant: { type: "cashback", cashbackBp: 300 },
  },
  { groupId: "holdout", weightBp: 1_000, role: "holdout", variant: null },
];

export const SAVINGS_EXPERIMENT: ExperimentDefinition = {
  name: { ru: "Ставка накопительного счёта", en: "Savings account rate" },
  mechanic: { type: "savings" },
  groups: SAVINGS_GROUPS,
  segmentId: null,
  strata: ["aov_band", "financial_products"],
  startsAt: new Date("2026-03-01T00:00:00+03:00"),
  endsAt: new Date("2026-06-01T00:00:00+03:00"),
};

/** Customer ids as the marketplace might send them, numbered from 0: a fixed population. */
export const customerIds = (count: number, prefix = "c-"): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** A small seeded generator (mulberry32) for simulated outcomes: the same numbers on every run. */
export function seededRandom(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), t | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    return ((r ^ (r >>> 14)) >>> 0) / 2 ** 32;
  };
}
