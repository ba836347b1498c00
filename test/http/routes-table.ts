import type { components, operations } from "@kopilka/client";
import type { LightMyRequestResponse } from "fastify";
import { sql } from "kysely";
import { expect } from "vitest";
import type { ApiRole } from "../../src/app/access.js";
import { ERROR_CODES, type ErrorCode, statusOf } from "../../src/http/errors.js";
import type { httpHarness } from "../support/http.js";

/**
 * The HTTP surface, written down once from the spec (not read from src/http): every table-driven
 * suite (security, idempotency, validation) iterates over it, and security.test.ts checks that it
 * covers every authenticated operation the server documents.
 */

export type Harness = Awaited<ReturnType<typeof httpHarness>>;
type Movement = components["schemas"]["Movement"];
type Body = Record<string, unknown>;

export interface RouteCase {
  operationId: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The OpenAPI path, e.g. `/v1/customers/{customerId}/holds/{holdId}/capture`. */
  path: string;
  /** Roles whose API keys may call it. */
  roles: readonly ApiRole[];
  /** Whether a customer token may call it for its own customer id. */
  customerSelf: boolean;
  /** Writes take an Idempotency-Key and are replayed by it. */
  write: boolean;
  /** The status of a successful call. */
  success: number;
  /**
   * `request(…, "other")` is the same operation on another subject, not another request on the same
   * one (a DELETE has no body): the same key on it is a new request, never a conflict.
   */
  otherSubject?: boolean;
  /** The status of `request(…, "other")` under a key of its own after `request` succeeded, if not `success`. */
  otherSuccess?: number;
  /** Body fields that must be present (validation). */
  required: readonly string[];
  /** A valid request for `customerId`; `other` is a different valid request (for idempotency conflicts). */
  request(customerId: string, other?: "other"): { url: string; body?: Body };
  /** Puts `customerId` in a state where `request` (and `request(…, "other")`) succeed. */
  prepare?(h: Harness, customerId: string): Promise<void>;
}

const customer = (id: string) => `/v1/customers/${id}`;

/** The JSON body an operation takes, as the spec (and so the typed client) has it. */
export type RequestBody<Operation extends keyof operations> = operations[Operation] extends {
  requestBody: { content: { "application/json": infer Json } };
}
  ? Json
  : never;

/** Asserts that a typed-client call answered `status` and returns the body it answered. */
export function expectSuccess<Data>(
  result: { data?: Data; error?: unknown; response: Response },
  status: number,
) {
  expect(result.response.status, JSON.stringify(result.error)).toBe(status);
  return result.data as Data;
}

/*
 * Operator writes through the typed client, each with a fresh Idempotency-Key, named after their
 * operationId: the answer as the client returns it, for tests that expect a refusal as well.
 */

export const creditPoints = (h: Harness, customerId: string, body: RequestBody<"creditPoints">) =>
  h.client(h.keys.operator).POST("/v1/customers/{customerId}/credits", {
    params: { path: { customerId }, header: h.idempotencyKeyHeader() },
    body,
  });

export const createHold = (h: Harness, customerId: string, body: RequestBody<"createHold">) =>
  h.client(h.keys.operator).POST("/v1/customers/{customerId}/holds", {
    params: { path: { customerId }, header: h.idempotencyKeyHeader() },
    body,
  });

/** captureHold or releaseHold. */
export const settleHold = (h: Harness, customerId: string, holdId: string, action: "capture" | "release") =>
  h.client(h.keys.operator).POST(`/v1/customers/{customerId}/holds/{holdId}/${action}`, {
    params: { path: { customerId, holdId }, header: h.idempotencyKeyHeader() },
  });

export const spendPoints = (h: Harness, customerId: string, body: RequestBody<"spendPoints">) =>
  h.client(h.keys.operator).POST("/v1/customers/{customerId}/spends", {
    params: { path: { customerId }, header: h.idempotencyKeyHeader() },
    body,
  });

