import type { LightMyRequestResponse } from "fastify";
import { loadConfig } from "../../src/config.js";
import { createKopilka } from "../../src/main.js";
import { FakeClock } from "./clock.js";
import { freshDatabase } from "./database.js";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123";

/**
 * The whole service (composition root) on a fresh database with a fake clock and no scheduler, and a
 * credential for every role: `keys.operator`, `keys.support`, `keys.readonly`, `keys.seller` (seller s-1),
 * `keys.otherSeller` (s-2), and `customerToken(id)`. A `database` given is migrated and used instead.
 */
export async function httpHarness(
  env: Record<string, string> = {},
  given?: Awaited<ReturnType<typeof freshDatabase>>,
) {
  const database = given ?? (await freshDatabase());
  const clock = new FakeClock();
  const config = loadConfig({
    KOPILKA_JWT_SECRET: TEST_JWT_SECRET,
    KOPILKA_LOG_LEVEL: "silent",
    KOPILKA_BODY_LIMIT_BYTES: String(1024 * 1024),
    ...env,
  });
  const kopilka = await createKopilka(config, { clock, database });
  const app = await kopilka.buildServer();
  const key = async (role: "operator" | "support" | "readonly" | "seller", sellerId: string | null = null) =>
    (await kopilka.access.createKey({ name: `test ${role}`, role, sellerId })).secret;
  const keys = {
    operator: await key("operator"),
    support: await key("support"),
    readonly: await key("readonly"),
    seller: await key("seller", "s-1"),
    otherSeller: await key("seller", "s-2"),
  };
  let counter = 0;
  /** Sends a request; `key` is an API key or token (omit for none); writes get a fresh Idempotency-Key unless given (null: none). */
  const send = async (options: {
    method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
    url: string;
    key?: string;
    body?: unknown;
    idempotencyKey?: string | null;
    headers?: Record<string, string>;
  }): Promise<LightMyRequestResponse> => {
    counter += 1;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.method !== "GET" && options.idempotencyKey !== null) {
      headers["idempotency-key"] = options.idempotencyKey ?? `test-${counter}`;
    }
    return app.inject({
      method: options.method,
      url: options.url,
      headers,
      ...(options.body === undefined ? {} : { payload: options.body as string | object }),
    });
  };
  return {
    app,
    kopilka,
    database,
    clock,
    ledger: kopilka.ledger,
    keys,
    send,
    customerToken: (customerId: string) => kopilka.access.issueCustomerToken(customerId, 3600),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
