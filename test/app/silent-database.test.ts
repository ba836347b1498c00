import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createKopilka, type Kopilka } from "../../src/main.js";
import { FakeClock } from "../support/clock.js";
import { freshDatabase, ON_POSTGRES } from "../support/database.js";
import { TEST_JWT_SECRET } from "../support/http.js";
import { proxyTo, type silentProxy } from "../support/silent-proxy.js";

/**
 * Issue 8.1: a database that accepts connections and never answers. Every request that needs it
 * answers 503 SERVICE_UNAVAILABLE in the envelope within the bound (KOPILKA_DATABASE_TIMEOUT_MS, here
 * 1 s), /ready turns 503, /health stays up, and once the database answers again the service recovers
 * by itself: the refused writes, retried with their keys, apply exactly once.
 */
const BOUND_MS = 1000;
/** What a request may take beyond the bound: the event loop and the proxy, not another bound. */
const SLACK_MS = 600;

describe.skipIf(!ON_POSTGRES)("a silent database (PostgreSQL behind a black-holing proxy)", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let proxy: Awaited<ReturnType<typeof silentProxy>>;
  let kopilka: Kopilka;
  let app: Awaited<ReturnType<Kopilka["buildServer"]>>;
  let operator: string;

  beforeAll(async () => {
    database = await freshDatabase();
    const proxied = await proxyTo(database.url as string);
    proxy = proxied.proxy;
    kopilka = await createKopilka(
      loadConfig({
        KOPILKA_DATABASE_URL: proxied.url,
        KOPILKA_DATABASE_TIMEOUT_MS: String(BOUND_MS),
        KOPILKA_JWT_SECRET: TEST_JWT_SECRET,
        KOPILKA_LOG_LEVEL: "silent",
        KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
      }),
      { clock: new FakeClock() },
    );
    app = await kopilka.buildServer();
    operator = (await kopilka.access.createKey({ name: "silent test", role: "operator", sellerId: null }))
      .secret;
  });

  afterAll(async () => {
    proxy.speak();
    await app?.close();
    await kopilka?.close();
    await proxy?.close();
    await database?.drop();
  });

  const credit = (customerId: string, key: string) =>
    app.inject({
      method: "POST",
      url: `/v1/customers/${customerId}/credits`,
      headers: { authorization: `Bearer ${operator}`, "idempotency-key": key },
      payload: { kind: "bonus", amount: 100, source: "purchase", funder: "marketplace", reference: key },
    });
  const balance = (customerId: string) =>
    app.inject({
      method: "GET",
      url: `/v1/customers/${customerId}/balance`,
      headers: { authorization: `Bearer ${operator}` },
    });
  const timed = async <T>(request: Promise<T>) => {
    const started = performance.now();
    const response = await request;
    return { response, ms: performance.now() - started };
  };

  it("answers 503 within the bound while silent, and recovers by itself; refused writes apply once on retry", async () => {
    expect((await credit("c-1", "before")).statusCode).toBe(201);

    proxy.silence();
    // Rounds one after the other: waits must not pile up behind the connections that hung before.
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all([
        timed(credit("c-1", `during-${round}-a`)),
        timed(credit("c-2", `during-${round}-b`)),
        timed(credit("c-3", `during-${round}-c`)),
        timed(balance("c-1")),
        timed(app.inject({ method: "GET", url: "/ready" })),
      ]);
      for (const { response, ms } of answers) {
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json().error).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          requestId: expect.any(String),
        });
        expect(
          ms,
          `${round}: ${response.body} ${answers.map((a) => Math.round(a.ms)).join(",")}`,
        ).toBeLessThan(BOUND_MS + SLACK_MS);
      }
    }
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);

    proxy.speak();
    const deadline = performance.now() + 15_000;
    let ready = 0;
    while (performance.now() < deadline) {
      ready = (await app.inject({ method: "GET", url: "/ready" })).statusCode;
      if (ready === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);

    for (let round = 0; round < 3; round++) {
      for (const [customer, suffix] of [
        ["c-1", "a"],
        ["c-2", "b"],
        ["c-3", "c"],
      ] as const) {
        const first = await credit(customer, `during-${round}-${suffix}`);
        expect(first.statusCode, first.body).toBe(201);
        expect(first.headers["idempotent-replayed"]).toBeUndefined();
        const again = await credit(customer, `during-${round}-${suffix}`);
        expect(again.statusCode).toBe(201);
        expect(again.headers["idempotent-replayed"]).toBe("true");
      }
    }
    const points = async (customerId: string) => {
      const { available, pending } = (await balance(customerId)).json().kinds.bonus;
      return available + pending;
    };
    expect(await points("c-1")).toBe(400);
    expect(await points("c-2")).toBe(300);
  });

  it("a statement that outlasts the bound inside a transaction (a row lock held elsewhere) is 503, not 500", async () => {
    expect((await credit("c-locked", "lock-before")).statusCode).toBe(201);
    const holder = await database.pool.connect();
    try {
      await holder.query("begin");
      await holder.query("select * from customers where customer_id = 'c-locked' for update");
      const { response, ms } = await timed(credit("c-locked", "lock-during"));
      expect(response.statusCode, response.body).toBe(503);
      expect(response.json().error.code).toBe("SERVICE_UNAVAILABLE");
      expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
    } finally {
      await holder.query("rollback");
      holder.release();
    }
    expect((await credit("c-locked", "lock-during")).statusCode).toBe(201);
  });

  it("a migration is not held to the bound: an instance waiting for another's migration lock starts", async () => {
    const holder = await database.pool.connect();
    try {
      await holder.query("select pg_advisory_lock(7281144001)");
      const starting = createKopilka(
        loadConfig({
          KOPILKA_DATABASE_URL: database.url as string,
          KOPILKA_DATABASE_TIMEOUT_MS: String(BOUND_MS),
          KOPILKA_JWT_SECRET: TEST_JWT_SECRET,
          KOPILKA_LOG_LEVEL: "silent",
          KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
        }),
      );
      await new Promise((r) => setTimeout(r, BOUND_MS * 2));
      await holder.query("select pg_advisory_unlock(7281144001)");
      const second = await starting;
      await second.close();
    } finally {
      holder.release();
    }
  });
});
