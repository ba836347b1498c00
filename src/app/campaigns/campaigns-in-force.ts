import type { CampaignInForce } from "../../domain/campaigns/evaluation.js";
import { type CampaignRecord, campaignsInForceAt } from "../../domain/campaigns/lifecycle.js";
import type { Clock } from "../ports.js";
import type { CampaignStore } from "./ports.js";

/** How far back the cache reaches: orders placed within it (late or waiting events too) read no table. */
const CACHE_REACH_MS = 31 * 86_400_000;

/**
 * R26: the read port of the order path — the campaigns in force at an instant, each with the version
 * current then — through a short cache, as ProgrammeRules caches the programme's versions: every
 * order needs them, and they change rarely. A write through this process is seen at once
 * (`invalidate`); one through another instance within `ttlMs` (5 s by default). The cache holds the
 * published campaigns whose windows end after a month before it was loaded; an instant older than
 * that is answered from the table.
 */
export class CampaignsInForce {
  private cached: { loadedAt: number; reachesBack: Date; campaigns: CampaignRecord[] } | undefined;

  constructor(
    private readonly store: Pick<CampaignStore, "published">,
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
  ) {}

  async campaignsInForce(at: Date): Promise<CampaignInForce[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.loadedAt > this.ttlMs) {
      const reachesBack = new Date(this.clock.now().getTime() - CACHE_REACH_MS);
      this.cached = { loadedAt: now, reachesBack, campaigns: await this.store.published(reachesBack) };
    }
    if (at.getTime() >= this.cached.reachesBack.getTime())
      return campaignsInForceAt(this.cached.campaigns, at);
    return campaignsInForceAt(await this.store.published(at), at);
  }

  invalidate(): void {
    this.cached = undefined;
  }
}
