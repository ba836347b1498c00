import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { PromoCode } from "../../order-schemas.js";
import { CustomerParams, strictObject } from "../../schemas.js";
import { ManagerSchema } from "./schemas.js";

export function register(app: App, { managers }: RouteDeps) {
  app.put(
    "/v1/customers/:customerId/manager",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "grantManager",
        tags: ["managers"],
        summary: "R24: grants manager status, with a promo code (given or made)",
        description:
          "Orders other customers place with the code (`promoCode` on the placed event) earn the manager referral points: 5% of the money paid for the units shipped, pending until the month ends, kept if the manager's own purchases that month reach 2,500 RUB. A code taken by another customer is 409 PROMO_CODE_TAKEN; a manager's code does not change (409 MANAGER_CODE_FIXED). Granting an active manager again answers it as it is; a revoked one gets its code back. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({ promoCode: Type.Optional(PromoCode("The code to give; absent: one is made")) }),
        response: { 200: ManagerSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await managers.grant(request.params.customerId, request.body.promoCode, writeRequestOf(request)),
        200,
      ),
  );
}
