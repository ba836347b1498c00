import type { Problem } from "../checkout/problems.js";
import { instantOnWallClock } from "../text.js";
import type { CampaignConditions, CampaignDefinition } from "./definition.js";
import type { CampaignInForce } from "./evaluation.js";

/**
 * R26, issue 11: a campaign's life. Every change is a new version (append-only); its state is derived
 * from the clock, never stored:
 *
 * - `draft` until it is published (nothing is in force);
 * - after publishing, `scheduled` before the window's start, `active` within it, `ended` from its
 *   end on — or from the moment it was ended, which is final.
 *
 * An order placed at T is evaluated with the version current at T: the latest one created at or
 * before T, of the campaigns published at or before T, when that version's window covers T.
 */

export type CampaignState = "draft" | "scheduled" | "active" | "ended";
export const CAMPAIGN_STATES: readonly CampaignState[] = ["draft", "scheduled", "active", "ended"];

export interface CampaignVersion {
  readonly version: number;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly definition: CampaignDefinition;
}

export interface CampaignRecord {
  readonly campaignId: string;
  /** Null while a draft. */
  readonly publishedAt: Date | null;
  /** When it was ended through the API (by the end operation); null otherwise. */
  readonly endedAt: Date | null;
  /** Oldest first; never empty. */
  readonly versions: readonly CampaignVersion[];
}

export function currentVersion(c: CampaignRecord): CampaignVersion {
  const latest = c.versions[c.versions.length - 1];
  if (!latest) throw new Error(`campaign ${c.campaignId} has no version`);
  return latest;
}

export function campaignState(c: CampaignRecord, now: Date): CampaignState {
  const t = now.getTime();
  if (c.endedAt !== null && c.endedAt.getTime() <= t) return "ended";
  if (c.publishedAt === null) return "draft";
  const { startsAt, endsAt } = currentVersion(c).definition.conditions;
  if (t >= endsAt.getTime()) return "ended";
  return t < startsAt.getTime() ? "scheduled" : "active";
}

/** The version current at `at`: the latest created at or before it (versions are oldest first). */
export function versionAt(versions: readonly CampaignVersion[], at: Date): CampaignVersion | undefined {
  let chosen: CampaignVersion | undefined;
  for (const v of versions) if (v.createdAt.getTime() <= at.getTime()) chosen = v;
  return chosen;
}

function covers(c: CampaignConditions, at: Date): boolean {
  return c.startsAt.getTime() <= at.getTime() && at.getTime() < c.endsAt.getTime();
}

/** R26: the campaigns in force at `at`, each with the version current then. */
export function campaignsInForceAt(campaigns: readonly CampaignRecord[], at: Date): CampaignInForce[] {
  return campaigns.flatMap((c): CampaignInForce[] => {
    if (c.publishedAt === null || c.publishedAt.getTime() > at.getTime()) return [];
    const v = versionAt(c.versions, at);
    return v && covers(v.definition.conditions, at)
      ? [{ campaignId: c.campaignId, version: v.version, definition: v.definition }]
      : [];
  });
}

/**
 * What ending a campaign at `now` leaves: the window closes at `now`, or — when it has not started
 * yet — at its start, so that it covers nothing (a window never ends before it starts).
 */
export function endedDefinition(d: CampaignDefinition, now: Date): CampaignDefinition {
  const endsAt = new Date(Math.max(now.getTime(), d.conditions.startsAt.getTime()));
  return { ...d, conditions: { ...d.conditions, endsAt } };
}

const sameList = (a: readonly string[] | null, b: readonly string[] | null) =>
  a === null || b === null
    ? a === b
    : a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/** Whether two campaigns match exactly the same orders and lines (their window aside). */
function sameScope(a: CampaignConditions, b: CampaignConditions): boolean {
  return (
    sameList(a.categories, b.categories) &&
    sameList(a.sellers, b.sellers) &&
    sameList(a.skus, b.skus) &&
    sameList(a.paymentMethods, b.paymentMethods) &&
    a.minOrderTotalKop === b.minOrderTotalKop &&
    a.premiumOnly === b.premiumOnly &&
    a.segmentId === b.segmentId
  );
}

/** A funder as the ledger and the campaigns table name it: `marketplace` or `seller:<id>`. */
export function funderName(f: CampaignDefinition["funder"]): string {
  return f.type === "seller" ? `seller:${f.sellerId}` : "marketplace";
}

