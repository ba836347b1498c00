import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  refuseBody,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CAMPAIGN_WRITERS, CampaignParams, CampaignSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.post(
    "/v1/campaigns/:campaignId/end",
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      preValidation: refuseBody,
      schema: {
        operationId: "endCampaign",
        tags: ["campaigns"],
        summary: "R26: end a campaign now, for good: a new version whose window closes now",
        description:
          "Orders placed from now on get nothing from it; those placed before keep the version they were placed under. A campaign not started yet gets a window closing at its start (it covers nothing). A draft can be ended too (discarded). Ended before: 409 CAMPAIGN_NOT_EDITABLE. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CampaignParams,
        response: { 200: CampaignSchema, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await campaigns.end(request.params.campaignId, principalOf(request), writeRequestOf(request)),
        200,
      ),
  );
}