/** Points for a customer, available at once (operator key, marketplace-funded purchase points). */
export async function credit(
  h: Harness,
  customerId: string,
  amount: number,
  extra: Partial<RequestBody<"creditPoints">> = {},
) {
  const answer = await creditPoints(h, customerId, {
    kind: "bonus",
    amount,
    source: "purchase",
    funder: "marketplace",
    ...extra,
  });
  return expectSuccess(answer, 201);
}

export async function openHold(
  h: Harness,
  customerId: string,
  holdId: string,
  amount: number,
  extra: Partial<RequestBody<"createHold">> = {},
) {
  return expectSuccess(await createHold(h, customerId, { holdId, kind: "bonus", amount, ...extra }), 201);
}

export async function spend(h: Harness, customerId: string, redemptionId: string, amount: number) {
  return expectSuccess(await spendPoints(h, customerId, { redemptionId, kind: "bonus", amount }), 201);
}

/**
 * R31: the webhook subscriptions `prepareWebhooks` made for a customer id of the table (two: the
 * request and the other request). The routes name no customer, so the table's customer id only keeps
 * one test's subscriptions apart from another's; without `prepare` a request names none that exists.
 */
const webhooksOf = new Map<string, string[]>();
const NO_WEBHOOK = "whk_00000000000000000000000000";
const webhookOf = (id: string, other?: "other") => webhooksOf.get(id)?.[other ? 1 : 0] ?? NO_WEBHOOK;

async function prepareWebhooks(h: Harness, id: string) {
  const made: string[] = [];
  for (const n of [1, 2]) {
    const res = await h.send({
      method: "POST",
      url: "/v1/webhooks",
      key: h.keys.operator,
      body: { url: `https://hooks.example/${id}/${n}` },
    });
    expect(res.statusCode, res.body).toBe(201);
    made.push(res.json().id);
  }
  webhooksOf.set(id, made);
}

const WEBHOOK_ROUTES: readonly RouteCase[] = [
  {
    operationId: "createWebhook",
    method: "POST",
    path: "/v1/webhooks",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["url"],
    request: (id, other) => ({
      url: "/v1/webhooks",
      body: {
        url: `https://hooks.example/${id}`,
        eventTypes: other ? ["points.spent"] : ["points.credited", "points.spent"],
        description: "CRM sync",
      },
    }),
  },
  {
    operationId: "listWebhooks",
    method: "GET",
    path: "/v1/webhooks",
    roles: ["operator"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: () => ({ url: "/v1/webhooks" }),
  },
  {
    operationId: "getWebhook",
    method: "GET",
    path: "/v1/webhooks/{webhookId}",
    roles: ["operator"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `/v1/webhooks/${webhookOf(id)}` }),
    prepare: prepareWebhooks,
  },
  {
    operationId: "updateWebhook",
    method: "PATCH",
    path: "/v1/webhooks/{webhookId}",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    request: (id, other) => ({
      url: `/v1/webhooks/${webhookOf(id)}`,
      body: { description: other ? "CRM sync, second region" : "CRM sync" },
    }),
    prepare: prepareWebhooks,
  },
  {
    operationId: "deleteWebhook",
    method: "DELETE",
    path: "/v1/webhooks/{webhookId}",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    // The other request deletes the other subscription: keys are stored per subscription, so the
    // same key there is a new request (as on another customer).
    otherSubject: true,
    request: (id, other) => ({ url: `/v1/webhooks/${webhookOf(id, other)}` }),
    prepare: prepareWebhooks,
  },
  {
    operationId: "listWebhookDeadLetters",
    method: "GET",
    path: "/v1/webhooks/{webhookId}/dead-letters",
    roles: ["operator"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `/v1/webhooks/${webhookOf(id)}/dead-letters` }),
    prepare: prepareWebhooks,
  },
  {
    operationId: "replayWebhookDeadLetters",
    method: "POST",
    path: "/v1/webhooks/{webhookId}/dead-letters/replay",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    request: (id, other) => ({
      url: `/v1/webhooks/${webhookOf(id)}/dead-letters/replay`,
      body: {
        notificationIds: [other ? "ntf_01KBBBBBBBBBBBBBBBBBBBBBBB" : "ntf_01KAAAAAAAAAAAAAAAAAAAAAAA"],
      },
    }),
    prepare: prepareWebhooks,
  },
];

