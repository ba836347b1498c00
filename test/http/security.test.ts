import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness, TEST_JWT_SECRET } from "../support/http.js";
import {
  customerIds,
  expectError,
  type Harness,
  keyOf,
  READ_ROUTES,
  ROLES,
  ROUTES,
  rowCount,
  sendRoute,
  WRITE_ROUTES,
} from "./routes-table.js";

/** Cross-cutting: who may call what, for every route (rules: API keys per role, customer tokens, R11). */
describe("security", () => {
  let h: Harness;
  const nextCustomer = customerIds("sec");
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const token = (build: (jwt: SignJWT) => SignJWT, key: Uint8Array = secret) =>
    build(new SignJWT({}).setProtectedHeader({ alg: "HS256" })).sign(key);
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  /** Credentials that must never authenticate, with why. */
  let invalid: [string, string][];

  beforeAll(async () => {
    h = await httpHarness();
    invalid = [
      ["garbage", "not-a-token"],
      ["an unknown API key", "kpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
      ["an API key with one character changed", `${h.keys.operator.slice(0, -1)}x`],
      [
        "an expired customer token",
        await token((t) =>
          t
            .setSubject("sec-any")
            .setAudience("kopilka:customer")
            .setIssuedAt(nowSeconds() - 120)
            .setExpirationTime(nowSeconds() - 60),
        ),
      ],
      [
        "a customer token signed with another secret",
        await token(
          (t) =>
            t.setSubject("sec-any").setAudience("kopilka:customer").setIssuedAt().setExpirationTime("1h"),
          new TextEncoder().encode("another-secret-another-secret-another-1"),
        ),
      ],
      [
        "a customer token for another audience",
        await token((t) =>
          t.setSubject("sec-any").setAudience("someone-else").setIssuedAt().setExpirationTime("1h"),
        ),
      ],
      [
        "a customer token without a subject",
        await token((t) => t.setAudience("kopilka:customer").setIssuedAt().setExpirationTime("1h")),
      ],
      [
        "a customer token without exp",
        await token((t) => t.setSubject("sec-any").setAudience("kopilka:customer").setIssuedAt()),
      ],
      [
        "a customer token without iat",
        await token((t) => t.setSubject("sec-any").setAudience("kopilka:customer").setExpirationTime("1h")),
      ],
      [
        "a customer token living longer than KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS (exp − iat)",
        await token((t) =>
          t
            .setSubject("sec-any")
            .setAudience("kopilka:customer")
            .setIssuedAt(nowSeconds() - 60)
            .setExpirationTime(nowSeconds() - 60 + 86_401),
        ),
      ],
      [
        "a customer token issued in the future",
        await token((t) =>
          t
            .setSubject("sec-any")
            .setAudience("kopilka:customer")
            .setIssuedAt(nowSeconds() + 3600)
            .setExpirationTime(nowSeconds() + 7200),
        ),
      ],
      [
        "a customer token whose subject is no customer id (a NUL in it)",
        await token((t) =>
          t.setSubject("sec-\u0000").setAudience("kopilka:customer").setIssuedAt().setExpirationTime("1h"),
        ),
      ],
      [
        "an unsigned (alg: none) customer token",
        `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "sec-any", aud: "kopilka:customer", iat: nowSeconds(), exp: nowSeconds() + 3600 })}.`,
      ],
    ];
  });
  afterAll(async () => {
    await h.close();
  });

  describe.each(ROUTES)("$method $path ($operationId)", (route) => {
    it("refuses a request without Authorization with 401 UNAUTHENTICATED", async () => {
      const id = nextCustomer();
      const res = await sendRoute(h, route, id);
      expectError(res, "UNAUTHENTICATED");
      expect(await rowCount(h, "movements", id)).toBe(0);
    });

    it("refuses other schemes and an empty bearer with 401", async () => {
      for (const authorization of ["Basic b3BlcmF0b3I6c2VjcmV0", "Bearer ", "Bearer", h.keys.operator]) {
        const res = await sendRoute(h, route, nextCustomer(), { headers: { authorization } });
        expectError(res, "UNAUTHENTICATED");
      }
    });

    it("refuses every invalid, expired or wrongly signed credential with 401", async () => {
      for (const [why, credential] of invalid) {
        const res = await sendRoute(h, route, "sec-any", { key: credential });
        expect(res.statusCode, why).toBe(401);
        expectError(res, "UNAUTHENTICATED");
      }
    });

    it("refuses a revoked API key with 401", async () => {
      const { keyId, secret: revoked } = await h.kopilka.access.createKey({
        name: "revoked",
        role: "operator",
        sellerId: null,
      });
      await h.database.db
        .updateTable("api_keys")
        .set({ revoked_at: new Date() })
        .where("key_id", "=", keyId)
        .execute();
      expectError(await sendRoute(h, route, nextCustomer(), { key: revoked }), "UNAUTHENTICATED");
    });

    const refused = ROLES.filter((role) => !route.roles.includes(role));
    // Every route refuses at least one role (checked below), so the table is never empty.
    it.each(refused)("refuses the %s role with 403 FORBIDDEN", async (role) => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const before = await rowCount(h, "movements", id);
      const error = expectError(await sendRoute(h, route, id, { key: keyOf(h, role) }), "FORBIDDEN");
      expect(error.details).toEqual({ allowedRoles: route.roles });
      expect(await rowCount(h, "movements", id)).toBe(before);
    });

    it.each(route.roles)("lets the %s role call it", async (role) => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const res = await sendRoute(h, route, id, { key: keyOf(h, role) });
      expect(res.statusCode, res.body).toBe(route.success);
    });

    it("refuses a customer token for another customer with 403", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const res = await sendRoute(h, route, id, { key: await h.customerToken(`${id}-other`) });
      expectError(res, "FORBIDDEN");
    });

    if (route.customerSelf) {
      it("answers the customer's own token as it answers an operator", async () => {
        const id = nextCustomer();
        await route.prepare?.(h, id);
        const res = await sendRoute(h, route, id, { key: await h.customerToken(id) });
        expect(res.statusCode, res.body).toBe(route.success);
      });
    } else {
      it("refuses the customer's own token with 403 (customers never write)", async () => {
        const id = nextCustomer();
        await route.prepare?.(h, id);
        const before = await rowCount(h, "movements", id);
        expectError(await sendRoute(h, route, id, { key: await h.customerToken(id) }), "FORBIDDEN");
        expect(await rowCount(h, "movements", id)).toBe(before);
      });
    }
  });

  // Other route families (orders, checkout, config, sellers, the savings account under
  // /v1/customers/{id}/savings: test/savings) have their own suites; this one owns the routes under
  // /v1/customers (the customer's ledger and tokens), /v1/webhooks (R31 subscriptions),
  // /v1/campaigns (R26), /v1/sellers/{id}/loyalty-discounts (R27) and /v1/finance (issue 12).
  it("the table covers every customer operation the server documents, with the same method and path", async () => {
    const doc = (await h.send({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(
          ([, op]) =>
            (path.startsWith("/v1/customers/") ||
              path.startsWith("/v1/webhooks") ||
              path.startsWith("/v1/campaigns") ||
              path.startsWith("/v1/segments") ||
              path.includes("/loyalty-discounts") ||
              path.startsWith("/v1/finance/")) &&
            // R25's routes have their roles checked in test/savings; a revocation (DELETE, no body)
            // has no other request for the table's conflict case: test/managers checks its roles.
            !path.includes("/savings") &&
            op.operationId !== "revokeManager" &&
            op.security !== undefined,
        )
        .map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort());
    expect(WRITE_ROUTES.length + READ_ROUTES.length).toBe(48);
    // Every route refuses someone: a role, or (campaign reads, open to every key) customer tokens.
    for (const route of ROUTES)
      expect(
        ROLES.filter((r) => !route.roles.includes(r)).length + (route.customerSelf ? 0 : 1),
      ).toBeGreaterThan(0);
  });

  describe("seller keys (R11): only seller points they fund themselves", () => {
    const sellerCredit = (funder: string, source: string) => ({
      kind: "bonus",
      amount: 30,
      source,
      funder,
    });

    it("credits its own seller:s-1 points with source seller (201)", async () => {
      const id = nextCustomer();
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/credits`,
        key: h.keys.seller,
        body: sellerCredit("seller:s-1", "seller"),
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ funder: "seller:s-1", source: "seller", amount: 30 });
      const history = await h.send({
        method: "GET",
        url: `/v1/customers/${id}/history`,
        key: h.keys.operator,
      });
      expect(history.json().items[0].postings).toContainEqual({ account: "funder:seller:s-1", amount: -30 });
    });

    it.each([
      ["another seller's funder", "seller:s-2", "seller"],
      ["a funder whose id only starts like its own", "seller:s-10", "seller"],
      ["the marketplace budget", "marketplace", "seller"],
      ["a campaign", "campaign:s-1", "seller"],
      ["its own funder with a non-seller source (purchase)", "seller:s-1", "purchase"],
      ["its own funder with a non-seller source (campaign)", "seller:s-1", "campaign"],
    ])("refuses %s with 403 and writes nothing", async (_why, funder, source) => {
      const id = nextCustomer();
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/credits`,
        key: h.keys.seller,
        body: sellerCredit(funder, source),
      });
      expectError(res, "FORBIDDEN");
      expect(await rowCount(h, "movements", id)).toBe(0);
      expect(await rowCount(h, "idempotency", id)).toBe(0);
    });

    it("refuses seller s-2 crediting points funded by seller s-1", async () => {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${nextCustomer()}/credits`,
        key: h.keys.otherSeller,
        body: sellerCredit("seller:s-1", "seller"),
      });
      expectError(res, "FORBIDDEN");
    });

    // R2: seller-funded points are `bonus` points; savings (R17, 99% cap) and referral (R18) points are
    // not something a seller can hand out.
    it.each(["savings", "referral"])("refuses a seller key crediting %s points", async (kind) => {
      const id = nextCustomer();
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/credits`,
        key: h.keys.seller,
        body: { ...sellerCredit("seller:s-1", "seller"), kind },
      });
      expect([403, 422], res.body).toContain(res.statusCode);
      expect(await rowCount(h, "movements", id)).toBe(0);
    });
  });

  describe("public endpoints", () => {
    it.each(["/health", "/ready", "/openapi.json", "/docs"])(
      "%s answers 200 without credentials",
      async (url) => {
        const res = await h.send({ method: "GET", url });
        expect(res.statusCode).toBe(200);
      },
    );

    it.each(["/health", "/ready", "/openapi.json", "/docs"])(
      "%s ignores a bad Authorization header",
      async (url) => {
        const res = await h.send({ method: "GET", url, key: "garbage" });
        expect(res.statusCode).toBe(200);
      },
    );

    it("/health and /ready say ok", async () => {
      expect((await h.send({ method: "GET", url: "/health" })).json()).toEqual({ status: "ok" });
      expect((await h.send({ method: "GET", url: "/ready" })).json()).toEqual({ status: "ok" });
    });
  });

  it("a customer token never reads another customer through a lookalike id", async () => {
    const own = await h.customerToken("sec-alice");
    for (const url of [
      "/v1/customers/sec-alice2/balance",
      "/v1/customers/SEC-ALICE/balance",
      "/v1/customers/sec-alic/history",
    ]) {
      expectError(await h.send({ method: "GET", url, key: own }), "FORBIDDEN");
    }
  });
});

