import { BASIS_POINTS_PER_UNIT, KOPECKS_PER_POINT, POINT_KINDS, type PointKind } from "../kinds.js";
import type { LocalizedText } from "../text.js";
import { isNonNegativeInteger, mulDivFloor, pointsFromKop } from "./arithmetic.js";
import {
  type CapReasonCode,
  type CapReasonNumbers,
  capReasonText,
  refusalText,
  type SpendRefusalCode,
  type SpendRefusalDetails,
} from "./caps-text.js";
import { type CartLine, lineAmountKop, orderTotalKop, unitCount } from "./cart.js";
import { type EarningConfig, rateForCategory } from "./config.js";
import { type KindPoints, NO_POINTS, totalPoints } from "./points.js";

/** What a spend is checked against: a validated cart, the configuration and the available points. */
export interface QuoteInput {
  readonly lines: readonly CartLine[];
  readonly config: EarningConfig;
  /** Available points per kind (R6), whole points. */
  readonly balances: KindPoints;
}

export interface SpendCaps {
  /** Each kind's own cap (R16-R18), kopecks. */
  readonly capKop: Readonly<Record<PointKind, number>>;
  /** The same caps floored to whole points. */
  readonly capPoints: KindPoints;
  /** The most all points together may pay (R19), whole points. */
  readonly spendablePoints: number;
  /** Kinds from the strictest cap to the loosest (R19). */
  readonly nestingOrder: readonly PointKind[];
}

/** Why a kind got the points it got in the best combination, with the numbers involved. */
export interface CapReason extends CapReasonNumbers {
  readonly text: LocalizedText;
}

export interface SpendQuote extends SpendCaps {
  /** The most each kind could pay on its own. */
  readonly maxPerKind: KindPoints;
  /** The spend using the most points in total. */
  readonly combination: KindPoints;
  readonly total: number;
  readonly moneyToPayKop: number;
  /** One per kind, in nesting order. */
  readonly reasons: readonly CapReason[];
}

/** Kinds whose caps are equal keep this order, so that a quote is deterministic. */
const TIE_ORDER: readonly PointKind[] = ["referral", "bonus", "savings"];

function capsInKop(lines: readonly CartLine[], config: EarningConfig) {
  const totalKop = orderTotalKop(lines);
  // R19 (and R17's second limit): all points together leave minMoneyPerUnitKop of money per unit.
  const moneyFloorKop = BigInt(unitCount(lines)) * BigInt(config.minMoneyPerUnitKop);
  const spendableKop = Number(BigInt(totalKop) > moneyFloorKop ? BigInt(totalKop) - moneyFloorKop : 0n);
  // R18: the referral share depends on each line's category; it is floored once over the whole
  // order rather than per line, so a mixed cart loses at most one kopeck of cap.
  const referralNumerator = lines.reduce(
    (sum, line) =>
      sum + BigInt(lineAmountKop(line)) * BigInt(rateForCategory(config.referralCapBp, line.category)),
    0n,
  );
  const capKop: Record<PointKind, number> = {
    // R16: bonus points pay at most bonusCapBp of the order.
    bonus: mulDivFloor(totalKop, config.bonusCapBp, BASIS_POINTS_PER_UNIT),
    // R17: savings points pay at most savingsCapBp of the order AND leave the money floor; both apply.
    savings: Math.min(mulDivFloor(totalKop, config.savingsCapBp, BASIS_POINTS_PER_UNIT), spendableKop),
    referral: Number(referralNumerator / BigInt(BASIS_POINTS_PER_UNIT)),
  };
  return { capKop, spendableKop };
}

/** Each kind's cap and the shared limit for a cart, computed in kopecks and floored to whole points. */
export function computeSpendCaps(lines: readonly CartLine[], config: EarningConfig): SpendCaps {
  const { capKop, spendableKop } = capsInKop(lines, config);
  const capPoints: Record<PointKind, number> = { ...NO_POINTS };
  for (const kind of POINT_KINDS) capPoints[kind] = pointsFromKop(capKop[kind]);
  return {
    capKop,
    capPoints,
    spendablePoints: pointsFromKop(spendableKop),
    // R19: strictest cap first; Array.prototype.sort is stable, so ties keep TIE_ORDER.
    nestingOrder: [...TIE_ORDER].sort((a, b) => capKop[a] - capKop[b]),
  };
}

function assertPoints(points: Partial<KindPoints>, what: string): void {
  for (const kind of POINT_KINDS) {
    const value = points[kind] ?? 0;
    if (!isNonNegativeInteger(value))
      throw new RangeError(`${what}.${kind} must be a whole number of points`);
  }
}

function limitingCode(
  emptyCart: boolean,
  balance: number,
  points: number,
  room: number,
  usedBefore: number,
): CapReasonCode {
  if (emptyCart) return "EMPTY_CART";
  if (balance === 0) return "ZERO_BALANCE";
  if (points === balance) return "BALANCE";
  if (points === room) return usedBefore === 0 ? "KIND_CAP" : "SHARED_CAP";
  return "MIN_MONEY_PER_UNIT";
}

