import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../context.js";
import { ProgrammeConfigSchema } from "../order-schemas.js";
import { strictObject } from "../schemas.js";
import { QuoteBody, QuoteSchema } from "./checkout-quote.js";

export function register(app: App, { orders }: RouteDeps) {
  app.post(
    "/v1/config/programme/dry-run",
    {
      config: { access: { roles: ["operator", "support", "readonly"] } },
      schema: {
        operationId: "dryRunProgrammeConfig",
        tags: ["configuration"],
        summary:
          "A draft programme configuration tried on a cart before it takes effect, beside the version in force",
        description:
          "The cart is quoted twice, as POST /v1/checkout/quote does: under the version in force now (`current`) and under the draft (`draft`, numbered as the version it would become), with what the draft changes (`difference`: draft − current). The draft is validated as a new version would be (400 naming body.config.…). Nothing is stored; no Idempotency-Key needed.",
        security: [{ bearer: [] }],
        body: strictObject({ config: ProgrammeConfigSchema, cart: QuoteBody }),
        response: {
          200: Type.Object({
            current: QuoteSchema,
            draft: QuoteSchema,
            difference: Type.Object({
              spendablePoints: Type.Integer({ description: "R16-R19: the most points the cart may use" }),
              combinationPoints: Type.Integer({ description: "Points in the best combination" }),
              moneyToPayKop: Type.Integer(),
              accrualPoints: Type.Integer({ description: "R7-R12: what the order would earn" }),
              campaignPoints: Type.Integer({ description: "R26: what the campaigns add" }),
            }),
          }),
          ...errorResponses(422),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await orders.dryRunConfig(request.body.cart, request.body.config), 200),
  );
}
