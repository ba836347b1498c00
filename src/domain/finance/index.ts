export * from "./months.js";

/**
 * The finance figures, defined once (README "Finance: liability, breakage and reconciliation").
 * Points are bigint here: a total over every customer may pass 2^53.
 */

/** R6, R20: what customers hold of a kind and funder — pending, available and held points. */
export function outstanding(figures: { pending: bigint; available: bigint; held: bigint }): bigint {
  return figures.pending + figures.available + figures.held;
}

/**
 * A funder's month: what it issued, less what was taken back out of its lots (returns R13/R14,
 * support removals R34) and what expired in them (R5) — the points it pays for, spent or still
 * outstanding.
 */
export function statementNet(month: { issued: bigint; clawedBack: bigint; expired: bigint }): bigint {
  return month.issued - month.clawedBack - month.expired;
}
