import type { App, RouteDeps } from "../../context.js";
import { registerCampaignAction } from "./campaign-action.js";

export function register(app: App, deps: RouteDeps) {
  registerCampaignAction(app, deps, "end", {
    operationId: "endCampaign",
    summary: "R26: end a campaign now, for good: a new version whose window closes now",
    description:
      "Orders placed from now on get nothing from it; those placed before keep the version they were placed under. A campaign not started yet gets a window closing at its start (it covers nothing). A draft can be ended too (discarded). Ended before: 409 CAMPAIGN_NOT_EDITABLE. Audited.",
  });
}
