/**
 * R26, issue 11: campaign definitions through the API. Operators make campaigns the marketplace funds;
 * a seller key makes campaigns on its own products, funded by that seller, and sees and changes only
 * those. Every change is a new version, audited with who and when; writes are idempotent by the
 * caller's Idempotency-Key (migration 14, as webhook subscriptions). States and the version in force
 * at an instant: src/domain/campaigns/lifecycle.ts.
 */

import {
  type CampaignDefinition,
  type CampaignEffect,
  validateCampaign,
} from "../../domain/campaigns/definition.js";
import type { CampaignInForce } from "../../domain/campaigns/evaluation.js";
import {
  activeChangeProblems,
  type CampaignState,
  type CampaignVersion,
  campaignState,
  contradictingCampaign,
  currentVersion,
  endedDefinition,
  funderName,
  funderNamed,
  parseWindowInstant,
} from "../../domain/campaigns/lifecycle.js";
import type { PaymentMethod } from "../../domain/checkout/cart.js";
import type { Problem } from "../../domain/checkout/problems.js";
import type { LocalizedText } from "../../domain/text.js";
import type { Principal } from "../access.js";
import { answerOfKeyedWrite, type Outcome, type WriteRequest } from "../ledger-service.js";
import type { Clock, IdGenerator } from "../ports.js";
import { validationFailed } from "../validation-refusal.js";
import type { CampaignsInForce } from "./campaigns-in-force.js";
import type { CampaignStore, CampaignWrites, StoredCampaign } from "./ports.js";

export const CAMPAIGN_REFUSAL_CODES = [
  "CAMPAIGN_NOT_FOUND",
  "CAMPAIGN_NOT_EDITABLE",
  "CAMPAIGN_CONTRADICTS_ANOTHER",
  "CAMPAIGN_WINDOW_OVER",
] as const;

/** Operations as their Idempotency-Keys are scoped (a key is for one of them), and audit actions. */
const SCOPES = {
  create: "campaigns.create",
  replace: "campaigns.replace",
  publish: "campaigns.publish",
  end: "campaigns.end",
} as const;

/**
 * The subject a new campaign's Idempotency-Key is stored under (a change's is the campaign id): not
 * '' as a new webhook's, so that a key is per collection as it is per customer elsewhere.
 */
const NEW_CAMPAIGN_SUBJECT = "campaigns";

/** A definition as the API takes it: the window as text (an offset, or the operator's wall clock). */
export interface CampaignInput {
  name: LocalizedText;
  conditions: {
    startsAt: string;
    endsAt: string;
    categories?: string[] | null | undefined;
    sellers?: string[] | null | undefined;
    skus?: string[] | null | undefined;
    minOrderTotalKop?: number | undefined;
    paymentMethods?: PaymentMethod[] | null | undefined;
    premiumOnly?: boolean | undefined;
    segmentId?: string | null | undefined;
  };
  effect: CampaignEffect;
  combinable: boolean;
  budgetPoints?: number | null | undefined;
}

/** A definition as the API shows it: instants in UTC, every condition present. */
export interface CampaignDefinitionView {
  name: LocalizedText;
  conditions: {
    startsAt: string;
    endsAt: string;
    categories: string[] | null;
    sellers: string[] | null;
    skus: string[] | null;
    minOrderTotalKop: number;
    paymentMethods: PaymentMethod[] | null;
    premiumOnly: boolean;
    segmentId: string | null;
  };
  effect: CampaignEffect;
  combinable: boolean;
  budgetPoints: number | null;
}

