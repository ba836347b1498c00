import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CustomerParams, strictObject } from "../../schemas.js";
import { SavingsMechanicSchema } from "./schemas.js";

export function register(app: App, { savings }: RouteDeps) {
  app.put(
    "/v1/customers/:customerId/savings/mechanic",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "setSavingsMechanic",
        tags: ["savings"],
        summary: "R25: what the customer's savings account earns, monthly interest or purchase cashback",
        description:
          "Audited. `cashback`: orders placed from now on and paid from the savings account earn the programme's `savings.cashbackBp` of the money paid, and no month pays interest any more; `interest` (the default): months paid from now on pay interest, and new orders earn no cashback.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({ mechanic: SavingsMechanicSchema }),
        response: {
          200: Type.Object({ customerId: Type.String(), mechanic: SavingsMechanicSchema }),
          ...errorResponses(409),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await savings.setMechanic(request.params.customerId, request.body.mechanic, writeRequestOf(request)),
        200,
      ),
  );
}
