import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CustomerParams, Instant, strictObject } from "../../schemas.js";
import { Fingerprint, InvitationSchema, InviteCodeText } from "./schemas.js";

export function register(app: App, { invites }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/invitation",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "registerInvitation",
        tags: ["invites"],
        summary: "R23: a new customer registered with an invite code",
        description:
          "The customer (path) is the friend. Only a new customer counts: one with an order or any points is 422 NOT_A_NEW_CUSTOMER. The inviter itself, or a friend with the inviter's device or payment fingerprint, is 422 SELF_INVITE; an unknown code is 422 INVITE_CODE_NOT_FOUND; a friend has one inviter (another code: 409 ALREADY_INVITED; the same again answers the invitation). When the friend's first order ships, the inviter earns 100, 300 (from 3,000 RUB) or 500 (from 10,000 RUB) points, pending until the order's accrual is (R13).",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          code: InviteCodeText,
          registeredAt: Instant("When the friend registered"),
          deviceFingerprint: Type.Optional(Fingerprint("The friend's device")),
          paymentFingerprint: Type.Optional(Fingerprint("The friend's payment method")),
        }),
        response: { 201: InvitationSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const answer = await invites.register(
        {
          friendId: request.params.customerId,
          code: body.code,
          registeredAt: new Date(body.registeredAt),
          deviceFingerprint: body.deviceFingerprint,
          paymentFingerprint: body.paymentFingerprint,
        },
        writeRequestOf(request),
      );
      return sendOutcome(reply, answer, 201);
    },
  );
}