export interface CampaignView extends CampaignDefinitionView {
  campaignId: string;
  funder: string;
  state: CampaignState;
  version: number;
  publishedAt: string | null;
  endedAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

export interface CampaignVersionView extends CampaignDefinitionView {
  version: number;
  createdAt: string;
  createdBy: string;
}

type Refusal = { ok: false; code: string; message: string; details: Record<string, unknown> };

/** The funder of what a principal creates: a seller key's own, the marketplace for operators. */
function funderOf(principal: Principal): CampaignDefinition["funder"] {
  return principal.type === "key" && principal.role === "seller" && principal.sellerId !== null
    ? { type: "seller", sellerId: principal.sellerId }
    : { type: "marketplace" };
}

/** A seller key sees its own campaigns only; every other key sees all. */
function ownFunder(principal: Principal): string | null {
  return principal.type === "key" && principal.role === "seller" ? `seller:${principal.sellerId}` : null;
}

const visibleTo = (principal: Principal, c: StoredCampaign) => {
  const own = ownFunder(principal);
  return own === null || c.funder === own;
};

function invalid(problems: readonly Problem[]): Refusal & { replayed: false } {
  return { ...validationFailed(problems, "body."), replayed: false };
}

function notFound(campaignId: string): Refusal {
  return {
    ok: false,
    code: "CAMPAIGN_NOT_FOUND",
    message: `no campaign ${campaignId}`,
    details: { campaignId },
  };
}

function notEditable(c: StoredCampaign, message: string, problems: readonly Problem[] = []): Refusal {
  return {
    ok: false,
    code: "CAMPAIGN_NOT_EDITABLE",
    message: problems[0] ? `${message}: body.${problems[0].field} ${problems[0].message}` : message,
    details: { campaignId: c.campaignId, fields: validationFailed(problems, "body.").details.fields },
  };
}

export function definitionView(d: CampaignDefinition): CampaignDefinitionView {
  const c = d.conditions;
  return {
    name: d.name,
    conditions: {
      startsAt: c.startsAt.toISOString(),
      endsAt: c.endsAt.toISOString(),
      categories: c.categories === null ? null : [...c.categories],
      sellers: c.sellers === null ? null : [...c.sellers],
      skus: c.skus === null ? null : [...c.skus],
      minOrderTotalKop: c.minOrderTotalKop,
      paymentMethods: c.paymentMethods === null ? null : [...c.paymentMethods],
      premiumOnly: c.premiumOnly,
      segmentId: c.segmentId,
    },
    effect: d.effect,
    combinable: d.combinable,
    budgetPoints: d.budgetPoints,
  };
}

export function campaignView(c: StoredCampaign, now: Date): CampaignView {
  const current = currentVersion(c);
  return {
    campaignId: c.campaignId,
    funder: c.funder,
    state: campaignState(c, now),
    version: current.version,
    ...definitionView(current.definition),
    publishedAt: c.publishedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    createdBy: c.createdBy,
    updatedAt: c.updatedAt.toISOString(),
  };
}

function versionView(v: CampaignVersion): CampaignVersionView {
  return {
    version: v.version,
    createdAt: v.createdAt.toISOString(),
    createdBy: v.createdBy,
    ...definitionView(v.definition),
  };
}

export class CampaignService {
  constructor(
    private readonly store: CampaignStore,
    private readonly inForce: CampaignsInForce,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    /** KOPILKA_TIME_ZONE: a window instant without an offset is read on its wall clocks. */
    private readonly timeZone: string,
    /** R29: whether a segment is defined (a campaign may be limited only to one that is). */
    private readonly segmentExists: (segmentId: string) => Promise<boolean>,
  ) {}

  /** A campaign limited to a segment nobody defined would never apply: refused, naming the field. */
  private async unknownSegment(definition: CampaignDefinition) {
    const { segmentId } = definition.conditions;
    if (segmentId === null || (await this.segmentExists(segmentId))) return undefined;
    return {
      ok: false as const,
      code: "SEGMENT_NOT_FOUND",
      message: `there is no segment ${segmentId}`,
      details: { segmentId, field: "body.conditions.segmentId" },
      replayed: false,
    };
  }

  /** The read port of the order path (cached): see CampaignsInForce. */
  campaignsInForce(at: Date) {
    return this.inForce.campaignsInForce(at);
  }