/**
 * R26: the campaigns `prepareCampaigns` made for a customer id of the table (two: the request's and
 * the other request's), with seller s-1's key so that the seller role may read and change them as
 * operators may. Combinable, each on a product of its own: no two ever contradict each other.
 */
const campaignsOf = new Map<string, string[]>();
const NO_CAMPAIGN = "cmp_00000000000000000000000000";
const campaignOf = (id: string, other?: "other") => campaignsOf.get(id)?.[other ? 1 : 0] ?? NO_CAMPAIGN;

export const campaignBody = (id: string, other?: "other") => ({
  name: { ru: `Акция ${id}`, en: `Campaign ${id}` },
  conditions: {
    startsAt: "2026-11-27T00:00:00",
    endsAt: "2026-12-01T00:00:00",
    sellers: ["s-1"],
    skus: [`sku-${id}`],
  },
  effect: other ? { type: "extra_rate", rateBp: 300 } : { type: "rate_multiplier", multiplierBp: 20_000 },
  combinable: true,
  budgetPoints: 100_000,
});

async function prepareCampaigns(h: Harness, id: string) {
  const made: string[] = [];
  for (const other of [undefined, "other"] as const) {
    const res = await h.send({
      method: "POST",
      url: "/v1/campaigns",
      key: h.keys.seller,
      body: campaignBody(id, other),
    });
    expect(res.statusCode, res.body).toBe(201);
    made.push(res.json().campaignId);
  }
  campaignsOf.set(id, made);
}

const CAMPAIGN_READ = {
  roles: ["operator", "support", "readonly", "seller"],
  write: false,
  success: 200,
} as const;
const CAMPAIGN_WRITE = { roles: ["operator", "seller"], write: true } as const;

const CAMPAIGN_ROUTES: readonly RouteCase[] = [
  {
    operationId: "createCampaign",
    method: "POST",
    path: "/v1/campaigns",
    ...CAMPAIGN_WRITE,
    customerSelf: false,
    success: 201,
    required: ["name", "conditions", "effect", "combinable"],
    request: (id, other) => ({ url: "/v1/campaigns", body: campaignBody(id, other) }),
  },
  {
    operationId: "listCampaigns",
    method: "GET",
    path: "/v1/campaigns",
    ...CAMPAIGN_READ,
    customerSelf: false,
    required: [],
    request: () => ({ url: "/v1/campaigns?state=draft" }),
  },
  {
    operationId: "getCampaign",
    method: "GET",
    path: "/v1/campaigns/{campaignId}",
    ...CAMPAIGN_READ,
    customerSelf: false,
    required: [],
    request: (id) => ({ url: `/v1/campaigns/${campaignOf(id)}` }),
    prepare: prepareCampaigns,
  },
  {
    operationId: "getCampaignBudget",
    method: "GET",
    path: "/v1/campaigns/{campaignId}/budget",
    ...CAMPAIGN_READ,
    customerSelf: false,
    required: [],
    request: (id) => ({ url: `/v1/campaigns/${campaignOf(id)}/budget` }),
    prepare: prepareCampaigns,
  },
  {
    operationId: "listCampaignVersions",
    method: "GET",
    path: "/v1/campaigns/{campaignId}/versions",
    ...CAMPAIGN_READ,
    customerSelf: false,
    required: [],
    request: (id) => ({ url: `/v1/campaigns/${campaignOf(id)}/versions` }),
    prepare: prepareCampaigns,
  },
  {
    operationId: "replaceCampaign",
    method: "PUT",
    path: "/v1/campaigns/{campaignId}",
    ...CAMPAIGN_WRITE,
    customerSelf: false,
    success: 200,
    required: ["name", "conditions", "effect", "combinable"],
    request: (id, other) => ({ url: `/v1/campaigns/${campaignOf(id)}`, body: campaignBody(id, other) }),
    prepare: prepareCampaigns,
  },
  ...(["publish", "end"] as const).map(
    (operation): RouteCase => ({
      operationId: `${operation}Campaign`,
      method: "POST",
      path: `/v1/campaigns/{campaignId}/${operation}`,
      ...CAMPAIGN_WRITE,
      customerSelf: false,
      success: 200,
      // The other request is on the other campaign: keys are stored per campaign.
      otherSubject: true,
      required: [],
      request: (id, other) => ({ url: `/v1/campaigns/${campaignOf(id, other)}/${operation}` }),
      prepare: prepareCampaigns,
    }),
  ),
  {
    operationId: "dryRunCampaign",
    method: "POST",
    path: "/v1/campaigns/{campaignId}/dry-run",
    roles: ["operator", "seller"],
    write: false,
    success: 200,
    customerSelf: false,
    required: ["customerId", "lines", "paymentMethod"],
    request: (id) => ({
      url: `/v1/campaigns/${campaignOf(id)}/dry-run`,
      body: {
        customerId: id,
        lines: [
          {
            lineId: "1",
            sku: `sku-${id}`,
            sellerId: "s-1",
            category: "books",
            quantity: 1,
            unitPriceKop: 10_000,
          },
        ],
        paymentMethod: "other_card",
        at: "2026-11-28T12:00:00Z",
      },
    }),
    prepare: prepareCampaigns,
  },
];

