import { Type } from "typebox";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { CAMPAIGN_READERS, CampaignParams } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.get(
    "/v1/campaigns/:campaignId/budget",
    {
      config: { access: { roles: CAMPAIGN_READERS } },
      schema: {
        operationId: "getCampaignBudget",
        tags: ["campaigns"],
        summary: "R26: a campaign's budget — funded, reserved by placed orders, and left",
        description:
          "Funded when the campaign is published (and on each raise); a placed order reserves the points it was promised, a cancellation or a return gives them back. A draft, or a campaign without a budget, has nothing funded. A seller key reads only its own campaigns.",
        security: [{ bearer: [] }],
        params: CampaignParams,
        response: {
          200: Type.Object({
            campaignId: Type.String(),
            budgetPoints: Type.Union([Type.Integer(), Type.Null()], {
              description: "What the current version allows; null: no budget",
            }),
            fundedPoints: Type.Integer(),
            reservedPoints: Type.Integer({ description: "Promised to placed orders, net of what came back" }),
            remainingPoints: Type.Integer(),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await campaigns.budget(request.params.campaignId, principalOf(request)), 200),
  );
}
