import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresApiKeyStore } from "../../src/infra/api-key-store.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { freshDatabase, ON_POSTGRES } from "../support/database.js";
import { TEST_JWT_SECRET } from "../support/http.js";
import { proxyTo, type silentProxy } from "../support/silent-proxy.js";

/**
 * Issue 8.2: `kopilka serve` on SIGTERM. /ready turns 503 first while requests are still served,
 * a request in flight finishes with its answer, then the process exits 0; the whole shutdown is
 * bounded; a second signal exits at once. The database sits behind a proxy that can make it slow
 * or silent, so a request is reliably in flight when the signal comes.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!ON_POSTGRES)("graceful shutdown of kopilka serve", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let proxy: Awaited<ReturnType<typeof silentProxy>>;
  let proxiedUrl: string;
  let operator: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase();
    ({ proxy, url: proxiedUrl } = await proxyTo(database.url as string));
    operator = (
      await new PostgresApiKeyStore(database.db, new MonotonicIds()).create({
        name: "shutdown test",
        role: "operator",
        sellerId: null,
      })
    ).secret;
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await proxy?.close();
    await database?.drop();
  });

  async function serve(env: Record<string, string>) {
    const port = await freePort();
    const child = spawn("node", ["bin/kopilka.js", "serve"], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        KOPILKA_DATABASE_URL: proxiedUrl,
        KOPILKA_JWT_SECRET: TEST_JWT_SECRET,
        KOPILKA_LOG_LEVEL: "silent",
        KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
        ...env,
      },
      stdio: "ignore",
    });
    children.push(child);
    const exited = once(child, "exit").then(([code]) => ({
      code: code as number | null,
      at: performance.now(),
    }));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error("kopilka serve did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, base, exited };
  }

  const credit = (base: string, key: string) =>
    fetch(`${base}/v1/customers/c-shutdown/credits`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${operator}`,
        "idempotency-key": key,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        kind: "bonus",
        amount: 25,
        source: "purchase",
        funder: "marketplace",
        reference: key,
      }),
    });

  it("turns /ready 503 first, lets the request in flight finish, then exits 0", async () => {
    const { child, base, exited } = await serve({ KOPILKA_SHUTDOWN_DELAY_MS: "1500" });
    proxy.slow(300);
    const inFlight = credit(base, "in-flight").then(async (r) => ({
      status: r.status,
      body: await r.json(),
      at: performance.now(),
    }));
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).error).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: expect.stringContaining("shutting down"),
    });
    expect((await fetch(`${base}/health`)).status).toBe(200);

    const answered = await inFlight;
    expect(answered.status, JSON.stringify(answered.body)).toBe(201);
    const exit = await exited;
    expect(exit.code).toBe(0);
    expect(exit.at).toBeGreaterThanOrEqual(answered.at);
    proxy.speak();
    const lots = await database.db
      .selectFrom("lots")
      .select("amount")
      .where("customer_id", "=", "c-shutdown")
      .execute();
    expect(lots.map((l) => Number(l.amount))).toEqual([25]);
  });

  it("exits anyway, with code 1, when the shutdown outlasts KOPILKA_SHUTDOWN_GRACE_MS", async () => {
    const { child, base, exited } = await serve({
      KOPILKA_SHUTDOWN_DELAY_MS: "0",
      KOPILKA_SHUTDOWN_GRACE_MS: "1000",
      KOPILKA_DATABASE_TIMEOUT_MS: "60000",
    });
    proxy.silence();
    const stuck = credit(base, "stuck").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const signalled = performance.now();
    child.kill("SIGTERM");
    const exit = await exited;
    proxy.speak();
    await stuck;
    expect(exit.code).toBe(1);
    expect(exit.at - signalled).toBeGreaterThanOrEqual(900);
    expect(exit.at - signalled).toBeLessThan(3000);
  });

  it("exits at once on a second signal", async () => {
    const { child, exited } = await serve({ KOPILKA_SHUTDOWN_DELAY_MS: "20000" });
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const signalled = performance.now();
    child.kill("SIGTERM");
    const exit = await exited;
    expect(exit.code).toBe(1);
    expect(exit.at - signalled).toBeLessThan(1000);
  });
});
