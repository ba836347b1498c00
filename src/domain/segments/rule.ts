import type { Problem } from "../checkout/problems.js";
import { MAX_AMOUNT } from "../kinds.js";
import type { CustomerStats } from "./stats.js";

/**
 * R29: a segment is a rule over the customer statistics (stats.ts) in a small language: `all` of
 * rules (every one holds), `any` of rules (one holds), or a comparison of one statistic with a
 * value. E.g. "spent ≥ 3,000 RUB an order and ordered twice this month, or holds a card":
 *
 *   { "any": [ { "all": [ { "stat": "aov90Kop", "op": "gte", "value": 300000 },
 *                         { "stat": "orders30", "op": "gte", "value": 2 } ] },
 *              { "stat": "usesCard", "op": "eq", "value": true } ] }
 */

export const NUMBER_STATS = ["aov90Kop", "orders30", "orders90", "balancePoints"] as const;
export const BOOLEAN_STATS = ["usesCard", "usesSavingsAccount", "premium"] as const;
export const SEGMENT_STATS: readonly string[] = [...NUMBER_STATS, ...BOOLEAN_STATS];
export const COMPARISONS = ["eq", "ne", "lt", "lte", "gt", "gte"] as const;

export type NumberStat = (typeof NUMBER_STATS)[number];
export type BooleanStat = (typeof BOOLEAN_STATS)[number];
export type Comparison = (typeof COMPARISONS)[number];

export type SegmentRule =
  | { readonly all: readonly SegmentRule[] }
  | { readonly any: readonly SegmentRule[] }
  | { readonly stat: NumberStat; readonly op: Comparison; readonly value: number }
  | { readonly stat: BooleanStat; readonly op: "eq" | "ne"; readonly value: boolean };

/** Bounds that keep a rule readable and cheap to evaluate for every customer. */
export const MAX_DEPTH = 4;
export const MAX_COMPARISONS = 50;
export const MAX_CHILDREN = 20;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The problems of a rule as received (any JSON), each naming its path under `field`; empty: it is a
 * SegmentRule. Unknown statistics, operators that do not fit the statistic, values of the wrong
 * type or out of range, empty lists, and rules nested deeper than MAX_DEPTH are refused.
 */
export function validateSegmentRule(rule: unknown, field = "rule"): Problem[] {
  const problems: Problem[] = [];
  let comparisons = 0;
  const visit = (node: unknown, path: string, depth: number): void => {
    if (!isObject(node)) {
      problems.push({
        field: path,
        message: "must be an object: {all: [...]}, {any: [...]} or {stat, op, value}",
      });
      return;
    }
    const list = "all" in node ? "all" : "any" in node ? "any" : null;
    if (list !== null) {
      const extra = Object.keys(node).filter((k) => k !== list);
      if (extra.length > 0)
        problems.push({ field: `${path}.${extra[0]}`, message: `is not allowed beside ${list}` });
      const children = node[list];
      if (depth >= MAX_DEPTH) {
        problems.push({ field: `${path}.${list}`, message: `nests deeper than ${MAX_DEPTH} levels` });
        return;
      }
      if (!Array.isArray(children) || children.length === 0 || children.length > MAX_CHILDREN) {
        problems.push({ field: `${path}.${list}`, message: `must list 1 to ${MAX_CHILDREN} rules` });
        return;
      }
      for (const [i, child] of children.entries()) visit(child, `${path}.${list}[${i}]`, depth + 1);
      return;
    }
    comparisons += 1;
    const extra = Object.keys(node).filter((k) => k !== "stat" && k !== "op" && k !== "value");
    if (extra.length > 0)
      problems.push({ field: `${path}.${extra[0]}`, message: "is not allowed in a comparison" });
    const { stat, op, value } = node;
    if (typeof stat !== "string" || !SEGMENT_STATS.includes(stat)) {
      problems.push({ field: `${path}.stat`, message: `must be one of ${SEGMENT_STATS.join(", ")}` });
      return;
    }
    const isBoolean = (BOOLEAN_STATS as readonly string[]).includes(stat);
    const ops: readonly string[] = isBoolean ? ["eq", "ne"] : COMPARISONS;
    if (typeof op !== "string" || !ops.includes(op))
      problems.push({ field: `${path}.op`, message: `must be one of ${ops.join(", ")} for ${stat}` });
    if (isBoolean && typeof value !== "boolean")
      problems.push({ field: `${path}.value`, message: `must be true or false for ${stat}` });
    if (
      !isBoolean &&
      !(Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_AMOUNT)
    )
      problems.push({
        field: `${path}.value`,
        message: `must be an integer from 0 to ${MAX_AMOUNT} for ${stat}`,
      });
  };
  visit(rule, field, 1);
  if (comparisons > MAX_COMPARISONS)
    problems.push({ field, message: `has ${comparisons} comparisons; at most ${MAX_COMPARISONS}` });
  return problems;
}

function compare(left: number, op: Comparison, right: number): boolean {
  switch (op) {
    case "eq":
      return left === right;
    case "ne":
      return left !== right;
    case "lt":
      return left < right;
    case "lte":
      return left <= right;
    case "gt":
      return left > right;
    case "gte":
      return left >= right;
  }
}

/** R29: whether a customer with these statistics belongs to the segment. */
export function matchesRule(rule: SegmentRule, stats: CustomerStats): boolean {
  if ("all" in rule) return rule.all.every((r) => matchesRule(r, stats));
  if ("any" in rule) return rule.any.some((r) => matchesRule(r, stats));
  if (typeof rule.value === "boolean") {
    const actual = stats[rule.stat as BooleanStat];
    return rule.op === "eq" ? actual === rule.value : actual !== rule.value;
  }
  return compare(stats[rule.stat as NumberStat], rule.op, rule.value);
}
