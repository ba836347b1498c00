/**
 * The typed Kopilka client: openapi-fetch over the types openapi-typescript generates from the
 * repository's openapi.json (`src/schema.ts`, rewritten by `npm run client`). Every path, parameter,
 * request body and response body is checked by the compiler against the spec.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";
export {
  type VerifyWebhookSignatureOptions,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookVerification,
} from "./webhooks.js";

/** The one shape of every error answer: `{ error: { code, message, details, requestId } }`. */
export type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];
/** The closed list of error codes. */
export type ErrorCode = ErrorEnvelope["error"]["code"];
export type KopilkaClient = Client<paths>;

export interface KopilkaClientOptions {
  /** The service's address, e.g. `http://localhost:3000`; the paths start with `/v1/…`. */
  baseUrl: string;
  /** An API key (`kpk_…`) or a customer token, sent as `Authorization: Bearer …`; omit it for none. */
  token?: string;
  /** Sends a request instead of the global fetch (tests answer it in process, pages may add retries). */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * A client for one credential. Every write declares the `Idempotency-Key` header as a required
 * parameter, so the compiler asks for it (`params: { header: { "idempotency-key": key } }`): the key
 * must be the same when a request is retried, so the client never makes one up.
 */
export function createKopilkaClient({ baseUrl, token, fetch }: KopilkaClientOptions): KopilkaClient {
  return createClient<paths>({
    baseUrl,
    ...(token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
    ...(fetch === undefined ? {} : { fetch }),
  });
}

/**
 * The partition of a customer's order events on JetStream (`<prefix>.<partition>`): publishers must
 * use it, with the number of partitions Kopilka is configured with (KOPILKA_NATS_ORDER_EVENTS_PARTITIONS).
 */
export { orderEventPartition, orderEventSubject } from "../../../src/infra/nats/partition.js";