  /** A new campaign, a draft at version 1, funded by the marketplace or by the seller whose key it is. */
  async create(input: CampaignInput, principal: Principal, request: WriteRequest) {
    const funder = funderOf(principal);
    const parsed = this.definitionOf(input, funder, principal);
    if ("refusal" in parsed) return parsed.refusal;
    const { definition } = parsed;
    const unknown = await this.unknownSegment(definition);
    if (unknown) return unknown;
    return this.keyed(SCOPES.create, NEW_CAMPAIGN_SUBJECT, request, async (tx, now) => {
      const contradiction = await this.contradiction(tx, definition, null, now);
      if (contradiction) return contradiction;
      const campaign: StoredCampaign = {
        campaignId: this.ids.newId("cmp"),
        funder: funderName(funder),
        publishedAt: null,
        endedAt: null,
        versions: [{ version: 1, createdAt: now, createdBy: request.actor, definition }],
        createdAt: now,
        createdBy: request.actor,
        updatedAt: now,
      };
      await tx.insert(campaign);
      const view = campaignView(campaign, now);
      await tx.audit({ action: SCOPES.create, subject: campaign.campaignId, before: null, after: view });
      return { ok: true as const, value: view };
    });
  }

  /**
   * Replaces the definition: a new version. A draft or scheduled campaign takes any valid one (a
   * scheduled one not starting in the past: orders placed since were evaluated without it); an active
   * one only a new name, an earlier end or a larger budget (activeChangeProblems); an ended one none.
   */
  async replace(campaignId: string, input: CampaignInput, principal: Principal, request: WriteRequest) {
    // Bad input is refused before the key is used, as on create; the stored campaign's own funder
    // (an operator may change a seller's campaign) is checked with it below.
    const parsed = this.definitionOf(input, funderOf(principal), principal);
    if ("refusal" in parsed) return parsed.refusal;
    const unknown = await this.unknownSegment(parsed.definition);
    if (unknown) return unknown;
    return this.changeExisting(SCOPES.replace, campaignId, principal, request, async (tx, before, now) => {
      const definition: CampaignDefinition = { ...parsed.definition, funder: funderNamed(before.funder) };
      const problems = validateCampaign(definition);
      if (problems.length > 0) return invalid(problems);
      const state = campaignState(before, now);
      if (state === "ended") return notEditable(before, "an ended campaign cannot change");
      if (state === "active") {
        const frozen = activeChangeProblems(currentVersion(before).definition, definition, now);
        if (frozen.length > 0) return notEditable(before, "the campaign is active", frozen);
      }
      if (state === "scheduled" && definition.conditions.startsAt.getTime() < now.getTime())
        return notEditable(before, "the campaign is scheduled", [
          { field: "conditions.startsAt", message: "must not be in the past once the campaign is published" },
        ]);
      const contradiction = await this.contradiction(tx, definition, campaignId, now);
      if (contradiction) return contradiction;
      // A published campaign's budget follows its definition: raised (or, not begun yet, set anew).
      const fundingId = `v${currentVersion(before).version + 1}`;
      if (
        before.publishedAt !== null &&
        definition.budgetPoints !== null &&
        !(await tx.fundBudget(campaignId, fundingId, definition.budgetPoints))
      )
        return notEditable(before, "the campaign's budget is in use", [
          { field: "budgetPoints", message: "must not be below what the campaign has funded" },
        ]);
      return this.appendVersion(tx, SCOPES.replace, before, before, definition, request, now);
    });
  }

  /** draft → scheduled, or active when its window has begun; it applies to orders placed from now on. */
  async publish(campaignId: string, principal: Principal, request: WriteRequest) {
    return this.changeExisting(SCOPES.publish, campaignId, principal, request, async (tx, before, now) => {
      const state = campaignState(before, now);
      if (state !== "draft")
        return notEditable(before, `only a draft is published; this campaign is ${state}`);
      const { endsAt } = currentVersion(before).definition.conditions;
      if (endsAt.getTime() <= now.getTime())
        return {
          ok: false,
          code: "CAMPAIGN_WINDOW_OVER",
          message: `the campaign's window ended at ${endsAt.toISOString()}: change conditions.endsAt first`,
          details: { campaignId, fields: [{ field: "conditions.endsAt", message: "is not after now" }] },
        };
      await tx.mark(campaignId, "published", now);
      // R26: the budget is funded now, spread over its slices; orders reserve from them.
      const { budgetPoints } = currentVersion(before).definition;
      if (budgetPoints !== null) await tx.fundBudget(campaignId, "published", budgetPoints);
      const after: StoredCampaign = { ...before, publishedAt: now, updatedAt: now };
      return this.audited(tx, SCOPES.publish, before, after, now);
    });
  }