describe("the edge: methods, long path ids, request ids (issue 8.10)", () => {
  let h: Awaited<ReturnType<typeof httpHarness>>;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("a known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow", async () => {
    const res = await h.send({ method: "DELETE", url: "/v1/customers/c-1/balance", key: h.keys.operator });
    expect(res.statusCode).toBe(405);
    expect(res.json().error).toMatchObject({
      code: "METHOD_NOT_ALLOWED",
      details: { allowedMethods: expect.arrayContaining(["GET"]) },
    });
    expect(res.headers.allow).toContain("GET");
    const unknown = await h.send({ method: "GET", url: "/v1/nowhere", key: h.keys.operator });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
  });

  it("a path id longer than the limit is refused naming the field, without repeating the URL", async () => {
    const long = "x".repeat(5000);
    const res = await h.send({ method: "GET", url: `/v1/customers/${long}/balance`, key: h.keys.operator });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.details.fields[0].field).toBe("params.customerId");
    expect(res.body.length).toBeLessThan(1000);
    const noRoute = await h.send({ method: "GET", url: `/v1/${long}`, key: h.keys.operator });
    expect(noRoute.statusCode).toBe(404);
    expect(noRoute.body.length).toBeLessThan(1000);
  });

  it("keeps a well-formed incoming X-Request-Id and replaces one that is not", async () => {
    const kept = await h.send({
      method: "GET",
      url: "/v1/customers/c-1/balance",
      key: h.keys.operator,
      headers: { "x-request-id": "gateway-7f3a:42" },
    });
    expect(kept.headers["x-request-id"]).toBe("gateway-7f3a:42");
    const refused = await h.send({
      method: "GET",
      url: "/v1/customers/c-1/balance",
      headers: { "x-request-id": "gateway-7f3a:43" },
    });
    expect(refused.json().error.requestId).toBe("gateway-7f3a:43");
    for (const bad of ["has spaces", "x".repeat(129), "semi;colon"]) {
      const res = await h.send({ method: "GET", url: "/health", headers: { "x-request-id": bad } });
      expect(res.headers["x-request-id"]).toMatch(/^req_/);
    }
  });
});
