import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CAMPAIGN_WRITERS, CampaignBody, CampaignSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.post(
    "/v1/campaigns",
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      schema: {
        operationId: "createCampaign",
        tags: ["campaigns"],
        summary: "R26: a new campaign, a draft at version 1 (publish it to put it in force)",
        description:
          "An operator's campaign is funded by the marketplace; a seller key's by that seller, and it covers only the seller's products (conditions.sellers exactly [its id], else 403 naming the field). Bad input is 400 naming the field; a campaign contradicting another of the funder (both not combinable, same effect type and scope, overlapping windows) is 422 CAMPAIGN_CONTRADICTS_ANOTHER. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        body: CampaignBody,
        response: { 201: CampaignSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await campaigns.create(request.body, principalOf(request), writeRequestOf(request)),
        201,
      ),
  );
}
