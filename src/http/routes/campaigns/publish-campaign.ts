import type { App, RouteDeps } from "../../context.js";
import { registerCampaignAction } from "./campaign-action.js";

export function register(app: App, deps: RouteDeps) {
  registerCampaignAction(app, deps, "publish", {
    operationId: "publishCampaign",
    summary: "R26: publish a draft: scheduled before its window, active within it",
    description:
      "It applies to orders placed from now on (from startsAt, if later). Only a draft is published (409 CAMPAIGN_NOT_EDITABLE otherwise); a window that has ended is 422 CAMPAIGN_WINDOW_OVER. Audited.",
  });
}
