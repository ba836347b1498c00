import { createHash } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { AccessService, ApiRole, Principal } from "../app/access.js";
import { actorOf } from "../app/access.js";
import type { CampaignService } from "../app/campaigns/campaign-service.js";
import type { FinanceService } from "../app/finance/finance-service.js";
import type { InviteService } from "../app/invites/invite-service.js";
import type { LedgerService, WriteRequest } from "../app/ledger-service.js";
import type { ManagerService } from "../app/managers/manager-service.js";
import type { WebhookSubscriptions } from "../app/notifications/webhook-subscriptions.js";
import type { OrderService } from "../app/order-service.js";
import type { PremiumService } from "../app/premium/premium-service.js";
import type { ReviewService } from "../app/reviews/review-service.js";
import type { SavingsService } from "../app/savings/savings-service.js";
import type { SegmentService } from "../app/segments/segment-service.js";
import type { SellerDiscountService } from "../app/seller-discounts/seller-discount-service.js";
import { ApiError, type ErrorBody, type ErrorCode, isErrorCode, statusOf } from "./errors.js";

export type App = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  import("fastify").FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What routes may call: the use cases, nothing else. */
export interface RouteDeps {
  ledger: LedgerService;
  orders: OrderService;
  access: AccessService;
  savings: SavingsService;
  reviews: ReviewService;
  invites: InviteService;
  managers: ManagerService;
  /** R28: Premium subscription periods. */
  premium: PremiumService;
  /** R31: webhook subscriptions. */
  webhooks: WebhookSubscriptions;
  /** R26: campaign definitions. */
  campaigns: CampaignService;
  /** R27: sellers' loyalty discounts. */
  sellerDiscounts: SellerDiscountService;
  /** R29: segments over the customers' statistics. */
  segments: SegmentService;
  /** Liability, breakage, statements and the reconciliation (R32). */
  finance: FinanceService;
}

/**
 * Who may call a route. `customerSelf`: a customer token may call it for its own customer id.
 * Routes without access config are public (health, docs).
 */
export interface RouteAccess {
  roles: readonly ApiRole[];
  customerSelf?: boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error("route without access config asked for a principal");
  return request.principal;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,255}$/;

/** The `Idempotency-Key` header every write route declares (and `writeRequestOf` reads). */
export const IdempotencyKeyHeaders = Type.Object({
  "idempotency-key": Type.String({
    pattern: IDEMPOTENCY_KEY.source,
    description:
      "Required on every write: 1-255 of A-Z a-z 0-9 _ . : -. A retry with the same key and body replays the stored answer (refusals too); another body is 409 IDEMPOTENCY_CONFLICT, another operation 409 IDEMPOTENCY_KEY_REUSED. Keys are the caller's own and kept KOPILKA_IDEMPOTENCY_RETENTION_HOURS.",
  }),
});

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** A hash of a value that ignores key order: what makes "the same request" recognisable. */
export function fingerprintOf(value: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex");
}

/** The Idempotency-Key and a fingerprint of everything the request says, for the ledger's replay check. */
export function writeRequestOf(request: FastifyRequest): WriteRequest {
  const key = request.headers["idempotency-key"];
  if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      "VALIDATION_FAILED",
      key === undefined
        ? "the Idempotency-Key header is required on every write"
        : "the Idempotency-Key header must be 1-255 characters of A-Z a-z 0-9 _ . : -",
      {
        fields: [
          { field: "headers.idempotency-key", message: key === undefined ? "required" : "invalid format" },
        ],
      },
    );
  }
  const fingerprint = fingerprintOf({
    method: request.method,
    url: request.url.split("?")[0],
    body: request.body,
  });
  return { idempotencyKey: key, fingerprint, requestId: request.id, actor: actorOf(principalOf(request)) };
}

export function errorBody(code: ErrorCode, message: string, details: unknown, requestId: string): ErrorBody {
  return { error: { code, message, details, requestId } };
}

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  details: unknown,
  requestId: string,
) {
  return reply.code(statusOf(code)).send(errorBody(code, message, details, requestId));
}

/** Maps a use case's answer to HTTP: the value with `status`, or the refusal in the error envelope. */
export function sendOutcome<T>(
  reply: FastifyReply,
  result: ({ ok: true; value: T } | { ok: false; code: string; message: string; details: unknown }) & {
    replayed?: boolean;
    requestId?: string;
  },
  status: number,
) {
  if (result.replayed) reply.header("idempotent-replayed", "true");
  if (result.ok) return reply.code(status).send(result.value);
  const code = isErrorCode(result.code) ? result.code : "INTERNAL";
  return sendError(reply, code, result.message, result.details, result.requestId ?? reply.request.id);
}

/**
 * The error responses a route can give, for the OpenAPI document: those of every authenticated
 * route — the request (400, 413, 415), the credentials (401, 403), the service (500, 503) — and
 * the route's own.
 */
export function errorResponses(...statuses: number[]) {
  const set = new Set([400, 401, 403, 413, 415, 500, 503, ...statuses]);
  return Object.fromEntries([...set].sort().map((s) => [s, { $ref: "ErrorEnvelope#" }]));
}

/** For routes that take no body: anything sent is refused, naming each field, rather than ignored. */
export async function refuseBody(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  const fields =
    typeof body === "object" && !Array.isArray(body)
      ? Object.keys(body).map((k) => ({
          field: `body.${k}`,
          message: "is not a known field: this route takes no body",
        }))
      : [{ field: "body", message: "this route takes no body" }];
  if (fields.length === 0) return;
  throw new ApiError("VALIDATION_FAILED", `${fields[0]?.field} ${fields[0]?.message}`, { fields });
}

/** A listing's `after` that is not a cursor it gave: refused naming the parameter. */
export function sendForeignCursor(reply: FastifyReply) {
  return sendError(
    reply,
    "VALIDATION_FAILED",
    "query.after is not a cursor this listing gave",
    { fields: [{ field: "query.after", message: "is not a cursor this listing gave" }] },
    reply.request.id,
  );
}
