import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import {
  customerIds,
  expectEnvelope,
  expectError,
  fieldsOf,
  type Harness,
  type RouteCase,
  rowCount,
  sendRoute,
  WRITE_ROUTES,
} from "./routes-table.js";

/** Values each body field must refuse with 400 VALIDATION_FAILED naming `body.<field>`. */
const POSITIVE_AMOUNT = ["5", -1, 0, 1.5, 1e12 + 1, null, true, [5]];
const ID = ["", "order 1", "x".repeat(65), 5, "заказ-1", null];
const INSTANT = [
  "tomorrow",
  "2026-13-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "2026-01-16T25:00:00Z",
  "2026-01-16T09:00:00", // no offset
  "2026-01-16",
  1768554000000,
  "",
];
const FINGERPRINT = ["", "a b", "x".repeat(257), 5, null];
const BAD_VALUES: Record<string, unknown[]> = {
  code: ["", "ab", "a b", "x".repeat(33), 5, null],
  registeredAt: INSTANT,
  deviceFingerprint: FINGERPRINT,
  paymentFingerprint: FINGERPRINT,
  promoCode: ["", "ab", "a b", "x".repeat(33), "код", 5, null],
  amount: POSITIVE_AMOUNT,
  kind: ["gold", "", "BONUS", 1, null],
  source: ["gift", "", "Seller", "refund"],
  funder: ["seller:", "seller:s 1", "bank", "SELLER:s-1", "seller:s-1/x", "campaign:", "", "seller:s-1\n"],
  availableFrom: INSTANT,
  expiresAt: INSTANT,
  // R28 Premium periods.
  startsAt: INSTANT,
  endsAt: INSTANT,
  reference: ["", "x".repeat(129), 5],
  holdId: ID,
  redemptionId: ID,
  timeoutSeconds: [0, 604_801, 1.5, "60", -5],
  lotId: ["lot 1", "", "x".repeat(65)],
  reason: ["", "ab", "   ", "x".repeat(501), 5],
  // R31 webhook subscriptions.
  url: [
    "",
    "ftp://files.example/hook",
    "/relative",
    "https://",
    "https://user:password@hooks.example/",
    "https://hooks.example/a b",
    `https://hooks.example/${"x".repeat(2030)}`,
    5,
    null,
  ],
  eventTypes: [[], ["points.nope"], ["points.spent", "points.spent"], "points.spent", [5], {}],
  description: ["", "   ", "x".repeat(201), 5],
  enabled: ["true", 1, {}],
  // R26 campaigns: values wrong as a whole (their parts are campaigns-api.test.ts's).
  name: [5, null, "Black Friday", []],
  conditions: [5, null, "2026-11-27", []],
  effect: [5, null, "rate_multiplier", []],
  combinable: ["true", 1, null],
  budgetPoints: [0, -1, 1.5, "100", true, 1e12 + 1],
  // R27 sellers' loyalty discounts: values wrong as a whole (their parts: test/seller-discounts).
  percentBp: [0, 9_001, -1, 1.5, "1000", null],
  condition: [5, null, "points_from_seller", []],
  // R29: a segment rule that is no rule at all (deeper mistakes are named deeper: test/segments).
  rule: [5, null, "orders30 > 1", []],
  notificationIds: [
    [],
    ["ntf_1"],
    ["mov_01KAAAAAAAAAAAAAAAAAAAAAAA"],
    "ntf_01KAAAAAAAAAAAAAAAAAAAAAAA",
    null,
    Array.from({ length: 1001 }, () => "ntf_01KAAAAAAAAAAAAAAAAAAAAAAA"),
  ],
};
const OVERRIDES: Record<string, Record<string, unknown[]>> = {
  // Adjustments take negative amounts; never zero.
  adjustPoints: { amount: ["5", 0, 1.5, 1e12 + 1, -1e12 - 1, null] },
};
/** Optional fields the valid bodies leave out, with a valid value to start from. */
const OPTIONAL: Record<string, Record<string, unknown>> = {
  createHold: { timeoutSeconds: 60 },
  clawBackPoints: { lotId: "lot_01" },
  updateWebhook: { url: "https://hooks.example/other", eventTypes: ["points.spent"], enabled: true },
};

