import { createKopilkaClient } from "@kopilka/client";
import type { LightMyRequestResponse } from "fastify";
import { loadConfig } from "../../src/config.js";
import { createKopilka } from "../../src/main.js";
import { FakeClock } from "./clock.js";
import { freshDatabase } from "./database.js";
import { injectFetch } from "./inject-fetch.js";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123";

/**
 * The whole service (composition root) on a fresh database with a fake clock and no scheduler, and a
 * credential for every role: `keys.operator`, `keys.support`, `keys.readonly`, `keys.seller` (seller s-1),
 * `keys.otherSeller` (s-2), and `customerToken(id)`. Requests go through `send` (raw, for malformed ones)
 * or `client(credential)`, the typed client. A `database` given is migrated and used instead.
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
  const answerInProcess = injectFetch(app);
  let counter = 0;
  const nextIdempotencyKey = () => {
    counter += 1;
    return `test-${counter}`;
  };
  /** Sends a request; `key` is an API key or token (omit for none); writes get a fresh Idempotency-Key unless given (null: none). */
  const send = async (options: {
    method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
    url: string;
    key?: string;
    body?: unknown;
    idempotencyKey?: string | null;
    headers?: Record<string, string>;
  }): Promise<LightMyRequestResponse> => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.method !== "GET" && options.idempotencyKey !== null) {
      headers["idempotency-key"] = options.idempotencyKey ?? nextIdempotencyKey();
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
    /** The typed client (@kopilka/client) for an API key or token (omit for none), answered by `app.inject`. */
    client: (credential?: string) =>
      createKopilkaClient({ baseUrl: "http://kopilka.test", token: credential, fetch: answerInProcess }),
    /** A fresh `Idempotency-Key` header for a write through `client`, which never makes one up. */
    idempotencyKeyHeader: () => ({ "idempotency-key": nextIdempotencyKey() }),
    customerToken: (customerId: string) => kopilka.access.issueCustomerToken(customerId, 3600),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
