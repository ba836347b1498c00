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

/**
 * `POST /v1/campaigns/{campaignId}/<action>`: a change of state that takes no body (publish, end),
 * answered with the campaign. Each action's file says what it does.
 */
export function registerCampaignAction(
  app: App,
  { campaigns }: RouteDeps,
  action: "publish" | "end",
  doc: { operationId: string; summary: string; description: string },
) {
  app.post(
    `/v1/campaigns/:campaignId/${action}`,
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      preValidation: refuseBody,
      schema: {
        ...doc,
        tags: ["campaigns"],
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CampaignParams,
        response: { 200: CampaignSchema, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await campaigns[action](request.params.campaignId, principalOf(request), writeRequestOf(request)),
        200,
      ),
  );
}
