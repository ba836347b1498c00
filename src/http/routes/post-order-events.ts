import type { FastifySchemaValidationError } from "fastify";
import { Type } from "typebox";
import type { EventOutcome } from "../../app/ports.js";
import { type App, errorResponses, type RouteDeps, sendError } from "../context.js";
import { isErrorCode } from "../errors.js";
import {
  incomingEventOf,
  type OrderEventBody,
  validateEventBatch,
  validateOrderEvent,
} from "../order-event-body.js";
import { EventBatchSchema, EventOutcomeSchema, OrderEventSchema } from "../order-schemas.js";

type Body = { events: OrderEventBody[] } | OrderEventBody;

/** The body is either `{ events: [...] }` or one event; each has its own schema so errors name the right fields. */
function bodyValidator() {
  const check = (data: unknown) => {
    const isBatch = typeof data === "object" && data !== null && "events" in data;
    const validate = isBatch ? validateEventBatch : validateOrderEvent;
    const ok = validate(data);
    check.errors = (validate.errors ?? null) as FastifySchemaValidationError[] | null;
    return ok;
  };
  check.errors = null as FastifySchemaValidationError[] | null;
  return check;
}

/** Refusals name fields within the event (`lines[2].quantity`); the answer names them within the request. */
function withFieldPath(outcome: EventOutcome, prefix: string): EventOutcome {
  if (outcome.status !== "refused") return outcome;
  const details = { ...outcome.error.details };
  if (typeof details.field === "string") details.field = `${prefix}${details.field}`;
  if (Array.isArray(details.fields)) {
    details.fields = details.fields.map((f: { field: string; message: string }) => ({
      ...f,
      field: `${prefix}${f.field}`,
    }));
  }
  return { ...outcome, error: { ...outcome.error, details } };
}

export function register(app: App, { orders }: RouteDeps) {
  app.post(
    "/v1/orders/events",
    {
      config: { access: { roles: ["operator"] } },
      validatorCompiler: ({ httpPart }) => (httpPart === "body" ? bodyValidator() : () => true),
      schema: {
        operationId: "postOrderEvents",
        tags: ["orders"],
        summary:
          "R13-R15, R20: order events — one, or a batch of up to 1,000 — each applied whole or not at all, once",
        description:
          "Each event is idempotent by its eventId (per customer): a redelivery returns the stored result and changes nothing; the same id with another body is refused with IDEMPOTENCY_CONFLICT. Events carrying `sequence` are put in order: one that arrives early is parked and applied when its predecessors arrive. A single event answers with its result (or the error envelope if refused); a batch answers 200 with a result per event.",
        security: [{ bearer: [] }],
        body: Type.Unsafe<Body>({ oneOf: [EventBatchSchema, OrderEventSchema] }),
        response: {
          200: Type.Unsafe({
            oneOf: [
              Type.Object({
                results: Type.Array(EventOutcomeSchema),
                applied: Type.Integer(),
                parked: Type.Integer(),
                refused: Type.Integer(),
              }),
              EventOutcomeSchema,
            ],
          }),
          ...errorResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as Body;
      const bodies = "events" in body ? body.events : [body];
      const incoming = bodies.map(incomingEventOf);
      const principal = request.principal;
      const answers = await orders.handleEvents(
        incoming,
        principal?.type === "key" ? principal.keyId : "unknown",
        request.id,
      );
      const results = answers.map((a) => a.outcome);
      if ("events" in body) {
        const count = (status: string) => results.filter((r) => r.status === status).length;
        return {
          results: results.map((r, i) => withFieldPath(r, `body.events[${i}].`)),
          applied: count("applied"),
          parked: count("parked"),
          refused: count("refused"),
        };
      }
      const [first] = answers;
      if (!first) throw new Error("no result for the event");
      const result = withFieldPath(first.outcome, "body.");
      if (result.status !== "refused") return result;
      const code = isErrorCode(result.error.code) ? result.error.code : "INTERNAL";
      // A refusal sent again answers what it answered first, the first request's id included.
      return sendError(
        reply,
        code,
        result.error.message,
        { ...result.error.details, eventId: result.eventId },
        first.requestId || request.id,
      );
    },
  );
}
