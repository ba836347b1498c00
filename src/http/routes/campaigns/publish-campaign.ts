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
    "/v1/campaigns/:campaignId/publish",
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      preValidation: refuseBody,
      schema: {
        operationId: "publishCampaign",
        tags: ["campaigns"],
        summary: "R26: publish a draft: scheduled before its window, active within it",
        description:
          "It applies to orders placed from now on (from startsAt, if later). Only a draft is published (409 CAMPAIGN_NOT_EDITABLE otherwise); a window that has ended is 422 CAMPAIGN_WINDOW_OVER. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CampaignParams,
        response: { 200: CampaignSchema, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await campaigns.publish(request.params.campaignId, principalOf(request), writeRequestOf(request)),
        200,
      ),
  );
}
