import type { App, RouteDeps } from "../../context.js";
import { register as createCampaign } from "./create-campaign.js";
import { register as dryRunCampaign } from "./dry-run-campaign.js";
import { register as endCampaign } from "./end-campaign.js";
import { register as getCampaign } from "./get-campaign.js";
import { register as getCampaignBudget } from "./get-campaign-budget.js";
import { register as listCampaignVersions } from "./list-campaign-versions.js";
import { register as listCampaigns } from "./list-campaigns.js";
import { register as publishCampaign } from "./publish-campaign.js";
import { register as replaceCampaign } from "./replace-campaign.js";

/** R26's campaign definitions (issue 11), one file each. */
export const CAMPAIGN_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  createCampaign,
  listCampaigns,
  getCampaign,
  getCampaignBudget,
  listCampaignVersions,
  replaceCampaign,
  publishCampaign,
  endCampaign,
  dryRunCampaign,
];
