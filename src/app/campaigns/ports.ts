import type { BudgetSummary } from "../../domain/budget-slices.js";
import type { CampaignDefinition } from "../../domain/campaigns/definition.js";
import type { CampaignRecord, CampaignState, CampaignVersion } from "../../domain/campaigns/lifecycle.js";
import type { KeyedWriteRun } from "../ports.js";

/** R26: a campaign as stored: who funds it ('marketplace' or 'seller:<id>') and its versions. */
export interface StoredCampaign extends CampaignRecord {
  readonly funder: string;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly updatedAt: Date;
}

/** What one write transaction may do to the campaigns (src/infra/campaign-store.ts). */
export interface CampaignWrites {
  /**
   * Serializes the writes of one funder until the transaction ends, so that two requests cannot both
   * pass the contradiction check against each other.
   */
  lockFunder(funder: string): Promise<void>;
  /** The campaign with every version, locked until the transaction ends; undefined if none. */
  lock(campaignId: string): Promise<StoredCampaign | undefined>;
  /** The funder's campaigns not ended at `now`, with their current definitions. */
  openOfFunder(funder: string, now: Date): Promise<{ campaignId: string; definition: CampaignDefinition }[]>;
  /** A new campaign with its first version. */
  insert(campaign: StoredCampaign): Promise<void>;
  /** Appends a version (the next number) and makes it the campaign's current one. */
  addVersion(campaignId: string, version: CampaignVersion): Promise<void>;
  /** Records when it was published, or ended through the API. */
  mark(campaignId: string, moment: "published" | "ended", at: Date): Promise<void>;
  audit(entry: { action: string; subject: string; before: unknown; after: unknown }): Promise<void>;
  /**
   * R26: brings the campaign's budget to `points` in all (sharesToFund), recorded as `fundingId`;
   * false when it is in use and `points` is below what it holds.
   */
  fundBudget(campaignId: string, fundingId: string, points: number): Promise<boolean>;
}

export interface CampaignListQuery {
  /** Only this funder's campaigns (a seller's own); null: every funder's. */
  funder: string | null;
  state: CampaignState | null;
  /** The state is read at this instant. */
  now: Date;
  /** Campaign ids sort by creation: the page starts after this one. */
  after: string | null;
  limit: number;
}

export interface CampaignStore {
  /** Writes under the caller's Idempotency-Key for a campaign's id (or the new campaigns' subject). */
  keyed: KeyedWriteRun<CampaignWrites>;
  /** The campaign with every version; undefined if none. */
  find(campaignId: string): Promise<StoredCampaign | undefined>;
  /** A page of campaigns by id, each with its current version only. */
  list(query: CampaignListQuery): Promise<StoredCampaign[]>;
  /**
   * The published campaigns with a version whose window ends after `endingAfter`, with every version:
   * all that can be in force at an instant from `endingAfter` on.
   */
  published(endingAfter: Date): Promise<CampaignRecord[]>;
  /** R26: funded, reserved and remaining points of these campaigns' budgets (none funded: zeros). */
  budgets(campaignIds: readonly string[]): Promise<Map<string, BudgetSummary>>;
}
