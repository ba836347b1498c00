import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { customerIds, expectError, expectSuccess, type Harness } from "./routes-table.js";

/** The typed client over injectFetch: what it sends and what it reads back are what the wire carries. */
describe("@kopilka/client through app.inject", () => {
  let h: Harness;
  const nextCustomer = customerIds("client");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const creditReview = (customerId: string, idempotencyKey: string) =>
    h.client(h.keys.operator).POST("/v1/customers/{customerId}/credits", {
      params: { path: { customerId }, header: { "idempotency-key": idempotencyKey } },
      body: { kind: "bonus", amount: 25, source: "review", funder: "marketplace", reference: "review-1" },
    });

  it("sends the bearer credential, the Idempotency-Key and the body; reads status, headers and body", async () => {
    const id = nextCustomer();
    const first = await creditReview(id, `review-1-${id}`);
    const lot = expectSuccess(first, 201);
    expect(lot).toMatchObject({ amount: 25, remaining: 25, state: "available", reference: "review-1" });
    expect(first.response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(first.response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(first.response.headers.get("idempotent-replayed")).toBeNull();

    const retry = await creditReview(id, `review-1-${id}`);
    expect(expectSuccess(retry, 201)).toEqual(lot);
    expect(retry.response.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.response.headers.get("x-request-id")).not.toBe(first.response.headers.get("x-request-id"));
  });

  it("an error answer is the envelope, typed as ErrorEnvelope", async () => {
    const id = nextCustomer();
    const answer = await h.client(h.keys.operator).POST("/v1/customers/{customerId}/spends", {
      params: { path: { customerId: id }, header: h.idempotencyKeyHeader() },
      body: { redemptionId: "order-1", kind: "bonus", amount: 1 },
    });
    expect(answer.data).toBeUndefined();
    expect(answer.error?.error.code).toBe("INSUFFICIENT_POINTS");
    expectError(answer, "INSUFFICIENT_POINTS");
  });

  it("without a credential the service answers 401 UNAUTHENTICATED", async () => {
    const answer = await h.client().GET("/v1/customers/{customerId}/balance", {
      params: { path: { customerId: nextCustomer() } },
    });
    expectError(answer, "UNAUTHENTICATED");
  });
});
