import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { CAMPAIGN_READERS, CampaignParams, CampaignSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.get(
    "/v1/campaigns/:campaignId",
    {
      config: { access: { roles: CAMPAIGN_READERS } },
      schema: {
        operationId: "getCampaign",
        tags: ["campaigns"],
        summary: "R26: a campaign's current version and its state now",
        description: "A seller key reads only its own campaigns (another's is 404 CAMPAIGN_NOT_FOUND).",
        security: [{ bearer: [] }],
        params: CampaignParams,
        response: { 200: CampaignSchema, ...errorResponses(404) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await campaigns.get(request.params.campaignId, principalOf(request)), 200),
  );
}