/**
 * R19: the quote. Kinds are applied from the strictest cap to the loosest, each taking as much as
 * its balance, the room left under its own cap by the stricter kinds, and the room left under the
 * shared money floor allow. Every kind applied earlier has a cap no larger than the current one, so
 * "points of kinds whose cap is c or less never exceed c" is exactly "the running sum stays within
 * the current cap". The constraints are nested, so this greedy order also pays the most in total.
 */
export function quoteSpend(input: QuoteInput): SpendQuote {
  assertPoints(input.balances, "balances");
  const caps = computeSpendCaps(input.lines, input.config);
  const emptyCart = input.lines.length === 0;
  const combination: Record<PointKind, number> = { ...NO_POINTS };
  const maxPerKind: Record<PointKind, number> = { ...NO_POINTS };
  const reasons: CapReason[] = [];
  let used = 0;
  for (const kind of caps.nestingOrder) {
    const balance = input.balances[kind];
    const room = caps.capPoints[kind] - used;
    const points = Math.min(balance, room, caps.spendablePoints - used);
    maxPerKind[kind] = Math.min(balance, caps.capPoints[kind], caps.spendablePoints);
    combination[kind] = points;
    const numbers: CapReasonNumbers = {
      kind,
      code: limitingCode(emptyCart, balance, points, room, used),
      points,
      balance,
      capPoints: caps.capPoints[kind],
      usedByStricterKinds: used,
      spendablePoints: caps.spendablePoints,
      minMoneyPerUnitKop: input.config.minMoneyPerUnitKop,
    };
    reasons.push({ ...numbers, text: capReasonText(numbers) });
    used += points;
  }
  return {
    ...caps,
    maxPerKind,
    combination,
    total: used,
    moneyToPayKop: moneyToPayKop(input.lines, used),
    reasons,
  };
}

function moneyToPayKop(lines: readonly CartLine[], points: number): number {
  return orderTotalKop(lines) - points * KOPECKS_PER_POINT;
}

export interface SpendRefusal {
  readonly ok: false;
  readonly code: SpendRefusalCode;
  /** `requested.<kind>` for a kind's balance or cap, `requested` for the limit on all points. */
  readonly field: string;
  readonly message: LocalizedText;
  readonly details: SpendRefusalDetails;
}

export interface AcceptedSpend {
  readonly ok: true;
  readonly spend: KindPoints;
  readonly total: number;
  readonly moneyToPayKop: number;
}

export type SpendCheck = AcceptedSpend | SpendRefusal;

function refuse(
  code: SpendRefusalCode,
  kind: PointKind | null,
  details: SpendRefusalDetails,
  config: EarningConfig,
): SpendRefusal {
  return {
    ok: false,
    code,
    field: kind === null ? "requested" : `requested.${kind}`,
    message: refusalText(code, kind, details, config.minMoneyPerUnitKop),
    details,
  };
}

/**
 * Checks a spend the customer asked for against the balances (R6) and the caps (R16-R19). A spend
 * the rules do not allow is a refusal value; only malformed amounts (a bug upstream) throw.
 */
export function checkSpendRequest(input: QuoteInput, requested: Partial<KindPoints>): SpendCheck {
  assertPoints(input.balances, "balances");
  assertPoints(requested, "requested");
  const spend: KindPoints = { ...NO_POINTS, ...requested };
  for (const kind of POINT_KINDS) {
    if (spend[kind] > input.balances[kind]) {
      const details = { kinds: [kind], requested: spend[kind], limit: input.balances[kind] };
      return refuse("INSUFFICIENT_POINTS", kind, details, input.config);
    }
  }
  const caps = computeSpendCaps(input.lines, input.config);
  // R19: every prefix of the nesting order must fit under the cap of its loosest kind.
  let prefixSum = 0;
  for (const [index, kind] of caps.nestingOrder.entries()) {
    prefixSum += spend[kind];
    if (spend[kind] > 0 && prefixSum > caps.capPoints[kind]) {
      const kinds = caps.nestingOrder.slice(0, index + 1).filter((k) => spend[k] > 0);
      const details = { kinds, requested: prefixSum, limit: caps.capPoints[kind] };
      return refuse("CAP_EXCEEDED", kind, details, input.config);
    }
  }
  const total = totalPoints(spend);
  if (total > caps.spendablePoints) {
    const details = {
      kinds: POINT_KINDS.filter((k) => spend[k] > 0),
      requested: total,
      limit: caps.spendablePoints,
    };
    return refuse("CAP_EXCEEDED", null, details, input.config);
  }
  return { ok: true, spend, total, moneyToPayKop: moneyToPayKop(input.lines, total) };
}
