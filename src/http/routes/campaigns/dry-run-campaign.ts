import { Type } from "typebox";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { Lines, PaymentMethodSchema } from "../../order-schemas.js";
import { Id, strictObject } from "../../schemas.js";
import { CAMPAIGN_WRITERS, CampaignParams } from "./schemas.js";

export function register(app: App, { campaigns, orders }: RouteDeps) {
  app.post(
    "/v1/campaigns/:campaignId/dry-run",
    {
      config: { access: { roles: CAMPAIGN_WRITERS } },
      schema: {
        operationId: "dryRunCampaign",
        tags: ["campaigns"],
        summary: "R26: what a campaign — a draft too — would add to a cart, without saving anything",
        description:
          "The cart is quoted as `POST /v1/checkout/quote` quotes it (the best combination of points, the money-paid bases) and the campaign's current version applied as if it were in force at `at` (default now; give an instant inside a future window). Reads only: nothing is written and no budget is touched. A seller key dry-runs only its own campaigns.",
        security: [{ bearer: [] }],
        params: CampaignParams,
        body: strictObject({
          customerId: Id("The customer whose balance and Premium status the cart is quoted with"),
          lines: Lines,
          paymentMethod: PaymentMethodSchema,
          at: Type.Optional(Type.String({ format: "date-time", description: "The instant to apply it at" })),
        }),
        response: {
          200: Type.Object({
            campaignId: Type.String(),
            version: Type.Integer(),
            at: Type.String({ format: "date-time" }),
            points: Type.Integer({
              description: "Whole points it would add: the lines' kopecks floored once, plus order points",
            }),
            orderPoints: Type.Integer(),
            lines: Type.Array(Type.Object({ lineId: Type.String(), kop: Type.Integer() })),
            budgetPoints: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...errorResponses(404, 422),
        },
      },
    },
    async (request, reply) => {
      const campaign = await campaigns.asInForce(request.params.campaignId, principalOf(request));
      if (!campaign.ok) return sendOutcome(reply, campaign, 200);
      const { at, ...cart } = request.body;
      return sendOutcome(
        reply,
        await orders.dryRunCampaign(
          { ...cart, at: at === undefined ? undefined : new Date(at) },
          campaign.value,
        ),
        200,
      );
    },
  );
}