  /** Ends it now, for good: a new version whose window closes now (or at its start, not begun yet). */
  async end(campaignId: string, principal: Principal, request: WriteRequest) {
    return this.changeExisting(SCOPES.end, campaignId, principal, request, async (tx, before, now) => {
      if (campaignState(before, now) === "ended")
        return notEditable(before, "the campaign has ended already");
      await tx.mark(campaignId, "ended", now);
      const ended = endedDefinition(currentVersion(before).definition, now);
      return this.appendVersion(tx, SCOPES.end, before, { ...before, endedAt: now }, ended, request, now);
    });
  }

  async get(campaignId: string, principal: Principal): Promise<Outcome<CampaignView>> {
    const c = await this.store.find(campaignId);
    if (!c || !visibleTo(principal, c)) return notFound(campaignId);
    return { ok: true, value: campaignView(c, this.clock.now()) };
  }

  /**
   * R26: the campaign's budget now — what its current version allows, what was funded (at publish,
   * and on each raise), reserved by placed orders (net of cancellations and returns) and left.
   */
  async budget(campaignId: string, principal: Principal) {
    const c = await this.store.find(campaignId);
    if (!c || !visibleTo(principal, c)) return notFound(campaignId);
    const summary = (await this.store.budgets([campaignId])).get(campaignId);
    return {
      ok: true as const,
      value: {
        campaignId,
        budgetPoints: currentVersion(c).definition.budgetPoints,
        fundedPoints: summary?.funded ?? 0,
        reservedPoints: summary?.reserved ?? 0,
        remainingPoints: summary?.remaining ?? 0,
      },
    };
  }

  /** R26 dry run: the campaign's current version as if it were in force, whatever its state. */
  async asInForce(campaignId: string, principal: Principal): Promise<Outcome<CampaignInForce>> {
    const c = await this.store.find(campaignId);
    if (!c || !visibleTo(principal, c)) return notFound(campaignId);
    const { version, definition } = currentVersion(c);
    return { ok: true, value: { campaignId, version, definition } };
  }

  async versions(
    campaignId: string,
    principal: Principal,
  ): Promise<Outcome<{ campaignId: string; versions: CampaignVersionView[] }>> {
    const c = await this.store.find(campaignId);
    if (!c || !visibleTo(principal, c)) return notFound(campaignId);
    return { ok: true, value: { campaignId, versions: c.versions.map(versionView) } };
  }

