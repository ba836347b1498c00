import { Type } from "typebox";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { CAMPAIGN_READERS, CampaignParams, CampaignVersionSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.get(
    "/v1/campaigns/:campaignId/versions",
    {
      config: { access: { roles: CAMPAIGN_READERS } },
      schema: {
        operationId: "listCampaignVersions",
        tags: ["campaigns"],
        summary: "R26: every version of a campaign, oldest first, with who made each and when",
        description:
          "An order placed at T is evaluated with the latest version created at or before T. A seller key reads only its own campaigns.",
        security: [{ bearer: [] }],
        params: CampaignParams,
        response: {
          200: Type.Object({ campaignId: Type.String(), versions: Type.Array(CampaignVersionSchema) }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await campaigns.versions(request.params.campaignId, principalOf(request)), 200),
  );
}
