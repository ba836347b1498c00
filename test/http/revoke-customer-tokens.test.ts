import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresCustomerTokenRevocations } from "../../src/infra/customer-token-revocations.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { httpHarness } from "../support/http.js";
import { customerIds, expectError, type Harness } from "./routes-table.js";

/** Issue 8: revoking a customer's tokens refuses every token issued for them up to then (roles: security.test.ts). */
describe("POST /v1/customers/{customerId}/tokens/revoke", () => {
  let h: Harness;
  const nextCustomer = customerIds("rev");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const balance = (id: string, token: string) =>
    h.send({ method: "GET", url: `/v1/customers/${id}/balance`, key: token });
  const revoke = (id: string, idempotencyKey?: string) =>
    h.send({
      method: "POST",
      url: `/v1/customers/${id}/tokens/revoke`,
      key: h.keys.support,
      body: { reason: "customer asked to sign out everywhere" },
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  /** Token iat is in whole seconds, and a token of the revocation's own second is refused too. */
  const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));

  it("refuses the tokens issued before, accepts one issued after, and leaves other customers alone", async () => {
    const id = nextCustomer();
    const other = nextCustomer();
    const old = await h.customerToken(id);
    const othersToken = await h.customerToken(other);
    expect((await balance(id, old)).statusCode).toBe(200);

    const res = await revoke(id);
    expect(res.statusCode, res.body).toBe(200);
    const { revokedBefore } = res.json() as { revokedBefore: string };
    expect(res.json()).toEqual({ customerId: id, revokedBefore });
    expect(Date.parse(revokedBefore)).toBeLessThanOrEqual(Date.now());

    expectError(await balance(id, old), "UNAUTHENTICATED");
    expect((await balance(other, othersToken)).statusCode).toBe(200);
    await nextSecond();
    const fresh = await h.customerToken(id);
    expect((await balance(id, fresh)).statusCode).toBe(200);
  });

  it("works for a customer with no ledger yet (tokens need none) and audits who revoked and why", async () => {
    const id = nextCustomer();
    const token = await h.customerToken(id);
    expect((await revoke(id)).statusCode).toBe(200);
    expectError(await balance(id, token), "UNAUTHENTICATED");
    const audit = await sql<{ actor: string; after: { reason: string } }>`
      select actor, after from audit_log where action = 'customer_tokens.revoke' and subject = ${`customer:${id}`}`.execute(
      h.database.db,
    );
    expect(audit.rows).toEqual([
      {
        actor: expect.stringMatching(/^key_/),
        after: expect.objectContaining({ reason: expect.any(String) }),
      },
    ]);
  });

  it("a retry with the same Idempotency-Key does not move the instant: tokens issued since stay valid", async () => {
    const id = nextCustomer();
    const first = await revoke(id, "revoke-1");
    await nextSecond();
    const issuedSince = await h.customerToken(id);
    const retry = await revoke(id, "revoke-1");
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.body).toBe(first.body);
    expect((await balance(id, issuedSince)).statusCode).toBe(200);
    // A new revocation (another key) does move it.
    expect((await revoke(id, "revoke-2")).statusCode).toBe(200);
    expectError(await balance(id, issuedSince), "UNAUTHENTICATED");
  });

  it("a caller's key is for one operation; another caller's same key is another request", async () => {
    const id = nextCustomer();
    const credited = await h.send({
      method: "POST",
      url: `/v1/customers/${id}/credits`,
      key: h.keys.operator,
      body: { kind: "bonus", amount: 10, source: "purchase", funder: "marketplace" },
      idempotencyKey: "shared-key",
    });
    expect(credited.statusCode, credited.body).toBe(201);
    const reused = await h.send({
      method: "POST",
      url: `/v1/customers/${id}/tokens/revoke`,
      key: h.keys.operator,
      body: { reason: "customer asked to sign out everywhere" },
      idempotencyKey: "shared-key",
    });
    expect(expectError(reused, "IDEMPOTENCY_KEY_REUSED").details).toMatchObject({ firstUsedFor: "credit" });
    expect((await revoke(id, "shared-key")).statusCode).toBe(200);
  });

  it("another instance refuses revoked tokens once its cached answer is older than the cache time", async () => {
    const id = nextCustomer();
    const elsewhere = new PostgresCustomerTokenRevocations(h.database.db, new MonotonicIds(), 200);
    expect(await elsewhere.revokedBefore(id)).toBeUndefined();
    expect((await revoke(id)).statusCode).toBe(200);
    // Within the cache time the other instance still has "never revoked"; after it, the database decides.
    expect(await elsewhere.revokedBefore(id)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await elsewhere.revokedBefore(id)).toBeInstanceOf(Date);
  });
});
