import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { ProgrammeConfigSchema } from "../order-schemas.js";
import { Instant, strictObject, Text } from "../schemas.js";
import { ConfigVersionSchema } from "./get-programme-config.js";

export function register(app: App, { orders }: RouteDeps) {
  app.post(
    "/v1/config/programme",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "addProgrammeConfigVersion",
        tags: ["configuration"],
        summary:
          "A new version of the rules, in force from effectiveFrom; orders keep the version they were placed under",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        body: strictObject({
          config: ProgrammeConfigSchema,
          effectiveFrom: Instant("When the version takes effect; not in the past"),
          reason: Text({ minLength: 3, maxLength: 500, description: "Why (audited)" }),
        }),
        response: { 201: ConfigVersionSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const write = writeRequestOf(request);
      const result = await orders.addConfigVersion({
        config: request.body.config,
        effectiveFrom: new Date(request.body.effectiveFrom),
        reason: request.body.reason,
        actor: write.actor,
        idempotencyKey: write.idempotencyKey,
        fingerprint: write.fingerprint,
      });
      if (result.ok && result.replayed) reply.header("idempotent-replayed", "true");
      return sendOutcome(reply, result, 201);
    },
  );
}
