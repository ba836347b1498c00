import { type ExpressionBuilder, type Kysely, sql, type Transaction } from "kysely";
import { type CampaignDefinitionView, definitionView } from "../app/campaigns/campaign-service.js";
import type {
  CampaignListQuery,
  CampaignStore,
  CampaignWrites,
  StoredCampaign,
} from "../app/campaigns/ports.js";
import type { IdGenerator, KeyedWriteRun } from "../app/ports.js";
import { budgetSummary, campaignBudgetId, sharesToFund } from "../domain/budget-slices.js";
import type { CampaignDefinition } from "../domain/campaigns/definition.js";
import { type CampaignRecord, type CampaignVersion, funderNamed } from "../domain/campaigns/lifecycle.js";
import { budgetSummaries, fundBudget } from "./budget-store.js";
import { insertAudit, keyedWrite } from "./global-idempotency.js";
import type { Database } from "./schema.js";

/** A stable seed for the advisory locks of one funder's campaign writes. */
const FUNDER_LOCK_SEED = 2_611_260_026;

type CampaignRow = Database["campaigns"];
type VersionRow = Database["campaign_versions"];

/**
 * R26, issue 11: campaigns and their append-only versions (migration 16), and the stored answers of
 * the routes that change them (migration 14 `global_idempotency`, shared with webhook subscriptions).
 * A small table of configuration: the order path reads it through CampaignsInForce's cache.
 */
