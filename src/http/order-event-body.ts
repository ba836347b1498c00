import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { Static } from "typebox";
import type { IncomingEvent } from "../app/order-service.js";
import type { OrderEvent } from "../domain/orders/index.js";
import { fingerprintOf } from "./context.js";
import { EventBatchSchema, OrderEventSchema } from "./order-schemas.js";

/**
 * An order event as the marketplace sends it, in a `POST /v1/orders/events` body or as one JetStream
 * message: one schema, one validator and one translation for both ways in, so an event means the same
 * and has the same fingerprint whichever way it arrives.
 */
export type OrderEventBody = Static<typeof OrderEventSchema>;

const ajv = new Ajv({
  allErrors: true,
  discriminator: true,
  removeAdditional: false,
  coerceTypes: false,
  strict: false,
});
addFormats.default(ajv);
export const validateEventBatch = ajv.compile(EventBatchSchema);
export const validateOrderEvent = ajv.compile(OrderEventSchema);

function toDomainEvent(body: OrderEventBody): OrderEvent {
  const base = {
    eventId: body.eventId,
    orderId: body.orderId,
    customerId: body.customerId,
    sequence: body.sequence,
    occurredAt: new Date(body.occurredAt),
  };
  switch (body.type) {
    case "placed":
      return {
        ...base,
        type: "placed",
        lines: body.lines,
        paymentMethod: body.paymentMethod,
        spend: {
          bonus: body.spend?.bonus ?? 0,
          savings: body.spend?.savings ?? 0,
          referral: body.spend?.referral ?? 0,
        },
        ...(body.promoCode === undefined ? {} : { promoCode: body.promoCode }),
      };
    case "shipped":
      return { ...base, type: "shipped", lines: body.lines };
    case "returned":
      return { ...base, type: "returned", lines: body.lines };
    default:
      return { ...base, type: body.type };
  }
}

/** The event as `OrderService.handleEvents` takes it, with the fingerprint of what was sent. */
export function incomingEventOf(body: OrderEventBody): IncomingEvent {
  return { event: toDomainEvent(body), fingerprint: fingerprintOf(body) };
}

/**
 * One JetStream message's body, a JSON order event: the event, or why it is malformed (not JSON, or
 * what the schema says of it, as the route would answer 400).
 */
export function decodeOrderEventMessage(
  data: Uint8Array,
): { ok: true; incoming: IncomingEvent } | { ok: false; problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (err) {
    return { ok: false, problem: `not a JSON document: ${(err as Error).message}` };
  }
  if (!validateOrderEvent(body)) {
    const problems = (validateOrderEvent.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || "/"} ${e.message ?? "is not valid"}`);
    return { ok: false, problem: `not an order event: ${problems.join("; ")}` };
  }
  return { ok: true, incoming: incomingEventOf(body as OrderEventBody) };
}