/**
 * R27: seller s-1's loyalty discounts, one pair per customer id of the table (the request's and the
 * other request's), so that the seller key may change them as operators may. Keys are stored per
 * discount.
 */
const discountOf = (id: string, other?: "other") => `${other ? "other" : "d"}-${id}`;
const discountUrl = (id: string, other?: "other") =>
  `/v1/sellers/s-1/loyalty-discounts/${discountOf(id, other)}`;
const discountBody = (other?: "other") => ({
  percentBp: other ? 2_000 : 1_000,
  condition: other ? { type: "units_this_month", moreThan: 3 } : { type: "points_from_seller", atLeast: 100 },
});

async function prepareDiscounts(h: Harness, id: string) {
  for (const other of [undefined, "other"] as const) {
    const res = await h.send({
      method: "PUT",
      url: discountUrl(id, other),
      key: h.keys.seller,
      body: discountBody(other),
    });
    expect(res.statusCode, res.body).toBe(200);
  }
}

const SELLER_DISCOUNT_ROUTES: readonly RouteCase[] = [
  {
    operationId: "putSellerLoyaltyDiscount",
    method: "PUT",
    path: "/v1/sellers/{sellerId}/loyalty-discounts/{discountId}",
    roles: ["operator", "seller"],
    customerSelf: false,
    write: true,
    success: 200,
    required: ["percentBp", "condition"],
    request: (id, other) => ({ url: discountUrl(id), body: discountBody(other) }),
  },
  {
    operationId: "listSellerLoyaltyDiscounts",
    method: "GET",
    path: "/v1/sellers/{sellerId}/loyalty-discounts",
    roles: ["operator", "support", "readonly", "seller"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: () => ({ url: "/v1/sellers/s-1/loyalty-discounts" }),
  },
  {
    operationId: "endSellerLoyaltyDiscount",
    method: "DELETE",
    path: "/v1/sellers/{sellerId}/loyalty-discounts/{discountId}",
    roles: ["operator", "seller"],
    customerSelf: false,
    write: true,
    success: 200,
    otherSubject: true,
    required: [],
    request: (id, other) => ({ url: discountUrl(id, other) }),
    prepare: prepareDiscounts,
  },
];

/** R29: a segment per customer id of the test, so that tests do not share one. */
const segmentUrl = (id: string) => `/v1/segments/seg-${id.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 50)}`;
const segmentBody = (other?: "other") => ({
  name: { ru: "Частые покупатели", en: "Frequent buyers" },
  rule: { stat: "orders30", op: "gte", value: other ? 3 : 2 },
});

async function prepareSegment(h: Harness, id: string) {
  const res = await h.send({ method: "PUT", url: segmentUrl(id), key: h.keys.operator, body: segmentBody() });
  expect(res.statusCode, res.body).toBe(200);
}

const SEGMENT_ROUTES: readonly RouteCase[] = [
  {
    operationId: "putSegment",
    method: "PUT",
    path: "/v1/segments/{segmentId}",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: ["name", "rule"],
    request: (id, other) => ({ url: segmentUrl(id), body: segmentBody(other) }),
  },
  {
    operationId: "listSegments",
    method: "GET",
    path: "/v1/segments",
    roles: ["operator", "support", "readonly"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: () => ({ url: "/v1/segments" }),
  },
  {
    operationId: "getSegment",
    method: "GET",
    path: "/v1/segments/{segmentId}",
    roles: ["operator", "support", "readonly"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: segmentUrl(id) }),
    prepare: prepareSegment,
  },
  {
    operationId: "listSegmentMembers",
    method: "GET",
    path: "/v1/segments/{segmentId}/members",
    roles: ["operator", "support", "readonly"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${segmentUrl(id)}/members?limit=10` }),
    prepare: prepareSegment,
  },
  {
    operationId: "getSegmentSize",
    method: "GET",
    path: "/v1/segments/{segmentId}/size",
    roles: ["operator", "support", "readonly"],
    customerSelf: false,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${segmentUrl(id)}/size` }),
    prepare: prepareSegment,
  },
  {
    operationId: "getCustomerSegments",
    method: "GET",
    path: "/v1/customers/{customerId}/segments",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/segments` }),
  },
];

/**
 * Finance (issue 12): reads across every customer, so the table's customer id names nothing; a seller
 * key reads its own statement (seller s-1's), and nothing else of finance.
 */
const FINANCE_READ = {
  roles: ["operator", "readonly"],
  customerSelf: false,
  write: false,
  success: 200,
} as const;

const FINANCE_ROUTES: readonly RouteCase[] = [
  {
    operationId: "getLiability",
    method: "GET",
    path: "/v1/finance/liability",
    ...FINANCE_READ,
    required: [],
    request: () => ({ url: "/v1/finance/liability" }),
  },
  {
    operationId: "getBreakage",
    method: "GET",
    path: "/v1/finance/breakage",
    ...FINANCE_READ,
    required: [],
    request: () => ({ url: "/v1/finance/breakage?from=2026-01&to=2026-03" }),
  },
  {
    operationId: "getExpiryForecast",
    method: "GET",
    path: "/v1/finance/expiry-forecast",
    ...FINANCE_READ,
    required: [],
    request: () => ({ url: "/v1/finance/expiry-forecast?format=csv" }),
  },
  {
    operationId: "getFunderStatement",
    method: "GET",
    path: "/v1/finance/funders/{funder}/statement",
    ...FINANCE_READ,
    roles: ["operator", "readonly", "seller"],
    required: [],
    request: () => ({ url: "/v1/finance/funders/seller:s-1/statement?from=2026-01&to=2026-01" }),
  },
  {
    operationId: "verifyLedger",
    method: "GET",
    path: "/v1/finance/verify",
    ...FINANCE_READ,
    required: [],
    request: () => ({ url: "/v1/finance/verify" }),
  },
];

export const ROUTES: readonly RouteCase[] = [
  {
    operationId: "creditPoints",
    method: "POST",
    path: "/v1/customers/{customerId}/credits",
    roles: ["operator", "seller"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["kind", "amount", "source", "funder"],
    // Seller-funded, so that the seller key (s-1) may send it too.
    request: (id, other) => ({
      url: `${customer(id)}/credits`,
      body: {
        kind: "bonus",
        amount: other ? 70 : 60,
        source: "seller",
        funder: "seller:s-1",
        availableFrom: "2026-01-16T09:00:00Z",
        expiresAt: "2027-01-16T09:00:00Z",
        reference: "order-7781",
      },
    }),
  },
  {
    operationId: "adjustPoints",
    method: "POST",
    path: "/v1/customers/{customerId}/adjustments",
    roles: ["operator", "support"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["kind", "amount", "reason"],
    request: (id, other) => ({
      url: `${customer(id)}/adjustments`,
      body: { kind: "bonus", amount: other ? 15 : 25, reason: "goodwill for ticket 4411" },
    }),
  },
  {
    operationId: "getBalance",
    method: "GET",
    path: "/v1/customers/{customerId}/balance",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/balance` }),
  },
  {
    operationId: "listHistory",
    method: "GET",
    path: "/v1/customers/{customerId}/history",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/history` }),
  },
  {
    operationId: "createHold",
    method: "POST",
    path: "/v1/customers/{customerId}/holds",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["holdId", "kind", "amount"],
    request: (id, other) => ({
      url: `${customer(id)}/holds`,
      body: { holdId: other ? "order-2" : "order-1", kind: "bonus", amount: 30 },
    }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
    },
  },
  {
    operationId: "captureHold",
    method: "POST",
    path: "/v1/customers/{customerId}/holds/{holdId}/capture",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    request: (id, other) => ({ url: `${customer(id)}/holds/${other ? "order-2" : "order-1"}/capture` }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
      await openHold(h, id, "order-1", 30);
      await openHold(h, id, "order-2", 20);
    },
  },
  {
    operationId: "releaseHold",
    method: "POST",
    path: "/v1/customers/{customerId}/holds/{holdId}/release",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    request: (id, other) => ({ url: `${customer(id)}/holds/${other ? "order-2" : "order-1"}/release` }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
      await openHold(h, id, "order-1", 30);
      await openHold(h, id, "order-2", 20);
    },
  },
  {
    operationId: "spendPoints",
    method: "POST",
    path: "/v1/customers/{customerId}/spends",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["redemptionId", "kind", "amount"],
    request: (id, other) => ({
      url: `${customer(id)}/spends`,
      body: { redemptionId: other ? "order-2" : "order-1", kind: "bonus", amount: 40 },
    }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
    },
  },
  {
    operationId: "refundPoints",
    method: "POST",
    path: "/v1/customers/{customerId}/refunds",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["redemptionId", "amount"],
    request: (id, other) => ({
      url: `${customer(id)}/refunds`,
      body: { redemptionId: "order-1", amount: other ? 5 : 10 },
    }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
      await spend(h, id, "order-1", 50);
    },
  },
  {
    operationId: "clawBackPoints",
    method: "POST",
    path: "/v1/customers/{customerId}/clawbacks",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["kind", "amount"],
    request: (id, other) => ({
      url: `${customer(id)}/clawbacks`,
      body: { kind: "bonus", amount: other ? 7 : 10, reference: "return-55" },
    }),
    prepare: async (h, id) => {
      await credit(h, id, 100);
    },
  },
  {
    operationId: "revokeCustomerTokens",
    method: "POST",
    path: "/v1/customers/{customerId}/tokens/revoke",
    roles: ["operator", "support"],
    customerSelf: false,
    write: true,
    success: 200,
    required: ["reason"],
    request: (id, other) => ({
      url: `${customer(id)}/tokens/revoke`,
      body: { reason: other ? "phone reported stolen" : "customer asked to sign out everywhere" },
    }),
  },
  {
    operationId: "createInviteCode",
    method: "POST",
    path: "/v1/customers/{customerId}/invite-code",
    roles: ["operator"],
    customerSelf: true,
    write: true,
    success: 201,
    // A customer has one code: asked again (other fingerprints), it is answered, 200.
    otherSuccess: 200,
    required: [],
    request: (id, other) => ({
      url: `${customer(id)}/invite-code`,
      body: { deviceFingerprint: other ? "device-b" : "device-a", paymentFingerprint: "card-a" },
    }),
  },
  {
    operationId: "registerInvitation",
    method: "POST",
    path: "/v1/customers/{customerId}/invitation",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 201,
    required: ["code", "registeredAt"],
    request: (id, other) => ({
      url: `${customer(id)}/invitation`,
      body: { code: `IC-${id}`, registeredAt: other ? "2026-01-15T08:00:00Z" : "2026-01-15T07:00:00Z" },
    }),
    // The inviter's code, as its own work would have written it (a code is random otherwise).
    prepare: async (h, id) => {
      await sql`insert into customers (customer_id) values (${`inviter-of-${id}`}) on conflict do nothing`.execute(
        h.database.db,
      );
      await sql`insert into invite_codes (code, customer_id, created_at)
        values (${`IC-${id}`}, ${`inviter-of-${id}`}, now())`.execute(h.database.db);
    },
  },
  {
    operationId: "getInvites",
    method: "GET",
    path: "/v1/customers/{customerId}/invites",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/invites` }),
  },
  {
    operationId: "grantManager",
    method: "PUT",
    path: "/v1/customers/{customerId}/manager",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: [],
    // The other request names no code: granting an active manager again answers it (a code never changes).
    request: (id, other) => ({
      url: `${customer(id)}/manager`,
      body: other ? {} : { promoCode: `PC-${id}` },
    }),
  },
  {
    operationId: "getManager",
    method: "GET",
    path: "/v1/customers/{customerId}/manager",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/manager` }),
    prepare: async (h, id) => {
      const granted = await h.send({
        method: "PUT",
        url: `${customer(id)}/manager`,
        key: h.keys.operator,
        body: { promoCode: `PM-${id}` },
      });
      expect(granted.statusCode, granted.body).toBe(200);
    },
  },
  {
    operationId: "recordPremiumPeriod",
    method: "PUT",
    path: "/v1/customers/{customerId}/premium/periods/{periodId}",
    roles: ["operator"],
    customerSelf: false,
    write: true,
    success: 200,
    required: ["startsAt", "endsAt"],
    // The other request corrects the same period's dates: a new version, so a conflict under one key.
    request: (id, other) => ({
      url: `${customer(id)}/premium/periods/p-${id}`,
      body: {
        startsAt: "2026-01-01T00:00:00.000Z",
        endsAt: other ? "2026-03-01T00:00:00.000Z" : "2026-02-01T00:00:00.000Z",
      },
    }),
  },
  {
    operationId: "getPremium",
    method: "GET",
    path: "/v1/customers/{customerId}/premium",
    roles: ["operator", "support", "readonly"],
    customerSelf: true,
    write: false,
    success: 200,
    required: [],
    request: (id) => ({ url: `${customer(id)}/premium` }),
  },
  ...WEBHOOK_ROUTES,
  ...CAMPAIGN_ROUTES,
  ...SELLER_DISCOUNT_ROUTES,
  ...SEGMENT_ROUTES,
  ...FINANCE_ROUTES,
];

export const WRITE_ROUTES = ROUTES.filter((r) => r.write);
export const READ_ROUTES = ROUTES.filter((r) => !r.write);
export const ROLES = ["operator", "support", "seller", "readonly"] as const satisfies readonly ApiRole[];

/** The harness's key for a role (the seller key is seller s-1). */
export function keyOf(h: Harness, role: ApiRole): string {
  return h.keys[role];
}

/** A fresh customer id per call, so tests sharing one harness never see each other's ledgers. */
export function customerIds(prefix: string) {
  let n = 0;
  return () => {
    n += 1;
    return `${prefix}-${n}`;
  };
}

/** Sends the route's valid request (or `other`) for `customerId`. */
export function sendRoute(
  h: Harness,
  route: RouteCase,
  customerId: string,
  options: {
    key?: string;
    other?: boolean;
    idempotencyKey?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<LightMyRequestResponse> {
  const { url, body } = route.request(customerId, options.other ? "other" : undefined);
  return h.send({
    method: route.method,
    url,
    ...(options.key === undefined ? {} : { key: options.key }),
    ...("body" in options ? { body: options.body } : body === undefined ? {} : { body }),
    ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

type ErrorOf = { code: ErrorCode; message: string; details: Record<string, unknown>; requestId: string };

/** An answer to check: a raw `send` response, or what the typed client returned (`error` is the parsed body). */
type Answer = LightMyRequestResponse | { error?: unknown; response: Response };

/** The status, headers and body of either kind of answer; `text` is the body as written, for messages. */
function readAnswer(answer: Answer) {
  if ("response" in answer) {
    const { response, error } = answer;
    return {
      status: response.status,
      header: (name: string) => response.headers.get(name) ?? undefined,
      json: () => error,
      text: JSON.stringify(error),
    };
  }
  return {
    status: answer.statusCode,
    header: (name: string) => answer.headers[name],
    json: () => answer.json() as unknown,
    text: answer.body,
  };
}

/**
 * Asserts the error envelope: exactly `{ error: { code, message, details, requestId } }`, a code from
 * the closed list with its status, and the requestId of this response (or `requestId` for replays).
 */
export function expectEnvelope(answer: Answer, options: { requestId?: string } = {}): ErrorOf {
  const res = readAnswer(answer);
  expect(res.header("content-type"), res.text).toMatch(/^application\/json/);
  const body = res.json() as { error: Record<string, unknown> };
  expect(Object.keys(body), res.text).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "message", "requestId"]);
  expect(ERROR_CODES).toContain(body.error.code);
  expect(res.status).toBe(statusOf(body.error.code as ErrorCode));
  expect(typeof body.error.message).toBe("string");
  expect((body.error.message as string).length).toBeGreaterThan(0);
  expect(body.error.details).toBeTypeOf("object");
  expect(body.error.details).not.toBeNull();
  expect(res.header("x-request-id")).toMatch(/^req_/);
  expect(body.error.requestId).toBe(options.requestId ?? res.header("x-request-id"));
  return body.error as ErrorOf;
}

/** expectEnvelope, and the code is `code`. */
export function expectError(answer: Answer, code: ErrorCode, options: { requestId?: string } = {}): ErrorOf {
  const res = readAnswer(answer);
  expect(res.status, res.text).toBe(statusOf(code));
  const error = expectEnvelope(answer, options);
  expect(error.code, res.text).toBe(code);
  return error;
}

/** The field paths a VALIDATION_FAILED error names. */
export function fieldsOf(res: LightMyRequestResponse): string[] {
  const error = expectError(res, "VALIDATION_FAILED");
  const fields = (error.details as { fields?: { field: string; message: string }[] }).fields ?? [];
  return fields.map((f) => f.field);
}

/** Rows the customer has in a table: the ledger's own record of what a request wrote. */
export async function rowCount(
  h: Harness,
  table: "movements" | "idempotency" | "lots" | "holds" | "redemptions",
  customerId: string,
): Promise<number> {
  const result = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}
    where customer_id = ${customerId}`.execute(h.database.db);
  return result.rows[0]?.n ?? 0;
}