  /** A page of the campaigns the principal sees, oldest first, by state when asked. */
  async list(
    query: { state: CampaignState | undefined; after: string | undefined; limit: number },
    principal: Principal,
  ) {
    const now = this.clock.now();
    const rows = await this.store.list({
      funder: ownFunder(principal),
      state: query.state ?? null,
      now,
      after: query.after ?? null,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items.map((c) => campaignView(c, now)),
      next: rows.length > query.limit && last ? last.campaignId : null,
    };
  }

  /**
   * The definition the input says, for a campaign of `funder`; or the refusal naming the fields. A
   * seller key may only cover its own products: anything else in `conditions.sellers` is forbidden.
   */
  private definitionOf(
    input: CampaignInput,
    funder: CampaignDefinition["funder"],
    principal: Principal,
  ): { definition: CampaignDefinition } | { refusal: Refusal & { replayed: false } } {
    const own = ownFunder(principal);
    const sellers = input.conditions.sellers ?? null;
    if (own !== null && (sellers?.length !== 1 || `seller:${sellers[0]}` !== own)) {
      const field = {
        field: "body.conditions.sellers",
        message: `a seller key covers only its own products: must be ["${own.slice(7)}"]`,
      };
      return {
        refusal: {
          ok: false,
          code: "FORBIDDEN",
          message: `${field.field} ${field.message}`,
          details: { field: field.field, fields: [field] },
          replayed: false,
        },
      };
    }
    const c = input.conditions;
    const startsAt = parseWindowInstant(c.startsAt, this.timeZone);
    const endsAt = parseWindowInstant(c.endsAt, this.timeZone);
    const problems: Problem[] = [];
    const instantMessage = `must be a date and time: with an offset, or without one on the wall clocks of ${this.timeZone} (KOPILKA_TIME_ZONE)`;
    if (!startsAt) problems.push({ field: "conditions.startsAt", message: instantMessage });
    if (!endsAt) problems.push({ field: "conditions.endsAt", message: instantMessage });
    if (!startsAt || !endsAt) return { refusal: invalid(problems) };
    const definition: CampaignDefinition = {
      name: { ru: input.name.ru, en: input.name.en },
      funder,
      conditions: {
        startsAt,
        endsAt,
        categories: c.categories ?? null,
        sellers,
        skus: c.skus ?? null,
        minOrderTotalKop: c.minOrderTotalKop ?? 0,
        paymentMethods: c.paymentMethods ?? null,
        premiumOnly: c.premiumOnly ?? false,
        segmentId: c.segmentId ?? null,
      },
      effect: input.effect,
      combinable: input.combinable,
      budgetPoints: input.budgetPoints ?? null,
    };
    const found = validateCampaign(definition);
    return found.length > 0 ? { refusal: invalid(found) } : { definition };
  }

  private async contradiction(
    tx: CampaignWrites,
    definition: CampaignDefinition,
    self: string | null,
    now: Date,
  ): Promise<Refusal | undefined> {
    const funder = funderName(definition.funder);
    await tx.lockFunder(funder);
    const others = (await tx.openOfFunder(funder, now)).filter((o) => o.campaignId !== self);
    const other = contradictingCampaign(definition, others);
    if (other === undefined) return undefined;
    const field = {
      field: "body.combinable",
      message: `contradicts campaign ${other}: both not combinable, with the same effect type and scope over overlapping windows, so one could never apply; make one combinable, or change its scope or window`,
    };
    return {
      ok: false,
      code: "CAMPAIGN_CONTRADICTS_ANOTHER",
      message: `${field.field} ${field.message}`,
      details: { campaignId: other, fields: [field] },
    };
  }

  /** Appends `definition` as the next version of `base`, audited as `action` from `before`. */
  private async appendVersion(
    tx: CampaignWrites,
    action: string,
    before: StoredCampaign,
    base: StoredCampaign,
    definition: CampaignDefinition,
    request: WriteRequest,
    now: Date,
  ) {
    const version: CampaignVersion = {
      version: currentVersion(base).version + 1,
      createdAt: now,
      createdBy: request.actor,
      definition,
    };
    await tx.addVersion(base.campaignId, version);
    const after: StoredCampaign = { ...base, versions: [...base.versions, version], updatedAt: now };
    return this.audited(tx, action, before, after, now);
  }

  private async audited(
    tx: CampaignWrites,
    action: string,
    before: StoredCampaign,
    after: StoredCampaign,
    now: Date,
  ) {
    const view = campaignView(after, now);
    await tx.audit({ action, subject: after.campaignId, before: campaignView(before, now), after: view });
    return { ok: true as const, value: view };
  }

  /** A write to an existing campaign the principal sees; another seller's is not found. */
  private changeExisting<T>(
    scope: string,
    campaignId: string,
    principal: Principal,
    request: WriteRequest,
    write: (tx: CampaignWrites, before: StoredCampaign, now: Date) => Promise<Outcome<T>>,
  ) {
    return this.keyed(scope, campaignId, request, async (tx, now) => {
      const before = await tx.lock(campaignId);
      if (!before || !visibleTo(principal, before)) return notFound(campaignId);
      return write(tx, before, now);
    });
  }

  private async keyed<T>(
    scope: string,
    subject: string,
    request: WriteRequest,
    write: (tx: CampaignWrites, now: Date) => Promise<Outcome<T>>,
  ) {
    const now = this.clock.now();
    const result = await this.store.keyed(scope, subject, request, now, (tx) => write(tx, now));
    // This process sees the change at once; other instances within the cache's time to live.
    if ("stored" in result && result.stored.ok) this.inForce.invalidate();
    return answerOfKeyedWrite(result, scope, request);
  }
}
