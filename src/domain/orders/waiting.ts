import type { OrderRefusal } from "./lifecycle.js";
import type { Order, OrderEvent, OrderEventType, OrderState } from "./types.js";

/**
 * Order events delivered out of order. An event that cannot apply yet, but could after an event
 * still to come, waits instead of being refused for good: shipped before placed or paid, returned
 * before the units shipped, delivered before shipped. With `sequence` the sequence is the order:
 * an event ahead of the next one waits for its predecessors (`sequenceDecision`), and one whose
 * predecessor was refused is refused too (PREDECESSOR_REFUSED), since it can never get its turn.
 * Without `sequence`, events whose meaning depends on their order (a cancel racing a shipment, a
 * shipment after delivery) keep the order they arrive in: senders that can race send `sequence`.
 */

/** The states an event of each type applies in (the lifecycle's own checks). */
const STATES_FOR: Record<Exclude<OrderEventType, "placed">, readonly OrderState[]> = {
  paid: ["placed"],
  shipped: ["paid", "shipped"],
  delivered: ["shipped"],
  cancelled: ["placed", "paid"],
  returned: ["shipped", "delivered"],
};

/** The states later events can still take an order to (its lifecycle only moves forward). */
const REACHABLE: Record<OrderState, readonly OrderState[]> = {
  placed: ["paid", "shipped", "delivered", "cancelled", "returned"],
  paid: ["shipped", "delivered", "cancelled", "returned"],
  shipped: ["delivered", "returned"],
  delivered: ["returned"],
  cancelled: [],
  returned: [],
};

/** What a waiting event waits for, for people (the order view, the operator's listing). */
export interface Waiting {
  /** The refusal it would get now (ORDER_NOT_FOUND, ORDER_STATE_CONFLICT, RETURN_EXCEEDS_SHIPPED, or none for a sequence gap). */
  code: string | null;
  description: string;
}

/**
 * Whether an event without `sequence` that `order` refuses now could apply after events still to
 * come, and what it waits for; undefined when no later event can make it valid (refused for good).
 */
export function waitingFor(
  order: Order | undefined,
  event: OrderEvent,
  refusal: OrderRefusal,
): Waiting | undefined {
  if (event.sequence !== undefined || event.type === "placed") return undefined;
  if (!order) {
    return refusal.code === "ORDER_NOT_FOUND"
      ? { code: refusal.code, description: `order ${event.orderId} to be placed` }
      : undefined;
  }
  const needed = STATES_FOR[event.type];
  if (refusal.code === "ORDER_STATE_CONFLICT" && !needed.includes(order.state)) {
    const reachable = needed.filter((s) => REACHABLE[order.state].includes(s));
    if (reachable.length > 0) {
      return { code: refusal.code, description: `order ${order.orderId} to be ${reachable.join(" or ")}` };
    }
  }
  if (refusal.code === "RETURN_EXCEEDS_SHIPPED" && event.type === "returned" && canStillShip(order, event)) {
    return { code: refusal.code, description: `more units of order ${order.orderId} to be shipped` };
  }
  return undefined;
}

/** A return the order's units still to ship could cover: every line named exists and fits what is left. */
function canStillShip(order: Order, event: Extract<OrderEvent, { type: "returned" }>): boolean {
  if (order.state !== "paid" && order.state !== "shipped") return false;
  if (event.lines.length === 0) return false;
  const named = new Set<string>();
  return event.lines.every((pick) => {
    if (named.has(pick.lineId)) return false;
    named.add(pick.lineId);
    const line = order.lines.find((l) => l.lineId === pick.lineId);
    if (!line) return false;
    const quantity = pick.quantity ?? line.quantity - line.returnedQuantity;
    return quantity > 0 && quantity <= line.quantity - line.returnedQuantity;
  });
}

/** A refused event with a sequence: the events after it in that order can never get their turn. */
export interface RefusedInSequence {
  eventId: string;
  orderId: string;
  sequence: number;
  code: string;
}

/**
 * PREDECESSOR_REFUSED: the event waits for a sequence number at or after the order's next one, and an
 * event holding one of the numbers before it was refused.
 */
export function refusedPredecessor(
  order: Order | undefined,
  event: OrderEvent,
  refused: readonly RefusedInSequence[],
): OrderRefusal | undefined {
  if (event.sequence === undefined) return undefined;
  const next = (order?.lastSequence ?? 0) + 1;
  const sequence = event.sequence;
  const blocking = refused
    .filter((r) => r.orderId === event.orderId && r.sequence >= next && r.sequence < sequence)
    .sort((a, b) => a.sequence - b.sequence)[0];
  if (!blocking) return undefined;
  return {
    ok: false,
    code: "PREDECESSOR_REFUSED",
    message: `event ${event.eventId} (sequence ${sequence}) follows event ${blocking.eventId} (sequence ${blocking.sequence}) of order ${event.orderId}, which was refused with ${blocking.code}`,
    details: {
      orderId: event.orderId,
      sequence,
      refusedEventId: blocking.eventId,
      refusedSequence: blocking.sequence,
      refusedCode: blocking.code,
    },
  };
}