/** The customer's balance as the API reports it to `credential` (the operator key unless given). */
export async function balance(h: Harness, customerId: string, credential = h.keys.operator) {
  const answer = await h.client(credential).GET("/v1/customers/{customerId}/balance", {
    params: { path: { customerId } },
  });
  return expectSuccess(answer, 200);
}

/** The customer's bonus balance as the API reports it to `credential` (the operator key unless given). */
export async function bonusBalance(h: Harness, customerId: string, credential = h.keys.operator) {
  return (await balance(h, customerId, credential)).kinds.bonus;
}

export type HistoryQuery = NonNullable<operations["listHistory"]["parameters"]["query"]>;

/** One page of the customer's history as the API reports it to `credential` (the operator key unless given). */
export async function historyPage(
  h: Harness,
  customerId: string,
  query: HistoryQuery = {},
  credential = h.keys.operator,
) {
  const answer = await h.client(credential).GET("/v1/customers/{customerId}/history", {
    params: { path: { customerId }, query },
  });
  return expectSuccess(answer, 200);
}

/** Every movement of the customer, newest first, following nextCursor. */
export async function fullHistory(h: Harness, customerId: string): Promise<Movement[]> {
  const items: Movement[] = [];
  let cursor: string | undefined;
  do {
    const page = await historyPage(h, customerId, { limit: "200", cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}
