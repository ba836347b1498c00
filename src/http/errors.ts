import { Type } from "typebox";
import { CAMPAIGN_REFUSAL_CODES } from "../app/campaigns/campaign-service.js";
import { FINANCE_REFUSAL_CODES } from "../app/finance/finance-service.js";
import { WEBHOOK_REFUSAL_CODES } from "../app/notifications/webhook-subscriptions.js";
import { SEGMENT_REFUSAL_CODES } from "../app/segments/segment-service.js";
import { SELLER_DISCOUNT_REFUSAL_CODES } from "../app/seller-discounts/seller-discount-service.js";
import { INVITE_REFUSAL_CODES } from "../domain/invites/index.js";
import { LEDGER_REFUSAL_CODES } from "../domain/ledger/index.js";
import { MANAGER_REFUSAL_CODES } from "../domain/managers/index.js";
import { ORDER_REFUSAL_CODES } from "../domain/orders/index.js";
import { REVIEW_REFUSAL_CODES } from "../domain/reviews/index.js";
import { SAVINGS_REFUSAL_CODES } from "../domain/savings/index.js";

/** Errors of the edge itself: the request, the credentials, the service. */
const EDGE_CODES = [
  "VALIDATION_FAILED",
  "MALFORMED_JSON",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "IDEMPOTENCY_CONFLICT",
  "IDEMPOTENCY_KEY_REUSED",
  "SERVICE_UNAVAILABLE",
  "INTERNAL",
] as const;

/** The closed list of error codes any response can carry: the edge's and the domain's refusals. */
export const ERROR_CODES = [
  ...EDGE_CODES,
  ...LEDGER_REFUSAL_CODES,
  ...ORDER_REFUSAL_CODES,
  ...SAVINGS_REFUSAL_CODES,
  ...REVIEW_REFUSAL_CODES,
  ...INVITE_REFUSAL_CODES,
  ...MANAGER_REFUSAL_CODES,
  ...WEBHOOK_REFUSAL_CODES,
  ...CAMPAIGN_REFUSAL_CODES,
  ...SELLER_DISCOUNT_REFUSAL_CODES,
  ...SEGMENT_REFUSAL_CODES,
  ...FINANCE_REFUSAL_CODES,
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

export function statusOf(code: ErrorCode): number {
  switch (code) {
    case "VALIDATION_FAILED":
    case "MALFORMED_JSON":
    case "INVALID_MONTH_RANGE":
      return 400;
    case "UNAUTHENTICATED":
      return 401;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
    case "HOLD_NOT_FOUND":
    case "REDEMPTION_NOT_FOUND":
    case "LOT_NOT_FOUND":
    case "ORDER_NOT_FOUND":
    case "REVIEW_NOT_FOUND":
    case "MANAGER_NOT_FOUND":
    case "WEBHOOK_NOT_FOUND":
    case "CAMPAIGN_NOT_FOUND":
    case "SELLER_DISCOUNT_NOT_FOUND":
    case "SEGMENT_NOT_FOUND":
      return 404;
    case "METHOD_NOT_ALLOWED":
      return 405;
    case "IDEMPOTENCY_CONFLICT":
    case "IDEMPOTENCY_KEY_REUSED":
    case "HOLD_EXPIRED":
    case "HOLD_NOT_ACTIVE":
    case "HOLD_ALREADY_EXISTS":
    case "REDEMPTION_ALREADY_EXISTS":
    case "ORDER_STATE_CONFLICT":
    case "ORDER_SEQUENCE_CONFLICT":
    case "REVIEW_ALREADY_REWARDED":
    case "REVIEW_ALREADY_MODERATED":
    case "ALREADY_INVITED":
    case "PROMO_CODE_TAKEN":
    case "MANAGER_CODE_FIXED":
    case "CAMPAIGN_NOT_EDITABLE":
      return 409;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNSUPPORTED_MEDIA_TYPE":
      return 415;
    case "INSUFFICIENT_POINTS":
    case "REFUND_EXCEEDS_REDEEMED":
    case "SOURCE_KIND_MISMATCH":
    case "INVALID_DATES":
    case "INVALID_ORDER":
    case "LINE_NOT_FOUND":
    case "RETURN_EXCEEDS_SHIPPED":
    case "SHIPMENT_EXCEEDS_ORDERED":
    case "CAP_EXCEEDED":
    case "PREDECESSOR_REFUSED":
    case "INSUFFICIENT_SAVINGS":
    case "REVIEW_NOT_BOUGHT":
    case "REVIEW_NOT_DELIVERED":
    case "REVIEW_PRODUCT_RETURNED":
    case "INVITE_CODE_NOT_FOUND":
    case "SELF_INVITE":
    case "NOT_A_NEW_CUSTOMER":
    case "PROMO_CODE_NOT_FOUND":
    case "CAMPAIGN_CONTRADICTS_ANOTHER":
    case "CAMPAIGN_WINDOW_OVER":
    case "SELLER_DISCOUNTS_LIMIT_REACHED":
      return 422;
    case "INTERNAL":
      return 500;
    case "SERVICE_UNAVAILABLE":
      return 503;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown; requestId: string };
}

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<ErrorCode>({ type: "string", enum: [...ERROR_CODES] }),
      message: Type.String(),
      details: Type.Unknown(),
      requestId: Type.String(),
    }),
  },
  { $id: "ErrorEnvelope", description: "Every error, with a code from a closed list" },
);

/** An error raised at the edge (auth, headers); business refusals are values, not these. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown = {},
  ) {
    super(message);
  }
}