export function funderNamed(name: string): CampaignDefinition["funder"] {
  return name.startsWith("seller:")
    ? { type: "seller", sellerId: name.slice("seller:".length) }
    : { type: "marketplace" };
}

/**
 * "Overlapping contradictory definitions" (issue 11): two campaigns of one funder that are both not
 * combinable, with the same kind of effect over the same scope and overlapping windows. Within the
 * overlap they match exactly the same lines and orders, stand alone, and the larger one wins on every
 * one of them (each effect grows with its number) — so the other can never apply there: the funder
 * has said two different things about the same purchases. The first such campaign among `others`.
 */
export function contradictingCampaign(
  candidate: CampaignDefinition,
  others: readonly { readonly campaignId: string; readonly definition: CampaignDefinition }[],
): string | undefined {
  if (candidate.combinable) return undefined;
  const c = candidate.conditions;
  return others.find(({ definition: o }) => {
    const k = o.conditions;
    return (
      !o.combinable &&
      funderName(o.funder) === funderName(candidate.funder) &&
      o.effect.type === candidate.effect.type &&
      c.startsAt.getTime() < k.endsAt.getTime() &&
      k.startsAt.getTime() < c.endsAt.getTime() &&
      sameScope(c, k)
    );
  })?.campaignId;
}

const CONDITION_FIELDS = [
  "categories",
  "sellers",
  "skus",
  "minOrderTotalKop",
  "paymentMethods",
  "premiumOnly",
  "segmentId",
] as const;

/**
 * What may change while a campaign is active: its name, its end moved earlier (still after `now`:
 * ending it now is the end operation), its budget raised or removed. Anything else would change, mid
 * flight, what customers were shown and which orders it covers; a different offer is a new campaign.
 * The problems name the fields that may not change (paths of the definition).
 */
export function activeChangeProblems(
  before: CampaignDefinition,
  after: CampaignDefinition,
  now: Date,
): Problem[] {
  const problems: Problem[] = [];
  const unchanged = (field: string) =>
    problems.push({
      field,
      message: "cannot change while the campaign is active (end it and create another)",
    });
  const b = before.conditions;
  const a = after.conditions;
  if (a.startsAt.getTime() !== b.startsAt.getTime()) unchanged("conditions.startsAt");
  if (a.endsAt.getTime() > b.endsAt.getTime())
    problems.push({
      field: "conditions.endsAt",
      message: "an active campaign may only be shortened, not extended",
    });
  else if (a.endsAt.getTime() <= now.getTime())
    problems.push({
      field: "conditions.endsAt",
      message: "must be after now (to end the campaign now, use …/end)",
    });
  for (const field of CONDITION_FIELDS) {
    const x = a[field];
    const y = b[field];
    const same =
      Array.isArray(x) || Array.isArray(y) ? sameList(x as string[] | null, y as string[] | null) : x === y;
    if (!same) unchanged(`conditions.${field}`);
  }
  if (JSON.stringify(after.effect) !== JSON.stringify(before.effect)) unchanged("effect");
  if (after.combinable !== before.combinable) unchanged("combinable");
  const lowered =
    after.budgetPoints !== null && (before.budgetPoints === null || after.budgetPoints < before.budgetPoints);
  if (lowered)
    problems.push({
      field: "budgetPoints",
      message: "an active campaign's budget may only be raised (or removed)",
    });
  return problems;
}

/**
 * A window instant as the API takes it: RFC 3339 with an offset, or a local date and time without
 * one, read on the wall clocks of the operator's time zone ("2026-11-27T00:00:00" in Europe/Moscow is
 * 2026-11-26T21:00:00Z). Undefined when it is not a real date and time.
 */
const WINDOW_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

export function parseWindowInstant(text: string, timeZone: string): Date | undefined {
  const m = WINDOW_INSTANT.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return undefined;
  // Dates keep milliseconds: finer digits are dropped, never rounded up into the next second.
  const ms = second * 1000 + Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (m[8] !== undefined) return new Date(Date.UTC(year, month - 1, day, hour, minute) + ms);
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMinutes = Number(m[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    const offsetMs = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
    return new Date(Date.UTC(year, month - 1, day, hour, minute) + ms - offsetMs);
  }
  return instantOnWallClock({ year, month, day, hour, minute, ms }, timeZone);
}