const bodyRoutes = WRITE_ROUTES.filter((r) => r.request("x").body !== undefined);
const fieldCases = bodyRoutes.flatMap((route) => {
  const body = { ...route.request("x").body, ...OPTIONAL[route.operationId] };
  return Object.keys(body).map((field) => ({
    route,
    field,
    values: OVERRIDES[route.operationId]?.[field] ?? BAD_VALUES[field] ?? [],
  }));
});

describe("request validation", () => {
  let h: Harness;
  const nextCustomer = customerIds("val");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const send = (route: RouteCase, id: string, options: Parameters<typeof sendRoute>[3] = {}) =>
    sendRoute(h, route, id, { key: h.keys.operator, ...options });

  it("every body field has bad values to try", () => {
    for (const { route, field, values } of fieldCases) {
      expect(values.length, `${route.operationId}.${field}`).toBeGreaterThan(0);
    }
  });

  describe.each(WRITE_ROUTES)("$method $path ($operationId)", (route) => {
    it("refuses malformed JSON with 400 MALFORMED_JSON", async () => {
      for (const raw of ['{"kind": "bonus",', "{'kind': 'bonus'}", "nope", "{}}"]) {
        const res = await send(route, nextCustomer(), {
          body: raw,
          headers: { "content-type": "application/json" },
        });
        expectError(res, "MALFORMED_JSON");
      }
    });

    it("refuses an unknown field with 400 naming body.<field>", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const movements = await rowCount(h, "movements", id);
      const res = await send(route, id, { body: { ...route.request(id).body, amountt: 5 } });
      expect(fieldsOf(res)).toEqual(["body.amountt"]);
      expect(await rowCount(h, "movements", id)).toBe(movements);
    });

    it("refuses a body over the 1 MiB limit with 413 PAYLOAD_TOO_LARGE", async () => {
      const body = { ...route.request("x").body, reference: "x".repeat(1024 * 1024) };
      const res = await send(route, nextCustomer(), {
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      expectError(res, "PAYLOAD_TOO_LARGE");
    });

    it("refuses an application/xml or form body with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      for (const type of ["application/xml", "application/x-www-form-urlencoded", "multipart/form-data"]) {
        const res = await send(route, nextCustomer(), { body: "<a/>", headers: { "content-type": type } });
        expectError(res, "UNSUPPORTED_MEDIA_TYPE");
      }
    });

    if (route.required.length > 0) {
      it("refuses a JSON body that is not an object (null, array, string) with 400 naming body", async () => {
        for (const raw of ["null", "[]", '"credit"', "42"]) {
          const res = await send(route, nextCustomer(), {
            body: raw,
            headers: { "content-type": "application/json" },
          });
          expect(fieldsOf(res)).toEqual(["body"]);
        }
      });

      it.each(route.required)("refuses a body without %s with 400 naming it", async (field) => {
        const body = { ...route.request("x").body };
        delete body[field];
        const res = await send(route, nextCustomer(), { body });
        expect(fieldsOf(res)).toEqual([`body.${field}`]);
      });

      it("names every missing field at once", async () => {
        const res = await send(route, nextCustomer(), { body: {} });
        expect(fieldsOf(res).sort()).toEqual(route.required.map((f) => `body.${f}`).sort());
      });
    }
  });

  // Fastify parses text/plain by default: one root cause, so one test over every write route.
  it("refuses a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE on every write route, writing nothing", async () => {
    const answers: Record<string, string> = {};
    for (const route of WRITE_ROUTES) {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const movements = await rowCount(h, "movements", id);
      const res = await send(route, id, {
        body: JSON.stringify(route.request(id).body ?? {}),
        headers: { "content-type": "text/plain" },
      });
      const written = (await rowCount(h, "movements", id)) - movements;
      answers[route.operationId] =
        `${res.statusCode} ${res.json().error?.code ?? "(no error)"}, ${written} movements`;
    }
    expect(answers).toEqual(
      Object.fromEntries(WRITE_ROUTES.map((r) => [r.operationId, "415 UNSUPPORTED_MEDIA_TYPE, 0 movements"])),
    );
  });

  it.each(fieldCases.map((c) => [c.route.operationId, c.field, c] as const))(
    "%s refuses bad values of %s with 400 naming the field",
    async (_operation, field, { route, values }) => {
      const id = nextCustomer();
      const body = { ...route.request(id).body, ...OPTIONAL[route.operationId] };
      for (const value of values) {
        const res = await send(route, id, { body: { ...body, [field]: value } });
        expect(res.statusCode, `${field}=${JSON.stringify(value)}: ${res.body}`).toBe(400);
        // An item of an array names the field too (`body.eventTypes[1]`: the bad one).
        const named = fieldsOf(res).map((f) => f.replace(/\[\d+\]$/, ""));
        expect(new Set(named), JSON.stringify(value)).toEqual(new Set([`body.${field}`]));
      }
      expect(await rowCount(h, "movements", id)).toBe(0);
    },
  );

  describe("well-formed but inconsistent credits are business refusals (422), not 500s", () => {
    const creditBody = { kind: "bonus", amount: 10, source: "purchase", funder: "marketplace" };
    const post = (body: Record<string, unknown>) =>
      h.send({ method: "POST", url: `/v1/customers/${nextCustomer()}/credits`, key: h.keys.operator, body });

    it("expiresAt before availableFrom → 422 INVALID_DATES", async () => {
      const res = await post({
        ...creditBody,
        availableFrom: "2026-03-01T00:00:00Z",
        expiresAt: "2026-02-01T00:00:00Z",
      });
      expect(expectError(res, "INVALID_DATES").details).toEqual({
        availableFrom: "2026-03-01T00:00:00.000Z",
        expiresAt: "2026-02-01T00:00:00.000Z",
      });
    });

    it("expiresAt already past → 422 INVALID_DATES", async () => {
      expectError(await post({ ...creditBody, expiresAt: "2026-01-01T00:00:00Z" }), "INVALID_DATES");
    });

    it("savings_interest credited as bonus points → 422 SOURCE_KIND_MISMATCH (R2)", async () => {
      const res = await post({ ...creditBody, source: "savings_interest", funder: "savings_interest" });
      expect(expectError(res, "SOURCE_KIND_MISMATCH").details).toMatchObject({ expectedKind: "savings" });
    });

    it("an offset date-time is accepted and normalised to UTC", async () => {
      const res = await post({ ...creditBody, availableFrom: "2026-01-16T12:00:00+03:00" });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ state: "pending", availableFrom: "2026-01-16T09:00:00.000Z" });
    });

    it("a far-future availableFrom is refused, or answered with RFC 3339 dates (the documented format)", async () => {
      const res = await post({ ...creditBody, availableFrom: "9999-12-31T00:00:00Z" });
      expect(res.statusCode, res.body).toBeLessThan(500);
      if (res.statusCode !== 201) return void expectEnvelope(res);
      const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
      expect(res.json().availableFrom).toMatch(rfc3339);
      expect(res.json().expiresAt).toMatch(rfc3339);
    });
  });

  describe("text the database cannot store is refused, never a 500", () => {
    const creditBody = { kind: "bonus", amount: 10, source: "purchase", funder: "marketplace" };

    it.each([
      ["a NUL character", "order\u0000-1"],
      ["a lone surrogate", "order-\ud800"],
    ])("a credit reference with %s → 400, or stored as sent", async (_why, reference) => {
      const id = nextCustomer();
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/credits`,
        key: h.keys.operator,
        body: { ...creditBody, reference },
      });
      expect(res.statusCode, res.body).not.toBe(500);
      if (res.statusCode === 400) expect(fieldsOf(res)).toEqual(["body.reference"]);
      else expect(res.json().reference).toBe(reference);
    });

    it("an adjustment reason with a NUL character → 400, never a 500", async () => {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${nextCustomer()}/adjustments`,
        key: h.keys.support,
        body: { kind: "bonus", amount: 5, reason: "goodwill\u0000" },
      });
      expect(res.statusCode, res.body).not.toBe(500);
      expectEnvelope(res);
    });
  });

  describe("leap seconds (RFC 3339 allows :60, which JavaScript dates do not parse)", () => {
    const creditBody = { kind: "bonus", amount: 10, source: "purchase", funder: "marketplace" };

    it("expiresAt 2026-06-30T23:59:60Z → 400 or a lot expiring then, never a 500", async () => {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${nextCustomer()}/credits`,
        key: h.keys.operator,
        body: { ...creditBody, expiresAt: "2026-06-30T23:59:60Z" },
      });
      expect(res.statusCode, res.body).not.toBe(500);
      if (res.statusCode === 201) expect(res.json().expiresAt).toBe("2026-07-01T00:00:00.000Z");
      else expect(fieldsOf(res)).toEqual(["body.expiresAt"]);
    });

    it("availableFrom 2026-06-30T23:59:60Z → 400 or points pending until then, never available at once (R13)", async () => {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${nextCustomer()}/credits`,
        key: h.keys.operator,
        body: { ...creditBody, availableFrom: "2026-06-30T23:59:60Z" },
      });
      if (res.statusCode === 201) expect(res.json()).toMatchObject({ state: "pending" });
      else expect(fieldsOf(res)).toEqual(["body.availableFrom"]);
    });
  });

  describe("routes and URLs", () => {
    it.each([
      ["GET", "/v1/nothing-here"],
      ["GET", "/v1/customers/val-x"],
    ] as const)("%s %s → 404 NOT_FOUND in the envelope", async (method, url) => {
      const res = await h.send({ method, url, key: h.keys.operator });
      expectError(res, "NOT_FOUND");
    });

    it.each([
      ["POST", "/v1/customers/val-x/balance", "GET"],
      ["DELETE", "/v1/customers/val-x/credits", "POST"],
      ["GET", "/v1/customers/val-x/holds/h-1/capture", "POST"],
    ] as const)("%s %s (a known path) → 405 METHOD_NOT_ALLOWED, Allow: %s", async (method, url, allowed) => {
      const res = await h.send({ method, url, key: h.keys.operator });
      expectError(res, "METHOD_NOT_ALLOWED");
      expect(res.headers.allow).toContain(allowed);
    });

    it("a path with a bad percent-encoding still answers in the envelope", async () => {
      for (const url of ["/v1/customers/%ZZ/balance", "/v1/customers/%E0%A4%A/history"]) {
        const res = await h.send({ method: "GET", url, key: h.keys.operator });
        expect([400, 404], res.body).toContain(res.statusCode);
        expectEnvelope(res);
      }
    });

    it("refuses customer and hold ids outside the id alphabet with 400 naming the parameter", async () => {
      const cases: [RouteCase["method"], string, string][] = [
        ["GET", `/v1/customers/${"c".repeat(65)}/balance`, "params.customerId"],
        ["GET", "/v1/customers/a%20b/history", "params.customerId"],
        ["POST", "/v1/customers/val-x/holds/a%20b/capture", "params.holdId"],
        ["POST", `/v1/customers/val-x/holds/${"h".repeat(65)}/release`, "params.holdId"],
      ];
      for (const [method, url, field] of cases) {
        const res = await h.send({ method, url, key: h.keys.operator });
        expect(fieldsOf(res), url).toEqual([field]);
      }
    });
  });

  describe.each(bodyRoutes)("$operationId never answers 500 to arbitrary JSON bodies", (route) => {
    it("every answer is a success or an error in the envelope", async () => {
      const valid = { ...route.request("x").body, ...OPTIONAL[route.operationId] };
      const fields = [...Object.keys(valid), "extra"];
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const body = fc.oneof(
        fc.jsonValue(),
        fc
          .dictionary(
            fc.constantFrom(...fields),
            fc.oneof(fc.jsonValue(), fc.constantFrom(...Object.values(valid))),
          )
          .map((patch) => ({ ...valid, ...patch })),
        fc.subarray(Object.keys(valid)).map((keys) => Object.fromEntries(keys.map((k) => [k, valid[k]]))),
      );
      await assertAsyncProperty(
        fc.asyncProperty(body, async (b) => {
          const res = await send(route, id, {
            body: JSON.stringify(b),
            headers: { "content-type": "application/json" },
          });
          expect(res.statusCode, res.body).toBeLessThan(500);
          if (res.statusCode >= 400) expectEnvelope(res);
        }),
        { numRuns: 60 },
      );
    });
  });
});
