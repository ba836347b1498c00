import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CAMPAIGN_WRITERS, CampaignBody, CampaignParams, CampaignSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.put(
    "/v1/campaigns/:campaignId",
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      schema: {
        operationId: "replaceCampaign",
        tags: ["campaigns"],
        summary:
          "R26: replace a campaign's definition: a new version, in force for orders placed from now on",
        description:
          "A draft or scheduled campaign takes any valid definition (a scheduled one may not start in the past). An active one may only be renamed, end earlier (still after now: ending it now is …/end) or have its budget raised or removed; anything else is 409 CAMPAIGN_NOT_EDITABLE naming the fields. An ended campaign is final (409). A seller key changes only its own campaigns (another's is 404). Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CampaignParams,
        body: CampaignBody,
        response: { 200: CampaignSchema, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await campaigns.replace(
          request.params.campaignId,
          request.body,
          principalOf(request),
          writeRequestOf(request),
        ),
        200,
      ),
  );
}