export class PostgresCampaignStore implements CampaignStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

  readonly keyed: KeyedWriteRun<CampaignWrites> = (scope, subject, request, at, write) =>
    keyedWrite(this.db, scope, subject, request, at, (trx) => write(this.writes(trx, request.actor, at)));

  private writes(trx: Transaction<Database>, actor: string, at: Date): CampaignWrites {
    return {
      lockFunder: async (funder) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${funder}, ${FUNDER_LOCK_SEED}))`.execute(
          trx,
        );
      },
      lock: (campaignId) => findCampaign(trx, campaignId, true),
      openOfFunder: async (funder, now) => {
        // `open_campaigns_of_funder`: by campaigns_by_funder, the current version of each not ended.
        const rows = await trx
          .selectFrom("campaigns as c")
          .innerJoin("campaign_versions as v", (j) =>
            j.onRef("v.campaign_id", "=", "c.campaign_id").onRef("v.version", "=", "c.current_version"),
          )
          .select(["c.campaign_id", "c.funder", "v.definition"])
          .where("c.funder", "=", funder)
          .where((eb) => notEnded(eb, now))
          .execute();
        return rows.map((r) => ({
          campaignId: r.campaign_id,
          definition: definitionOf(r.definition as CampaignDefinitionView, r.funder),
        }));
      },
      insert: async (campaign) => {
        const first = campaign.versions[0];
        if (!first) throw new Error("a campaign is made with its first version");
        await trx
          .insertInto("campaigns")
          .values({
            campaign_id: campaign.campaignId,
            funder: campaign.funder,
            published_at: campaign.publishedAt,
            ended_at: campaign.endedAt,
            current_version: first.version,
            starts_at: first.definition.conditions.startsAt,
            ends_at: first.definition.conditions.endsAt,
            created_at: campaign.createdAt,
            created_by: campaign.createdBy,
            updated_at: campaign.updatedAt,
          })
          .execute();
        await trx.insertInto("campaign_versions").values(versionRow(campaign.campaignId, first)).execute();
      },
      addVersion: async (campaignId, version) => {
        await trx.insertInto("campaign_versions").values(versionRow(campaignId, version)).execute();
        await trx
          .updateTable("campaigns")
          .set({
            current_version: version.version,
            starts_at: version.definition.conditions.startsAt,
            ends_at: version.definition.conditions.endsAt,
            updated_at: version.createdAt,
          })
          .where("campaign_id", "=", campaignId)
          .execute();
      },
      mark: async (campaignId, moment, markedAt) => {
        const column = moment === "published" ? "published_at" : "ended_at";
        await trx
          .updateTable("campaigns")
          .set({ [column]: markedAt, updated_at: markedAt })
          .where("campaign_id", "=", campaignId)
          .execute();
      },
      fundBudget: async (campaignId, fundingId, points) => {
        const budgetId = campaignBudgetId(campaignId);
        const slices = await sql<{ slice: number; funded: string; reserved: string }>`
          select slice, funded, reserved from budget_slices where budget_id = ${budgetId}
          order by slice for update`.execute(trx);
        const shares = sharesToFund(
          slices.rows.map((s) => ({
            slice: s.slice,
            funded: Number(s.funded),
            reserved: Number(s.reserved),
          })),
          points,
        );
        if (shares === null) return false;
        if (shares.some((s) => s !== 0)) await fundBudget(trx, { budgetId, fundingId, shares, actor, at });
        return true;
      },
      audit: (entry) =>
        insertAudit(trx, {
          ...entry,
          auditId: this.ids.newId("aud"),
          actor,
          subject: `campaign:${entry.subject}`,
          at,
        }),
    };
  }

  async budgets(campaignIds: readonly string[]) {
    const summaries = await budgetSummaries(this.db, campaignIds.map(campaignBudgetId));
    return new Map(
      campaignIds.map((id) => [id, summaries.get(campaignBudgetId(id)) ?? budgetSummary([])] as const),
    );
  }

  find(campaignId: string): Promise<StoredCampaign | undefined> {
    return findCampaign(this.db, campaignId, false);
  }

  /** `list_campaigns`: a keyset page by id, each with its current version; the state read in SQL. */
  async list(query: CampaignListQuery): Promise<StoredCampaign[]> {
    let q = this.db
      .selectFrom("campaigns as c")
      .innerJoin("campaign_versions as v", (j) =>
        j.onRef("v.campaign_id", "=", "c.campaign_id").onRef("v.version", "=", "c.current_version"),
      )
      .selectAll("c")
      .select([
        "v.version",
        "v.definition",
        "v.created_at as version_created_at",
        "v.created_by as version_created_by",
      ]);
    if (query.funder !== null) q = q.where("c.funder", "=", query.funder);
    if (query.after !== null) q = q.where("c.campaign_id", ">", query.after);
    const now = query.now;
    if (query.state === "ended")
      q = q.where((eb) =>
        eb.or([
          eb("c.ended_at", "<=", now),
          eb.and([eb("c.published_at", "is not", null), eb("c.ends_at", "<=", now)]),
        ]),
      );
    if (query.state === "draft") q = q.where((eb) => notEnded(eb, now)).where("c.published_at", "is", null);
    if (query.state === "scheduled")
      q = q
        .where((eb) => notEnded(eb, now))
        .where("c.published_at", "is not", null)
        .where("c.starts_at", ">", now);
    if (query.state === "active")
      q = q
        .where((eb) => notEnded(eb, now))
        .where("c.published_at", "is not", null)
        .where("c.starts_at", "<=", now);
    const rows = await q.orderBy("c.campaign_id").limit(query.limit).execute();
    return rows.map((r) =>
      campaignOf(r, [
        {
          campaign_id: r.campaign_id,
          version: r.version,
          definition: r.definition,
          starts_at: r.starts_at,
          ends_at: r.ends_at,
          created_at: r.version_created_at,
          created_by: r.version_created_by,
        },
      ]),
    );
  }

  /** `published_campaigns`: every version of the published campaigns with a window ending after `endingAfter`. */
  async published(endingAfter: Date): Promise<CampaignRecord[]> {
    const rows = await this.db
      .selectFrom("campaigns as c")
      .innerJoin("campaign_versions as v", "v.campaign_id", "c.campaign_id")
      .select([
        "c.published_at",
        "c.ended_at",
        "c.funder",
        "v.campaign_id",
        "v.version",
        "v.definition",
        "v.created_at",
        "v.created_by",
      ])
      .where("c.published_at", "is not", null)
      .where("c.campaign_id", "in", (eb) =>
        eb.selectFrom("campaign_versions").select("campaign_id").where("ends_at", ">", endingAfter),
      )
      .orderBy("v.campaign_id")
      .orderBy("v.version")
      .execute();
    const byCampaign = new Map<string, { record: CampaignRecord; versions: CampaignVersion[] }>();
    for (const r of rows) {
      let entry = byCampaign.get(r.campaign_id);
      if (!entry) {
        const versions: CampaignVersion[] = [];
        entry = {
          versions,
          record: {
            campaignId: r.campaign_id,
            publishedAt: r.published_at === null ? null : new Date(r.published_at),
            endedAt: r.ended_at === null ? null : new Date(r.ended_at),
            versions,
          },
        };
        byCampaign.set(r.campaign_id, entry);
      }
      entry.versions.push({
        version: r.version,
        createdAt: new Date(r.created_at),
        createdBy: r.created_by,
        definition: definitionOf(r.definition as CampaignDefinitionView, r.funder),
      });
    }
    return [...byCampaign.values()].map((e) => e.record);
  }
}

type Filter = ExpressionBuilder<{ c: CampaignRow }, "c">;

/** Not ended at `now` (campaignState's first two tests, in SQL): ended through the API, or by its window once published. */
function notEnded(eb: Filter, now: Date) {
  return eb.and([
    eb.or([eb("c.ended_at", "is", null), eb("c.ended_at", ">", now)]),
    eb.or([eb("c.published_at", "is", null), eb("c.ends_at", ">", now)]),
  ]);
}

async function findCampaign(
  db: Kysely<Database> | Transaction<Database>,
  campaignId: string,
  forUpdate: boolean,
): Promise<StoredCampaign | undefined> {
  let q = db.selectFrom("campaigns").selectAll().where("campaign_id", "=", campaignId);
  if (forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) return undefined;
  const versions = await db
    .selectFrom("campaign_versions")
    .selectAll()
    .where("campaign_id", "=", campaignId)
    .orderBy("version")
    .execute();
  return campaignOf(row, versions);
}

function campaignOf(row: CampaignRow, versions: VersionRow[]): StoredCampaign {
  return {
    campaignId: row.campaign_id,
    funder: row.funder,
    publishedAt: row.published_at === null ? null : new Date(row.published_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    versions: versions.map((v) => ({
      version: v.version,
      createdAt: new Date(v.created_at),
      createdBy: v.created_by,
      definition: definitionOf(v.definition as CampaignDefinitionView, row.funder),
    })),
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
    updatedAt: new Date(row.updated_at),
  };
}

function versionRow(campaignId: string, v: CampaignVersion): VersionRow {
  return {
    campaign_id: campaignId,
    version: v.version,
    definition: JSON.stringify(definitionView(v.definition)),
    starts_at: v.definition.conditions.startsAt,
    ends_at: v.definition.conditions.endsAt,
    created_at: v.createdAt,
    created_by: v.createdBy,
  };
}

/** A stored definition (the API's shape, instants in UTC) with the campaign's funder. */
function definitionOf(stored: CampaignDefinitionView, funder: string): CampaignDefinition {
  return {
    ...stored,
    funder: funderNamed(funder),
    conditions: {
      ...stored.conditions,
      startsAt: new Date(stored.conditions.startsAt),
      endsAt: new Date(stored.conditions.endsAt),
    },
  };
}
