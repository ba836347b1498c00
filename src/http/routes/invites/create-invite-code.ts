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
import { Fingerprint } from "./schemas.js";

export function register(app: App, { invites }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/invite-code",
    {
      config: { access: { roles: ["operator"], customerSelf: true } },
      schema: {
        operationId: "createInviteCode",
        tags: ["invites"],
        summary: "R23: the customer's shareable invite code, made on first request",
        description:
          "201 with a new code, 200 with the code made before (a customer has one; the fingerprints sent the first time are kept). The fingerprints of the inviter's device and payment method, if sent, make a friend registering from the same one a self-invite.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          deviceFingerprint: Type.Optional(Fingerprint("The inviter's device")),
          paymentFingerprint: Type.Optional(Fingerprint("The inviter's payment method")),
        }),
        response: {
          200: Type.Object({ customerId: Type.String(), code: Type.String() }),
          201: Type.Object({ customerId: Type.String(), code: Type.String() }),
          ...errorResponses(409),
        },
      },
    },
    async (request, reply) => {
      const answer = await invites.code(request.params.customerId, request.body, writeRequestOf(request));
      if (!answer.ok) return sendOutcome(reply, answer, 200);
      const { created, ...value } = answer.value;
      return sendOutcome(reply, { ...answer, value }, created ? 201 : 200);
    },
  );
}
