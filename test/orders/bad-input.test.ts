import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import {
  type Api,
  api,
  expectLedgerConsistent,
  type Harness,
  type Line,
  line,
  type Outcome,
  orderEvents,
} from "./helpers.js";

/**
 * Bad input to the quote and the order events: every refusal is a 4xx in the error envelope that
 * names the field (or the state) at fault, never a 500; in a batch, a refused event does not stop
 * the others.
 */

interface ErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown>; requestId: string };
}

/** Asserts a refusal: status, code, the envelope's shape, and that the message or details name `field`. */
function expectRefusal(res: LightMyRequestResponse, status: number, code: string, field?: string) {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json() as ErrorEnvelope;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toMatch(/^req_/);
  if (field !== undefined) {
    expect(`${body.error.message} ${JSON.stringify(body.error.details)}`).toContain(field);
  }
  return body.error;
}

/** The field paths a VALIDATION_FAILED answer lists. */
function fieldsOf(res: LightMyRequestResponse): string[] {
  const details = (res.json() as ErrorEnvelope).error.details as { fields?: { field: string }[] };
  return (details.fields ?? []).map((f) => f.field);
}

const at = "2026-01-15T09:00:00.000Z";

describe("bad input to the quote and the order events", () => {
  let h: Harness;
  let k: Api;
  beforeAll(async () => {
    h = await httpHarness();
    k = api(h);
  });
  afterAll(async () => {
    await h.close();
  });

  const cart = (): Line[] => [
    line("books", 100_000, 1, { lineId: "a" }),
    line("electronics", 50_000, 2, { lineId: "b" }),
    line("groceries", 20_000, 3, { lineId: "c" }),
  ];
  const placed = (
    customerId: string,
    orderId: string,
    lines: unknown,
    extra: Record<string, unknown> = {},
  ) => ({
    eventId: `${orderId}.placed`,
    type: "placed",
    orderId,
    customerId,
    occurredAt: at,
    paymentMethod: "other_card",
    lines,
    ...extra,
  });
  const withLine = (index: number, change: Record<string, unknown>) =>
    cart().map((l, i) => (i === index ? { ...l, ...change } : l));

  describe("checkout quote", () => {
    it("a negative price is refused naming body.lines[1].unitPriceKop", async () => {
      const res = await k.quoteRaw("q1", withLine(1, { unitPriceKop: -100 }));
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.lines[1].unitPriceKop");
      expect(fieldsOf(res)).toEqual(["body.lines[1].unitPriceKop"]);
    });

    it("quantity 0 is refused naming body.lines[0].quantity", async () => {
      const res = await k.quoteRaw("q1", withLine(0, { quantity: 0 }));
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.lines[0].quantity");
    });

    it("an unknown category is not an error: it earns the default 1%", async () => {
      const res = await k.quoteRaw("q1", [line("garden_gnomes", 123_456, 1, { lineId: "g" })]);
      expect(res.statusCode).toBe(200);
      expect(res.json().lines[0]).toMatchObject({ rateBp: 100, accrualKop: 1234 });
      expect(res.json().accrual.points).toBe(12);
      // Codes that are also names of Object.prototype members are just unknown categories.
      const odd = await k.quoteRaw("q1", [
        line("constructor", 100_000, 1, { lineId: "x" }),
        line("__proto__", 100_000, 1, { lineId: "y" }),
      ]);
      expect(odd.statusCode).toBe(200);
      expect(odd.json().lines.map((l: { rateBp: number }) => l.rateBp)).toEqual([100, 100]);
    });

    it("an original price below the price charged is refused naming lines[2].originalUnitPriceKop", async () => {
      const res = await k.quoteRaw("q1", withLine(2, { originalUnitPriceKop: 19_999 }));
      const error = expectRefusal(res, 422, "INVALID_ORDER", "lines[2].originalUnitPriceKop");
      expect(error.details).toEqual({
        fields: [{ field: "lines[2].originalUnitPriceKop", message: "must not be below unitPriceKop" }],
      });
    });

    it("duplicate line ids are refused naming the second one", async () => {
      const res = await k.quoteRaw("q1", withLine(2, { lineId: "a" }));
      expectRefusal(res, 422, "INVALID_ORDER", "lines[2].lineId");
      expect(res.json().error.message).toContain("duplicates lines[0].lineId");
    });

    it("strings, fractions and nulls where numbers belong are refused, never coerced", async () => {
      for (const [value, field] of [
        ["100", "unitPriceKop"],
        [1.5, "quantity"],
        [null, "unitPriceKop"],
        ["2", "quantity"],
      ] as const) {
        const res = await k.quoteRaw("q1", withLine(1, { [field]: value }));
        expectRefusal(res, 400, "VALIDATION_FAILED", `body.lines[1].${field}`);
      }
    });

    it("10,001 lines are refused naming body.lines; 10,000 is the limit", async () => {
      const lines = Array.from({ length: 10_001 }, (_, i) => ({
        lineId: `${i}`,
        sku: "s",
        sellerId: "x",
        category: "books",
        quantity: 1,
        unitPriceKop: 100,
      }));
      const res = await k.quoteRaw("q1", lines);
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.lines");
      expect(res.json().error.message).toContain("10000");
    });

    it("an empty cart is a clear refusal", async () => {
      const res = await k.quoteRaw("q1", []);
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.lines");
      expect(res.json().error.message).toBe("body.lines must NOT have fewer than 1 items");
    });

    it("amounts beyond the exact range, missing and unknown fields are refused by name", async () => {
      const huge = await k.quoteRaw(
        "q1",
        withLine(0, { quantity: 100_000, unitPriceKop: 1_000_000_000_000 }),
      );
      expectRefusal(huge, 422, "INVALID_ORDER", "lines[0].amount");
      const unknownField = await k.quoteRaw("q1", withLine(0, { colour: "red" }));
      expectRefusal(unknownField, 400, "VALIDATION_FAILED", "body.lines[0].colour");
      const noMethod = await h.send({
        method: "POST",
        url: "/v1/checkout/quote",
        key: h.keys.operator,
        body: { customerId: "q1", lines: cart() },
      });
      expectRefusal(noMethod, 400, "VALIDATION_FAILED", "body.paymentMethod");
      const badMethod = await k.quoteRaw("q1", cart(), "cash" as "other");
      expectRefusal(badMethod, 400, "VALIDATION_FAILED", "body.paymentMethod");
    });

    it("a zero-price line and 1-RUB items quote without error and leave 1 RUB per unit", async () => {
      await k.credit("q-cheap", "savings", 1000);
      const res = await k.quoteRaw("q-cheap", [
        line("books", 0, 2, { lineId: "free" }),
        line("toys", 100, 5, { lineId: "rub" }),
        line("books", 1000, 1, { lineId: "ten" }),
      ]);
      expect(res.statusCode).toBe(200);
      // 15 RUB for 8 units: at most 7 points.
      expect(res.json()).toMatchObject({ total: 7, moneyToPayKop: 800 });
    });
  });

  describe("order events", () => {
    it("a negative price in a placed event names body.events[0].lines[1].unitPriceKop (batch) or body.lines[1]… (single)", async () => {
      const bad = placed("c1", "o-neg", withLine(1, { unitPriceKop: -1 }));
      const batch = await k.post({ events: [bad] });
      expectRefusal(batch, 400, "VALIDATION_FAILED", "body.events[0].lines[1].unitPriceKop");
      const single = await k.post(bad);
      expectRefusal(single, 400, "VALIDATION_FAILED", "body.lines[1].unitPriceKop");
    });

    it("quantity 0 in a placed event or a return is refused by name", async () => {
      const res = await k.post({ events: [placed("c1", "o-q0", withLine(2, { quantity: 0 }))] });
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.events[0].lines[2].quantity");
      const ret = await k.post({
        eventId: "r0",
        type: "returned",
        orderId: "o-q0",
        customerId: "c1",
        occurredAt: at,
        lines: [{ lineId: "a", quantity: 0 }],
      });
      expectRefusal(ret, 400, "VALIDATION_FAILED", "body.lines[0].quantity");
    });

    it("a string where a number belongs names body.events[0].lines[2].quantity", async () => {
      const res = await k.post({ events: [placed("c1", "o-str", withLine(2, { quantity: "2" }))] });
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.events[0].lines[2].quantity");
      expect(fieldsOf(res)).toEqual(["body.events[0].lines[2].quantity"]);
    });

    it("an unknown category is accepted and earns 1%", async () => {
      const res = await k.post(
        placed("c-cat", "o-cat", [line("garden_gnomes", 250_000, 2, { lineId: "g" })]),
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: "applied", effect: { expectedAccrualPoints: 50 } });
    });

    it("an original price below the price and duplicate line ids are refused as INVALID_ORDER by field", async () => {
      const original = await k.post(placed("c1", "o-orig", withLine(2, { originalUnitPriceKop: 1 })));
      const error = expectRefusal(original, 422, "INVALID_ORDER", "lines[2].originalUnitPriceKop");
      expect(error.details.eventId).toBe("o-orig.placed");
      const duplicate = await k.post(placed("c1", "o-dup", withLine(1, { lineId: "a" })));
      expectRefusal(duplicate, 422, "INVALID_ORDER", "lines[1].lineId");
      // Refused means nothing was stored: the orders do not exist.
      for (const orderId of ["o-orig", "o-dup"]) {
        const view = await h.send({
          method: "GET",
          url: `/v1/orders/${orderId}?customerId=c1`,
          key: h.keys.operator,
        });
        expectRefusal(view, 404, "ORDER_NOT_FOUND");
      }
    });

    it("10,001 lines in a placed event are refused naming body.events[0].lines", async () => {
      const lines = Array.from({ length: 10_001 }, (_, i) => ({
        lineId: `${i}`,
        sku: "s",
        sellerId: "x",
        category: "books",
        quantity: 1,
        unitPriceKop: 100,
      }));
      const res = await k.post({ events: [placed("c1", "o-big", lines)] });
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.events[0].lines");
    });

    it("a batch of 1,001 events is refused naming body.events; nothing is applied", async () => {
      const events = Array.from({ length: 1001 }, (_, i) =>
        placed(`c-many-${i}`, `o-many-${i}`, [line("books", 10_000)]),
      );
      const res = await k.post({ events });
      expectRefusal(res, 400, "VALIDATION_FAILED", "body.events");
      expect(res.json().error.message).toContain("1000");
      const view = await h.send({
        method: "GET",
        url: "/v1/orders/o-many-0?customerId=c-many-0",
        key: h.keys.operator,
      });
      expect(view.statusCode).toBe(404);
    });

    it("an unknown event type names the event and its type", async () => {
      const res = await k.post({
        events: [{ eventId: "u1", type: "lost", orderId: "o", customerId: "c1", occurredAt: at }],
      });
      const error = expectRefusal(res, 400, "VALIDATION_FAILED", "body.events[0]");
      expect(error.message).toContain('"type"');
    });

    it("a missing occurredAt, a bad date and sequence 0 are refused by name", async () => {
      const missing = await k.post({
        events: [{ eventId: "m1", type: "paid", orderId: "o", customerId: "c1" }],
      });
      expectRefusal(missing, 400, "VALIDATION_FAILED", "body.events[0].occurredAt");
      expect(missing.json().error.message).toBe("body.events[0].occurredAt is required");
      const badDate = await k.post({
        eventId: "m2",
        type: "paid",
        orderId: "o",
        customerId: "c1",
        occurredAt: "yesterday",
      });
      expectRefusal(badDate, 400, "VALIDATION_FAILED", "body.occurredAt");
      const zero = await k.post({
        eventId: "m3",
        type: "paid",
        orderId: "o",
        customerId: "c1",
        occurredAt: at,
        sequence: 0,
      });
      expectRefusal(zero, 400, "VALIDATION_FAILED", "body.sequence");
    });

    it("malformed JSON and non-object bodies are 400s in the envelope", async () => {
      const malformed = await h.send({
        method: "POST",
        url: "/v1/orders/events",
        key: h.keys.operator,
        body: '{"events": [',
        headers: { "content-type": "application/json" },
      });
      expectRefusal(malformed, 400, "MALFORMED_JSON");
      for (const raw of ["null", "[]", "42", '{"events":[null]}', '{"events":"x"}']) {
        const res = await h.send({
          method: "POST",
          url: "/v1/orders/events",
          key: h.keys.operator,
          body: raw,
          headers: { "content-type": "application/json" },
        });
        expectRefusal(res, 400, "VALIDATION_FAILED", "body");
      }
    });

    it("an event for an order not placed yet waits (parked) instead of ORDER_NOT_FOUND, and applies once it is placed", async () => {
      const early = await k.post({
        eventId: "nf1",
        type: "paid",
        orderId: "o-later",
        customerId: "c1",
        occurredAt: at,
      });
      expect(early.statusCode, early.body).toBe(200);
      expect(early.json()).toMatchObject({
        eventId: "nf1",
        status: "parked",
        waitingFor: "order o-later to be placed",
      });
      const placedNow = await k.post(placed("c1", "o-later", cart()));
      expect(placedNow.json()).toMatchObject({ status: "applied", orderState: "placed" });
      expect((await k.order("c1", "o-later")).state).toBe("paid");
      // Sent again, the waiting event answers what it is now.
      const again = await k.post({
        eventId: "nf1",
        type: "paid",
        orderId: "o-later",
        customerId: "c1",
        occurredAt: at,
      });
      expect(again.json()).toMatchObject({ eventId: "nf1", status: "applied", orderState: "paid" });
    });

    it("returned before shipped waits and applies after the shipment; shipped twice, a late cancel and placed again are ORDER_STATE_CONFLICT naming currentState and expectedStates", async () => {
      const e = orderEvents("c-state", "o-state", () => h.clock.now());
      await k.apply(e.placed(cart()));
      const early = await k.post(e.returned([{ lineId: "a", quantity: 1 }]));
      expect(early.json()).toMatchObject({
        status: "parked",
        waitingFor: "order o-state to be shipped or delivered",
      });
      await k.apply(e.paid());
      expect((await k.order("c-state", "o-state")).lines[0]?.returnedQuantity).toBe(0);
      await k.apply(e.shipped());
      expect((await k.order("c-state", "o-state")).lines[0]?.returnedQuantity).toBe(1);
      const twice = await k.post(e.shipped());
      expect(expectRefusal(twice, 409, "ORDER_STATE_CONFLICT").details).toMatchObject({
        currentState: "shipped",
        expectedStates: ["paid"],
        event: "shipped",
      });
      const cancelLate = await k.post(e.cancelled());
      expect(expectRefusal(cancelLate, 409, "ORDER_STATE_CONFLICT").details).toMatchObject({
        currentState: "shipped",
        expectedStates: ["placed", "paid"],
      });
      const placedAgain = await k.post({ ...e.placed(cart()), eventId: "again" });
      expectRefusal(placedAgain, 409, "ORDER_STATE_CONFLICT");
      // The refusals changed nothing: the shipment's accrual net of the returned line is pending.
      expect((await k.balance("c-state")).bonus.pending).toBe(
        (await k.order("c-state", "o-state")).accrualPoints,
      );
      await expectLedgerConsistent(h, "c-state");
    });

    it("a return more units could still ship for waits; one no shipment can cover is RETURN_EXCEEDS_SHIPPED naming the line; an unknown line is LINE_NOT_FOUND", async () => {
      const e = orderEvents("c-ret", "o-ret", () => h.clock.now());
      await k.apply(e.placed(cart()));
      await k.apply(e.paid());
      await k.apply(e.shipped([{ lineId: "b", quantity: 1 }]));
      const waits = await k.post(
        e.returned([
          { lineId: "b", quantity: 1 },
          { lineId: "c", quantity: 1 },
        ]),
      );
      expect(waits.json()).toMatchObject({
        status: "parked",
        waitingFor: "more units of order o-ret to be shipped",
      });
      const beyondOrdered = await k.post(e.returned([{ lineId: "b", quantity: 3 }]));
      expect(
        expectRefusal(beyondOrdered, 422, "RETURN_EXCEEDS_SHIPPED", "lines[0].quantity").details,
      ).toMatchObject({ lineId: "b", requested: 3, allowed: 1 });
      const unknown = await k.post(e.returned([{ lineId: "zzz", quantity: 1 }]));
      expectRefusal(unknown, 422, "LINE_NOT_FOUND", "lines[0].lineId");
      const overShip = await k.post(e.shipped([{ lineId: "c", quantity: 4 }]));
      expect(
        expectRefusal(overShip, 422, "SHIPMENT_EXCEEDS_ORDERED", "lines[0].quantity").details,
      ).toMatchObject({
        requested: 4,
        allowed: 3,
      });
      // Shipping c lets the waiting return apply; then b has one shipped unit left to return.
      await k.apply(e.shipped([{ lineId: "c", quantity: 1 }]));
      const order = await k.order("c-ret", "o-ret");
      expect(order.lines.map((l) => l.returnedQuantity)).toEqual([0, 1, 1]);
      const b2 = await k.post(e.returned([{ lineId: "b", quantity: 2 }]));
      expectRefusal(b2, 422, "RETURN_EXCEEDS_SHIPPED", "lines[0].quantity");
      const b1 = await k.post(e.returned([{ lineId: "b", quantity: 1 }]));
      expect(b1.json()).toMatchObject({ status: "parked" });
      await k.apply(e.shipped([{ lineId: "b", quantity: 1 }]));
      expect((await k.order("c-ret", "o-ret")).lines.map((l) => l.returnedQuantity)).toEqual([0, 2, 1]);
      await expectLedgerConsistent(h, "c-ret");
    });

    it("a spend beyond the balance or the cap is refused naming spend.<kind>", async () => {
      await k.credit("c-spend", "bonus", 100_000);
      const over = await k.post(placed("c-spend", "o-sp1", cart(), { spend: { bonus: 100_001 } }));
      expectRefusal(over, 422, "INSUFFICIENT_POINTS", "spend.bonus");
      // The cart is 2,600 RUB: bonus may pay 1,300.
      const cap = await k.post(placed("c-spend", "o-sp2", cart(), { spend: { bonus: 1301 } }));
      expect(expectRefusal(cap, 422, "CAP_EXCEEDED", "spend.bonus").details).toMatchObject({ limit: 1300 });
      const negative = await k.post(placed("c-spend", "o-sp3", cart(), { spend: { bonus: -5 } }));
      expectRefusal(negative, 400, "VALIDATION_FAILED", "body.spend.bonus");
      expect((await k.balance("c-spend")).bonus).toMatchObject({ available: 100_000, held: 0 });
    });

    it("in a batch, refused events do not stop the others", async () => {
      await k.credit("c-b1", "bonus", 500);
      const a = orderEvents("c-b1", "o-b1", () => h.clock.now());
      const b = orderEvents("c-b2", "o-b2", () => h.clock.now());
      const res = await k.post({
        events: [
          a.placed(cart(), { bonus: 200 }),
          { eventId: "nf", type: "paid", orderId: "o-none", customerId: "c-b1", occurredAt: at },
          a.placed(cart(), { bonus: 9999 }),
          a.paid(),
          b.placed(cart()),
          b.returned([{ lineId: "a", quantity: 1 }]),
          b.paid(),
          b.shipped(),
        ],
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { results: Outcome[]; applied: number; refused: number; parked: number };
      // The paid event of an order not placed waits; the return sent before the shipment applied
      // once the shipment came (a batch reports each event's latest answer).
      expect(body.results.map((r) => r.status)).toEqual([
        "applied",
        "parked",
        "refused",
        "applied",
        "applied",
        "applied",
        "applied",
        "applied",
      ]);
      expect(body.results.map((r) => r.error?.code ?? null)).toEqual([
        null,
        null,
        "ORDER_STATE_CONFLICT",
        null,
        null,
        null,
        null,
        null,
      ]);
      expect({ applied: body.applied, refused: body.refused, parked: body.parked }).toEqual({
        applied: 6,
        refused: 1,
        parked: 1,
      });
      expect((await k.balance("c-b1")).bonus).toMatchObject({ available: 300, held: 0 });
      expect((await k.order("c-b2", "o-b2")).state).toBe("shipped");
      await expectLedgerConsistent(h, "c-b1");
      await expectLedgerConsistent(h, "c-b2");
    });

    it("duplicate line ids inside a shipment or a return are refused with a 4xx, never a 500", async () => {
      const e = orderEvents("c-dupl", "o-dupl", () => h.clock.now());
      await k.apply(e.placed([line("books", 100_000, 3, { lineId: "a" })]));
      await k.apply(e.paid());
      const ship = await k.post(
        e.shipped([
          { lineId: "a", quantity: 2 },
          { lineId: "a", quantity: 2 },
        ]),
      );
      expect(ship.statusCode, ship.body).toBeGreaterThanOrEqual(400);
      expect(ship.statusCode, ship.body).toBeLessThan(500);
      await k.apply(e.shipped([{ lineId: "a", quantity: 1 }]));
      const ret = await k.post(
        e.returned([
          { lineId: "a", quantity: 1 },
          { lineId: "a", quantity: 1 },
        ]),
      );
      expect(ret.statusCode, ret.body).toBeGreaterThanOrEqual(400);
      expect(ret.statusCode, ret.body).toBeLessThan(500);
    });

    it("in a batch, an event with duplicate line ids does not stop the other customers' events", async () => {
      const e = orderEvents("c-dupl2", "o-dupl2", () => h.clock.now());
      await k.apply(e.placed([line("books", 100_000, 1, { lineId: "a" })]));
      await k.apply(e.paid());
      const other = orderEvents("c-dupl3", "o-dupl3", () => h.clock.now());
      const res = await k.post({
        events: [
          other.placed(cart()),
          e.shipped([
            { lineId: "a", quantity: 1 },
            { lineId: "a", quantity: 1 },
          ]),
        ],
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results.map((r: Outcome) => r.status)).toEqual(["applied", "refused"]);
    });

    it("fuzz: a valid event with one field replaced by arbitrary JSON is never answered with a 500", async () => {
      const e = orderEvents("c-fuzz", "o-fuzz", () => h.clock.now());
      await k.apply(e.placed(cart()));
      await k.apply(e.paid());
      const templates = [
        () => placed("c-fuzz", "o-fuzz-new", cart()),
        () => e.shipped([{ lineId: "b", quantity: 1 }]),
        () => e.returned([{ lineId: "b", quantity: 1 }]),
        () => e.delivered(),
      ];
      const paths = [
        ["eventId"],
        ["type"],
        ["orderId"],
        ["customerId"],
        ["occurredAt"],
        ["sequence"],
        ["lines"],
        ["lines", 0],
        ["lines", 0, "lineId"],
        ["lines", 0, "quantity"],
        ["lines", 0, "unitPriceKop"],
        ["lines", 0, "category"],
        ["spend"],
        ["spend", "bonus"],
        ["paymentMethod"],
      ] as const;
      let n = 0;
      await assertAsyncProperty(
        fc.asyncProperty(
          fc.nat(templates.length - 1),
          fc.constantFrom(...paths),
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }),
            fc.integer(),
            fc.constantFrom(-1, 0, 1, 2 ** 53, 1e300, "", "a".repeat(65), "books", "b", "x"),
          ),
          fc.boolean(),
          async (template, path, value, asBatch) => {
            n += 1;
            const event = structuredClone(templates[template]?.() ?? {}) as Record<string, unknown>;
            event.eventId = `fz${n}`;
            let target: Record<string | number, unknown> = event;
            for (const step of path.slice(0, -1)) {
              const next = target[step];
              if (typeof next !== "object" || next === null) return;
              target = next as Record<string | number, unknown>;
            }
            target[path[path.length - 1] as string | number] = value;
            const res = await k.post(asBatch ? { events: [event] } : event);
            expect(res.statusCode, res.body).toBeLessThan(500);
            if (res.statusCode >= 400) expect(Object.keys(res.json())).toEqual(["error"]);
          },
        ),
        { numRuns: 300 },
      );
      await expectLedgerConsistent(h);
    }, 120_000);
  });

  it("fuzz: a valid quote with one field replaced by arbitrary JSON is never answered with a 500", async () => {
    await k.credit("q-fuzz", "bonus", 1000);
    const paths = [
      ["customerId"],
      ["paymentMethod"],
      ["lines"],
      ["lines", 0],
      ["lines", 1, "lineId"],
      ["lines", 1, "sku"],
      ["lines", 0, "quantity"],
      ["lines", 2, "unitPriceKop"],
      ["lines", 2, "originalUnitPriceKop"],
      ["lines", 0, "category"],
      ["lines", 1, "sellerId"],
      ["orderId"],
    ] as const;
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.integer(),
          fc.constantFrom(-1, 0, 1, 2 ** 53, 1e300, 1_000_000_000_000, "", "a".repeat(65), "books", "a", "c"),
        ),
        async (path, value) => {
          const body: Record<string, unknown> = {
            customerId: "q-fuzz",
            paymentMethod: "other",
            lines: cart(),
          };
          let target: Record<string | number, unknown> = body;
          for (const step of path.slice(0, -1)) target = target[step] as Record<string | number, unknown>;
          target[path[path.length - 1] as string | number] = value;
          const res = await h.send({ method: "POST", url: "/v1/checkout/quote", key: h.keys.operator, body });
          expect(res.statusCode, res.body).toBeLessThan(500);
          if (res.statusCode >= 400) expect(Object.keys(res.json())).toEqual(["error"]);
          if (res.statusCode === 200) expect(res.json().total).toBeLessThanOrEqual(1000);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
