import fc from "fast-check";
import { SignJWT } from "jose";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, statusOf } from "../../src/http/errors.js";
import { httpHarness, TEST_JWT_SECRET } from "../support/http.js";
import { PROPERTY_SEED } from "../support/property.js";
import { parseSeed } from "../support/property-seed.js";

/**
 * API fuzzing: fast-check generates hostile requests against every route — wrong types, missing and
 * extra fields, huge and negative numbers, NaN-like strings, unicode (RTL, emoji, NUL, lone surrogates),
 * 10,000-level nesting, multi-megabyte bodies, bad and huge Idempotency-Keys, bad/garbage/expired
 * tokens, wrong content types, bad path parameters and query strings, wrong methods — and checks:
 *
 *  - no 5xx, ever;
 *  - every 4xx is exactly `{ error: { code, message, details, requestId } }`, the code from ERROR_CODES and
 *    the status the code maps to;
 *  - a refused request leaves the ledger as it was (movements, lots, holds, redemptions, orders, balances,
 *    configuration versions, seller points, API keys) — checked after every request;
 *  - nothing outside the API is served (path traversal through /docs).
 *
 * Each test sends its own requests and checks all of that on them: one test per route, one for the
 * public and unknown paths, one for the typed sweep; any of them run alone (`-t`) proves as much as in
 * the whole file. Within a test all violations are collected (not just the first), grouped by kind,
 * and reported with the smallest example of each. The seed is the run's property seed
 * (KOPILKA_PROPERTY_SEED, see test/support/property.ts), or KOPILKA_FUZZ_SEED for this file alone;
 * KOPILKA_FUZZ_RUNS sets the requests per route.
 */

const SEED = process.env.KOPILKA_FUZZ_SEED
  ? parseSeed(process.env.KOPILKA_FUZZ_SEED, "KOPILKA_FUZZ_SEED")
  : PROPERTY_SEED;
const RUNS = Number(process.env.KOPILKA_FUZZ_RUNS ?? 80);
const MAX_AMOUNT = 1_000_000_000_000;

type Harness = Awaited<ReturnType<typeof httpHarness>>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------------------------------------------
// The routes, each with a valid request to start from

const CUSTOMER = "fz-1";
const OTHER = "fz-2";
let unique = 0;
const next = (prefix: string) => {
  unique += 1;
  return `${prefix}-${unique}`;
};

const LINES = [
  {
    lineId: "A",
    sku: "jacket",
    sellerId: "s-1",
    category: "clothing_shoes",
    quantity: 1,
    unitPriceKop: 150_000,
  },
  { lineId: "B", sku: "book", sellerId: "s-2", category: "books", quantity: 2, unitPriceKop: 50_000 },
];

interface FuzzRoute {
  op: string;
  method: "GET" | "POST" | "PUT";
  /** Path with `:name` parameters. */
  path: string;
  params: () => Record<string, string>;
  query?: () => Record<string, string>;
  body?: () => Json;
}

const ROUTES: FuzzRoute[] = [
  {
    op: "creditPoints",
    method: "POST",
    path: "/v1/customers/:customerId/credits",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({
      kind: "bonus",
      amount: 10,
      source: "purchase",
      funder: "marketplace",
      availableFrom: "2026-01-15T09:00:00Z",
      expiresAt: "2027-01-15T09:00:00Z",
      reference: "order-1",
    }),
  },
  {
    op: "adjustPoints",
    method: "POST",
    path: "/v1/customers/:customerId/adjustments",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ kind: "bonus", amount: -5, reason: "goodwill for ticket 4411" }),
  },
  {
    op: "getBalance",
    method: "GET",
    path: "/v1/customers/:customerId/balance",
    params: () => ({ customerId: CUSTOMER }),
  },
  {
    op: "listHistory",
    method: "GET",
    path: "/v1/customers/:customerId/history",
    params: () => ({ customerId: CUSTOMER }),
    query: () => ({ limit: "5" }),
  },
  {
    op: "createHold",
    method: "POST",
    path: "/v1/customers/:customerId/holds",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ holdId: next("hold"), kind: "bonus", amount: 1, timeoutSeconds: 600 }),
  },
  {
    op: "captureHold",
    method: "POST",
    path: "/v1/customers/:customerId/holds/:holdId/capture",
    params: () => ({ customerId: CUSTOMER, holdId: "fz-hold-open" }),
  },
  {
    op: "releaseHold",
    method: "POST",
    path: "/v1/customers/:customerId/holds/:holdId/release",
    params: () => ({ customerId: CUSTOMER, holdId: "fz-hold-open" }),
  },
  {
    op: "spendPoints",
    method: "POST",
    path: "/v1/customers/:customerId/spends",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ redemptionId: next("spend"), kind: "bonus", amount: 1 }),
  },
  {
    op: "refundPoints",
    method: "POST",
    path: "/v1/customers/:customerId/refunds",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ redemptionId: "fz-spend", amount: 1 }),
  },
  {
    op: "clawBackPoints",
    method: "POST",
    path: "/v1/customers/:customerId/clawbacks",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ kind: "bonus", amount: 1, reference: "return-1" }),
  },
  {
    op: "quoteCheckout",
    method: "POST",
    path: "/v1/checkout/quote",
    params: () => ({}),
    body: () => ({
      customerId: CUSTOMER,
      orderId: "cart-1",
      lines: LINES,
      paymentMethod: "marketplace_card",
    }),
  },
  {
    op: "postOrderEvents",
    method: "POST",
    path: "/v1/orders/events",
    params: () => ({}),
    body: () => {
      const orderId = next("order");
      const placed = {
        eventId: `${orderId}-e1`,
        type: "placed",
        orderId,
        customerId: CUSTOMER,
        sequence: 1,
        occurredAt: "2026-01-15T09:00:00Z",
        lines: LINES,
        paymentMethod: "other_card",
        spend: { bonus: 1 },
      };
      const paid = {
        eventId: `${orderId}-e2`,
        type: "paid",
        orderId,
        customerId: CUSTOMER,
        occurredAt: "2026-01-15T09:01:00Z",
      };
      const returned = {
        eventId: `${orderId}-e3`,
        type: "returned",
        orderId,
        customerId: CUSTOMER,
        occurredAt: "2026-01-15T09:02:00Z",
        lines: [{ lineId: "A", quantity: 1 }],
      };
      return unique % 2 === 0 ? placed : { events: [placed, paid, returned] };
    },
  },
  {
    op: "getOrder",
    method: "GET",
    path: "/v1/orders/:orderId",
    params: () => ({ orderId: "fz-order" }),
    query: () => ({ customerId: CUSTOMER }),
  },
  { op: "getProgrammeConfig", method: "GET", path: "/v1/config/programme", params: () => ({}) },
  {
    op: "addProgrammeConfigVersion",
    method: "POST",
    path: "/v1/config/programme",
    params: () => ({}),
    body: () => ({
      config: {
        earning: {
          baseRateBp: { byCategory: { electronics: 100, books: 300 }, otherwise: 200 },
          cardBonusBp: { byCategory: {}, otherwise: 100 },
          bonusCapBp: 5000,
          savingsCapBp: 10000,
          referralCapBp: { byCategory: {}, otherwise: 3000 },
          minMoneyPerUnitKop: 100,
          categoryNames: { books: { ru: "Книги", en: "Books" } },
        },
        lifecycle: { pendingDelayHours: 24, expiryDays: 365, holdTimeoutSeconds: 1800, refundGraceDays: 30 },
      },
      effectiveFrom: "2027-01-01T00:00:00Z",
      reason: "fuzz: a new version",
    }),
  },
  {
    op: "setSellerProductPoints",
    method: "PUT",
    path: "/v1/sellers/:sellerId/products/:sku/points",
    params: () => ({ sellerId: "s-1", sku: "jacket" }),
    body: () => ({ pointsPerUnit: 3 }),
  },
  {
    op: "revokeCustomerTokens",
    method: "POST",
    path: "/v1/customers/:customerId/tokens/revoke",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ reason: "fuzz: a lost phone" }),
  },
  {
    op: "listWaitingOrderEvents",
    method: "GET",
    path: "/v1/order-events/waiting",
    params: () => ({}),
    query: () => ({ olderThanSeconds: "0", limit: "5" }),
  },
  {
    op: "recordSavingsDeposit",
    method: "POST",
    path: "/v1/customers/:customerId/savings/deposits",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ id: next("sav-dep"), amount: 5_000_000, occurredAt: "2026-01-10T09:00:00Z" }),
  },
  {
    op: "recordSavingsWithdrawal",
    method: "POST",
    path: "/v1/customers/:customerId/savings/withdrawals",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ id: next("sav-wd"), amount: 100, occurredAt: "2026-01-12T09:00:00Z" }),
  },
  {
    op: "getSavingsAccount",
    method: "GET",
    path: "/v1/customers/:customerId/savings",
    params: () => ({ customerId: CUSTOMER }),
  },
  {
    op: "setSavingsRate",
    method: "PUT",
    path: "/v1/customers/:customerId/savings/rate",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ rateBp: 1500 }),
  },
  {
    op: "setSavingsMechanic",
    method: "PUT",
    path: "/v1/customers/:customerId/savings/mechanic",
    params: () => ({ customerId: CUSTOMER }),
    body: () => ({ mechanic: "cashback" }),
  },
  {
    op: "calculateSavingsInterest",
    method: "GET",
    path: "/v1/customers/:customerId/savings/calculator",
    params: () => ({ customerId: CUSTOMER }),
    query: () => ({ amount: "5000000", months: "12", rateBp: "1200" }),
  },
  {
    op: "reportReview",
    method: "POST",
    path: "/v1/reviews",
    params: () => ({}),
    body: () => ({
      reviewId: next("fz-review"),
      customerId: CUSTOMER,
      sku: "jacket",
      sellerId: "s-1",
      orderId: "fz-order",
      textLength: 250,
      photoCount: 2,
      submittedAt: "2026-01-15T09:00:00Z",
    }),
  },
  {
    op: "approveReview",
    method: "POST",
    path: "/v1/reviews/:reviewId/approve",
    params: () => ({ reviewId: "fz-review-x" }),
    body: () => ({ customerId: CUSTOMER }),
  },
  {
    op: "rejectReview",
    method: "POST",
    path: "/v1/reviews/:reviewId/reject",
    params: () => ({ reviewId: "fz-review-x" }),
    body: () => ({ customerId: CUSTOMER }),
  },
  {
    op: "listUnmoderatedReviews",
    method: "GET",
    path: "/v1/reviews/unmoderated",
    params: () => ({}),
    query: () => ({ olderThanDays: "3", limit: "10" }),
  },
  {
    op: "fundReviewBudget",
    method: "POST",
    path: "/v1/sellers/:sellerId/review-budget/fundings",
    params: () => ({ sellerId: "s-1" }),
    body: () => ({ fundingId: next("fz-funding"), points: 100 }),
  },
  {
    op: "getReviewBudget",
    method: "GET",
    path: "/v1/sellers/:sellerId/review-budget",
    params: () => ({ sellerId: "s-1" }),
  },
  // R26: combinable and on a product of its own each time, so valid ones never contradict each other.
  {
    op: "createCampaign",
    method: "POST",
    path: "/v1/campaigns",
    params: () => ({}),
    body: () => ({
      name: { ru: "Чёрная пятница", en: "Black Friday" },
      conditions: {
        startsAt: "2026-11-27T00:00:00",
        endsAt: "2026-12-01T00:00:00+03:00",
        categories: ["electronics"],
        skus: [next("fz-sku")],
        minOrderTotalKop: 500_000,
        paymentMethods: ["marketplace_card"],
        segmentId: null,
      },
      effect: { type: "rate_multiplier", multiplierBp: 20_000 },
      combinable: true,
      budgetPoints: 1_000_000,
    }),
  },
  {
    op: "listCampaigns",
    method: "GET",
    path: "/v1/campaigns",
    params: () => ({}),
    query: () => ({ state: "active", limit: "5" }),
  },
];

// ---------------------------------------------------------------------------------------------------
// Hostile values

const STRINGS = [
  "",
  " ",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e3",
  "0x10",
  " 1",
  "1 ",
  "-0",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "١٢٣",
  "１２３",
  "\u0000",
  "abc\u0000def",
  "\uD800",
  "a\uDFFFb",
  "\uFEFFbonus",
  "\u202Ebonus",
  "مرحبا بالعالم",
  "שָׁלוֹם",
  "👨‍👩‍👧‍👦🔥💳",
  "Z̷̧̛a̶l̸g̷o̵",
  "bonus\n",
  "bonus ",
  "BONUS",
  "'; drop table lots; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as is
  "${7*7}{{7*7}}<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%00%2e%2e%2f",
  "seller:s-1",
  "seller:",
  `campaign:${"x".repeat(65)}`,
  "2026-02-30T25:61:61Z",
  "2026-01-15",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999Z",
  "275760-09-13T00:00:00.000Z",
  "x".repeat(65),
  "x".repeat(129),
  "x".repeat(501),
  "x".repeat(100_000),
];

const NUMBERS = [
  0,
  -0,
  -1,
  1,
  1.5,
  0.1,
  -1e-300,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  MAX_AMOUNT,
  MAX_AMOUNT + 1,
  -MAX_AMOUNT,
  -MAX_AMOUNT - 1,
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 64 }) },
);

const hostileScalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false) },
);

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileScalar, { maxKeys: 4 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
);

const extraKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "", "$where", "a.b", "kind ", "Kind", "toString"),
  hostileString,
);

/** One change to a valid body. `at` picks among the body's paths. */
type BodyEdit =
  | { type: "set"; at: number; value: Json }
  | { type: "text"; at: number; value: string }
  | { type: "number"; at: number; value: number }
  | { type: "delete"; at: number }
  | { type: "add"; at: number; key: string; value: Json }
  | { type: "replace"; value: Json };

const bodyEdit: fc.Arbitrary<BodyEdit> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ type: fc.constant("set" as const), at: fc.nat(), value: hostileValue }),
  },
  // Type-preserving: a string field gets a hostile string, a number field a hostile number, so that more
  // requests get past the schema into the use cases and the database.
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("text" as const), at: fc.nat(), value: hostileString }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("number" as const),
      at: fc.nat(),
      value: fc.oneof(
        fc.constantFrom(...NUMBERS),
        fc.integer({ min: -5, max: 100_000 }),
        fc.nat({ max: MAX_AMOUNT }),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("delete" as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("add" as const),
      at: fc.nat(),
      key: extraKey,
      value: hostileValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("replace" as const), value: hostileValue }) },
);

/** Paths to every object or array inside a value (for add) and every member (for set and delete). */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

function containerAt(root: Json, path: (string | number)[]): Json {
  let at: Json = root;
  for (const k of path) at = (at as Record<string, Json>)[k as string] as Json;
  return at;
}

function applyEdits(body: Json, edits: BodyEdit[]): Json {
  let result: Json = structuredClone(body);
  for (const edit of edits) {
    if (edit.type === "replace") {
      result = edit.value;
      continue;
    }
    const all = paths(result);
    if (edit.type === "text" || edit.type === "number") {
      const wanted = edit.type === "text" ? "string" : "number";
      const leaves = all.filter((p) => typeof containerAt(result, p) === wanted);
      const path = leaves[edit.at % Math.max(leaves.length, 1)];
      if (!path) continue;
      const parent = containerAt(result, path.slice(0, -1)) as Record<string, Json>;
      parent[path[path.length - 1] as string] = edit.value;
      continue;
    }
    if (edit.type === "add") {
      const containers = [[], ...all].filter((p) => {
        const c = containerAt(result, p);
        return c !== null && typeof c === "object" && !Array.isArray(c);
      });
      const target = containerAt(result, containers[edit.at % containers.length] ?? []);
      if (target && typeof target === "object" && !Array.isArray(target)) {
        // defineProperty: "__proto__" becomes a real key in the JSON, as a hostile client would send it.
        Object.defineProperty(target, edit.key, {
          value: edit.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    const path = all[edit.at % Math.max(all.length, 1)];
    if (!path) continue;
    const parent = containerAt(result, path.slice(0, -1));
    const key = path[path.length - 1] as string | number;
    if (parent === null || typeof parent !== "object") continue;
    if (edit.type === "set") (parent as Record<string, Json>)[key as string] = edit.value;
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, Json>)[key as string];
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Requests

type Credential =
  | "operator"
  | "support"
  | "readonly"
  | "seller"
  | "otherSeller"
  | "customerSelf"
  | "customerOther"
  | "none"
  | "expired"
  | "unsigned"
  | "otherSecret"
  | "hugeSubject"
  | "weirdSubject"
  | "revoked";

const credential = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Credential>("operator") },
  {
    weight: 4,
    arbitrary: fc.constantFrom<Credential>(
      "support",
      "readonly",
      "seller",
      "otherSeller",
      "customerSelf",
      "customerOther",
      "none",
      "expired",
      "unsigned",
      "otherSecret",
      "hugeSubject",
      "weirdSubject",
      "revoked",
    ),
  },
  // A raw Authorization header: other schemes, garbage, huge.
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(
        "Basic b3BlcmF0b3I6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "bearer kpk_x",
        "Bearer kpk_",
        "Bearer kpk_\u00ff\u00fe",
        "Bearer eyJhbGciOiJub25lIn0.e30.",
        "Bearer a.b.c",
        "Bearer ..",
        `Bearer ${"A".repeat(100_000)}`,
        `Bearer kpk_${"A".repeat(20_000)}`,
        "Digest username=x",
        "Bearer\tkpk_x",
      ),
      fc.string({ unit: "grapheme-ascii", maxLength: 80 }).map((s) => `Bearer ${s}`),
    ),
  },
);

const idempotency = fc.oneof(
  { weight: 10, arbitrary: fc.constant<"unique">("unique") },
  { weight: 1, arbitrary: fc.constant<"missing">("missing") },
  { weight: 1, arbitrary: fc.constant<"reused">("reused") },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        "",
        " ",
        "a b",
        "ключ",
        "k\u00e9y",
        "x".repeat(256),
        "x".repeat(10_000),
        "%00",
        "a/b",
        "a,b",
        "🔑",
      ),
      fc.string({ unit: "grapheme-ascii", maxLength: 300 }),
    ),
  },
);

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/xml",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "application/jsonx",
  ";;;",
  "",
  "*/*",
];

/** How the body is sent: JSON of the (edited) body, or something no JSON client would send. */
const bodyShape = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: "json" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("contentType" as const),
      type: fc.constantFrom(...CONTENT_TYPES),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("malformed" as const),
      how: fc.constantFrom(
        "truncate",
        "trailingComma",
        "singleQuotes",
        "nan",
        "comment",
        "bom",
        "empty",
        "garbage",
        "duplicateKeys",
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deep" as const),
      levels: fc.constantFrom(10_000, 100_000),
      shape: fc.constantFrom("array", "object"),
      where: fc.constantFrom("root", "field"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("huge" as const), megabytes: fc.constantFrom(1.1, 2, 5) }),
  },
);

const paramValue = fc.oneof(
  { weight: 8, arbitrary: fc.constant<string | null>(null) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        "",
        "x".repeat(65),
        "x".repeat(101),
        "x".repeat(5_000),
        "a b",
        "ключ",
        "👨‍👩‍👧",
        "\u202Efz-1",
        "a/b",
        "..",
        ".",
        "%",
        "\u0000",
        "fz-1\u0000",
        "fz-2",
        "fz-hold-released",
        "fz-hold-missing",
      ),
      fc.string({ unit: "binary", maxLength: 20 }),
    ),
  },
);

/** Path segments written raw into the URL, not percent-encoded. */
const RAW_SEGMENTS = [
  "%E0%A4%A",
  "%",
  "%zz",
  "%00",
  "%2F",
  "%2e%2e",
  "..",
  "a%20b",
  "%C0%AF",
  "%FF%FE",
  ";",
  "a?b",
];

const queryShape = fc.oneof(
  { weight: 6, arbitrary: fc.constant<string | null>(null) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=1.5",
        "limit=NaN",
        "limit=1e2",
        "limit=%00",
        "limit=1&limit=2",
        "limit[]=1",
        "limit[a]=1",
        "cursor=mov_XXXXXXXXXXXXXXXXXXXXXXXXXX",
        "cursor=mov_01",
        "cursor=%E0%A4%A",
        "customerId=",
        "customerId=fz-2",
        "customerId=fz-1&customerId=fz-2",
        "customerId=%00",
        "__proto__[x]=1",
        "constructor=1",
        "a=1&".repeat(5_000),
        `x=${"y".repeat(50_000)}`,
        "=",
        "&&&",
        "%",
      ),
      fc.string({ unit: "grapheme-ascii", maxLength: 60 }).map((s) => encodeURIComponent(s)),
    ),
  },
);

const methodChange = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | null>(null) },
  { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD") },
);

const fuzzCase = fc.record({
  edits: fc.array(bodyEdit, { minLength: 0, maxLength: 3 }),
  shape: bodyShape,
  credential,
  idempotency,
  params: fc.dictionary(fc.constantFrom("customerId", "holdId", "orderId", "sellerId", "sku"), paramValue, {
    maxKeys: 2,
  }),
  rawSegment: fc.oneof(
    { weight: 12, arbitrary: fc.constant<string | null>(null) },
    { weight: 1, arbitrary: fc.constantFrom<string | null>(...RAW_SEGMENTS) },
  ),
  query: queryShape,
  method: methodChange,
});
type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

function deep(levels: number, shape: "array" | "object"): string {
  return shape === "array"
    ? `${"[".repeat(levels)}1${"]".repeat(levels)}`
    : `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

function malformed(json: string, how: string): string {
  switch (how) {
    case "truncate":
      return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
    case "trailingComma":
      return json.endsWith("}") ? `${json.slice(0, -1)},}` : `${json},`;
    case "singleQuotes":
      return json.replaceAll('"', "'");
    case "nan":
      return json.replace(/:\s*-?\d+/, ":NaN");
    case "comment":
      return `/* hi */${json}`;
    case "bom":
      return `\uFEFF${json}`;
    case "empty":
      return "";
    case "duplicateKeys":
      return json.startsWith("{") ? `{"kind":"bonus","kind":"x",${json.slice(1)}` : json;
    default:
      return "\u0000\u0001garbage{";
  }
}

interface BuiltRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  describe: string;
}

// ---------------------------------------------------------------------------------------------------
// The ledger before and after

async function ledgerState(h: Harness): Promise<string> {
  const r = await sql<Record<string, unknown>>`select
      (select count(*) from movements) as movements,
      (select count(*) from lots) as lots,
      (select coalesce(sum(remaining), 0) from lots) as lots_remaining,
      (select count(*) from holds) as holds,
      (select coalesce(string_agg(hold_id || ':' || state, ',' order by customer_id, hold_id), '') from holds) as hold_states,
      (select count(*) from redemptions) as redemptions,
      (select coalesce(sum(refunded), 0) from redemptions) as refunded,
      (select count(*) from orders) as orders,
      (select coalesce(string_agg(md5(progress::text || state), ',' order by customer_id, order_id), '') from orders) as order_documents,
      (select coalesce(string_agg(concat_ws(':', customer_id, kind, available, pending, held, debt), ',' order by customer_id, kind), '') from balances) as balances,
      (select count(*) from programme_config_versions) as config_versions,
      (select coalesce(string_agg(concat_ws(':', seller_id, sku, points_per_unit), ',' order by seller_id, sku), '') from seller_product_points) as seller_points,
      (select count(*) from api_keys) as api_keys,
      (select coalesce(string_agg(concat_ws(':', customer_id, balance, rate_bp), ',' order by customer_id), '') from savings_accounts) as savings_accounts,
      (select count(*) from savings_entries) as savings_entries`.execute(h.database.db);
  return JSON.stringify(r.rows[0]);
}

// ---------------------------------------------------------------------------------------------------

describe("API fuzzing: hostile requests against every route", () => {
  let h: Harness;
  const credentials = new Map<Credential, string>();
  /** The violations of the running test (each test checks its own requests). */
  const violations = new Map<
    string,
    { count: number; routes: Set<string>; example: BuiltRequest; status: number; body: string }
  >();
  /** Requests sent by the running test, and by the file (for the log). */
  let sentInTest = 0;
  let sent = 0;
  const kindsSeen = new Set<string>();
  let state = "";
  const statuses = new Map<number, number>();

  /** The error behind the last 5xx (the harness logs nothing), to tell causes apart. */
  let lastError: { code?: string; message?: string } | undefined;

  beforeAll(async () => {
    h = await httpHarness();
    h.app.addHook("onError", async (_request, _reply, error) => {
      lastError = error as { code?: string; message?: string };
    });
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);
    const token = (build: (jwt: SignJWT) => SignJWT, key: Uint8Array = secret) =>
      build(new SignJWT({}).setProtectedHeader({ alg: "HS256" })).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const revoked = await h.kopilka.access.createKey({ name: "revoked", role: "operator", sellerId: null });
    await h.database.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date() })
      .where("key_id", "=", revoked.keyId)
      .execute();
    credentials.set("operator", h.keys.operator);
    credentials.set("support", h.keys.support);
    credentials.set("readonly", h.keys.readonly);
    credentials.set("seller", h.keys.seller);
    credentials.set("otherSeller", h.keys.otherSeller);
    credentials.set("customerSelf", await h.customerToken(CUSTOMER));
    credentials.set("customerOther", await h.customerToken(OTHER));
    credentials.set(
      "expired",
      await token((t) =>
        t
          .setSubject(CUSTOMER)
          .setAudience("kopilka:customer")
          .setExpirationTime(now - 60),
      ),
    );
    credentials.set(
      "unsigned",
      `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: CUSTOMER, aud: "kopilka:customer", exp: now + 3600 })}.`,
    );
    credentials.set(
      "otherSecret",
      await token(
        (t) => t.setSubject(CUSTOMER).setAudience("kopilka:customer").setExpirationTime("1h"),
        new TextEncoder().encode("another-secret-another-secret-another-1"),
      ),
    );
    credentials.set("hugeSubject", await h.customerToken("x".repeat(20_000)));
    credentials.set("weirdSubject", await h.customerToken("fz-1\u0000\u202E👨‍👩‍👧"));
    credentials.set("revoked", revoked.secret);

    // A ledger for the routes to refuse things against: points, an open and a released hold, a spend, an order.
    const op = h.keys.operator;
    const must = async (res: { statusCode: number; body: string }) => {
      if (res.statusCode >= 300) {
        throw new Error(
          `setup: ${res.statusCode} ${res.body} ${lastError ? String((lastError as Error).stack) : ""}`,
        );
      }
    };
    for (const customerId of [CUSTOMER, OTHER]) {
      await must(
        await h.send({
          method: "POST",
          url: `/v1/customers/${customerId}/credits`,
          key: op,
          body: { kind: "bonus", amount: 5_000, source: "purchase", funder: "marketplace" },
        }),
      );
    }
    await must(
      await h.send({
        method: "POST",
        url: `/v1/customers/${CUSTOMER}/holds`,
        key: op,
        body: { holdId: "fz-hold-open", kind: "bonus", amount: 10 },
      }),
    );
    await must(
      await h.send({
        method: "POST",
        url: `/v1/customers/${CUSTOMER}/holds`,
        key: op,
        body: { holdId: "fz-hold-released", kind: "bonus", amount: 10 },
      }),
    );
    await must(
      await h.send({
        method: "POST",
        url: `/v1/customers/${CUSTOMER}/holds/fz-hold-released/release`,
        key: op,
      }),
    );
    await must(
      await h.send({
        method: "POST",
        url: `/v1/customers/${CUSTOMER}/spends`,
        key: op,
        body: { redemptionId: "fz-spend", kind: "bonus", amount: 100 },
      }),
    );
    await must(
      await h.send({
        method: "POST",
        url: "/v1/orders/events",
        key: op,
        body: {
          eventId: "fz-order-e1",
          type: "placed",
          orderId: "fz-order",
          customerId: CUSTOMER,
          occurredAt: "2026-01-15T09:00:00Z",
          lines: LINES,
          paymentMethod: "marketplace_card",
          spend: { bonus: 50 },
        },
      }),
    );
  });

  beforeEach(async () => {
    violations.clear();
    sentInTest = 0;
    state = await ledgerState(h);
  });

  afterAll(async () => {
    const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`);
    console.log(
      `[fuzz] seed ${SEED}: ${sent} requests, statuses ${summary.join(", ")}; ${kindsSeen.size} kinds of violation`,
    );
    await h.close();
  });

  function build(route: FuzzRoute, c: FuzzCase): BuiltRequest {
    const method = c.method ?? route.method;
    const params = { ...route.params() };
    const notes: string[] = [];
    for (const [name, value] of Object.entries(c.params)) {
      if (value !== null && name in params) {
        params[name] = value;
        notes.push(`param ${name}=${JSON.stringify(value).slice(0, 40)}`);
      }
    }
    let path = route.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
    const raw = c.rawSegment;
    if (raw !== null) {
      const names = Object.keys(params);
      if (names.length > 0) {
        const name = names[(raw.length + unique) % names.length] as string;
        path = route.path.replace(/:(\w+)/g, (_, n: string) =>
          n === name ? raw : encodeURIComponent(params[n] ?? ""),
        );
        notes.push(`raw segment ${name}=${raw}`);
      } else {
        path = `${path}/${raw}`;
        notes.push(`raw segment ${raw}`);
      }
    }
    const query = c.query ?? (route.query ? new URLSearchParams(route.query()).toString() : "");
    if (c.query !== null) notes.push(`query ${c.query.slice(0, 40)}`);
    const headers: Record<string, string> = {};
    if (typeof c.credential === "string" && credentials.has(c.credential as Credential)) {
      if (c.credential !== "none")
        headers.authorization = `Bearer ${credentials.get(c.credential as Credential)}`;
      if (c.credential !== "operator") notes.push(`credential ${c.credential}`);
    } else if (c.credential !== "none") {
      headers.authorization = c.credential;
      notes.push(`authorization ${c.credential.slice(0, 40)}`);
    }
    if (method !== "GET" && method !== "HEAD") {
      if (c.idempotency === "unique") headers["idempotency-key"] = next("fuzz-key");
      else if (c.idempotency === "reused") headers["idempotency-key"] = "fuzz-reused-key";
      else if (c.idempotency !== "missing") {
        // Header values travel as latin1 bytes: what a client sending UTF-8 would put on the wire.
        headers["idempotency-key"] = Buffer.from(c.idempotency, "utf8").toString("latin1");
      }
      if (c.idempotency !== "unique") notes.push(`idempotency-key ${c.idempotency.slice(0, 40)}`);
    }
    let payload: string | undefined;
    const valid = route.body?.();
    const body = valid === undefined && c.edits.length === 0 ? undefined : applyEdits(valid ?? {}, c.edits);
    if (c.edits.length > 0) notes.push(`edits ${JSON.stringify(c.edits).slice(0, 200)}`);
    const json = body === undefined ? undefined : JSON.stringify(body);
    switch (c.shape.kind) {
      case "json":
        if (json !== undefined) {
          headers["content-type"] = "application/json";
          payload = json;
        }
        break;
      case "contentType":
        if (c.shape.type !== "") headers["content-type"] = c.shape.type;
        payload = json ?? "{}";
        notes.push(`content-type ${c.shape.type || "(none)"}`);
        break;
      case "none":
        notes.push("no body");
        break;
      case "malformed":
        headers["content-type"] = "application/json";
        payload = malformed(json ?? "{}", c.shape.how);
        notes.push(`malformed JSON (${c.shape.how})`);
        break;
      case "deep": {
        headers["content-type"] = "application/json";
        const nested = deep(c.shape.levels, c.shape.shape as "array" | "object");
        payload =
          c.shape.where === "root" || json === undefined || !json.startsWith("{")
            ? nested
            : `{"nested":${nested},${json.slice(1)}`;
        notes.push(`${c.shape.levels} levels of ${c.shape.shape} at ${c.shape.where}`);
        break;
      }
      case "huge": {
        headers["content-type"] = "application/json";
        payload = JSON.stringify({
          ...(typeof body === "object" && body && !Array.isArray(body) ? body : {}),
          padding: "p".repeat(Math.floor(c.shape.megabytes * 1024 * 1024)),
        });
        notes.push(`${c.shape.megabytes} MiB body`);
        break;
      }
    }
    if (c.method !== null) notes.push(`method ${c.method}`);
    return {
      method,
      url: query ? `${path}?${query}` : path,
      headers,
      ...(payload === undefined ? {} : { payload }),
      describe: notes.join("; ") || "(valid request)",
    };
  }

  /** Violations are grouped by kind across routes, keeping the smallest example of each. */
  function record(op: string, kind: string, request: BuiltRequest, status: number, body: string) {
    kindsSeen.add(kind);
    const existing = violations.get(kind);
    const size = (r: BuiltRequest) =>
      r.url.length + (r.payload?.length ?? 0) + JSON.stringify(r.headers).length;
    if (!existing) violations.set(kind, { count: 1, routes: new Set([op]), example: request, status, body });
    else {
      existing.count += 1;
      existing.routes.add(op);
      if (size(request) < size(existing.example)) {
        existing.example = request;
        existing.status = status;
        existing.body = body;
      }
    }
  }

  async function check(op: string, request: BuiltRequest) {
    sent += 1;
    sentInTest += 1;
    lastError = undefined;
    let res: Awaited<ReturnType<Harness["app"]["inject"]>>;
    try {
      res = await h.app.inject({
        method: request.method as "GET",
        url: request.url,
        headers: request.headers,
        ...(request.payload === undefined ? {} : { payload: request.payload }),
      });
    } catch (error) {
      record(
        op,
        `[send] the request could not be sent (${(error as Error).message.slice(0, 80)})`,
        request,
        0,
        "",
      );
      return;
    }
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const after = await ledgerState(h);
    const changed = after !== state;
    state = after;
    if (res.statusCode >= 500) {
      const code = (() => {
        try {
          return (JSON.parse(res.body) as { error?: { code?: string } }).error?.code;
        } catch {
          return undefined;
        }
      })();
      const error = lastError as { code?: string; message?: string } | undefined;
      const cause = error ? ` (${error.code ?? "no code"}: ${String(error.message).slice(0, 90)})` : "";
      record(
        op,
        `[5xx] ${res.statusCode} ${code ?? "(no envelope)"}${cause}`,
        request,
        res.statusCode,
        res.body,
      );
    }
    if (res.statusCode >= 400) {
      if (changed)
        record(
          op,
          `[ledger] a ${res.statusCode} refusal changed the ledger`,
          request,
          res.statusCode,
          res.body,
        );
      if (request.method === "HEAD") return;
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
      const shapeOk =
        body !== null &&
        typeof body === "object" &&
        Object.keys(body).join() === "error" &&
        error !== null &&
        typeof error === "object" &&
        Object.keys(error).sort().join() === "code,details,message,requestId" &&
        typeof error.message === "string" &&
        typeof error.requestId === "string" &&
        error.details !== null &&
        typeof error.details === "object";
      if (!shapeOk) {
        const fastifyCode = (body as { code?: string } | undefined)?.code;
        record(
          op,
          `[envelope] ${res.statusCode} is not the error envelope (${fastifyCode ?? "no code"})`,
          request,
          res.statusCode,
          res.body,
        );
        return;
      }
      const code = String(error?.code);
      if (!(ERROR_CODES as readonly string[]).includes(code)) {
        record(
          op,
          `[envelope] ${res.statusCode} with code ${code}, not in ERROR_CODES`,
          request,
          res.statusCode,
          res.body,
        );
      } else if (statusOf(code as ErrorCode) !== res.statusCode) {
        record(
          op,
          `[envelope] ${code} came with ${res.statusCode}, not ${statusOf(code as ErrorCode)}`,
          request,
          res.statusCode,
          res.body,
        );
      }
    }
    if (/"name"\s*:\s*"kopilka"|BEGIN [A-Z ]*PRIVATE KEY|root:x:0:0/.test(res.body)) {
      record(
        op,
        `[served] something outside the API was served`,
        request,
        res.statusCode,
        res.body.slice(0, 200),
      );
    }
  }

  function report(filter: (kind: string) => boolean): string[] {
    return [...violations.entries()]
      .filter(([kind]) => filter(kind))
      .map(
        ([kind, v]) =>
          `${kind} — ${v.count}× on ${[...v.routes].join(", ")}; e.g. ${v.example.method} ${v.example.url.slice(0, 120)} [${v.example.describe.slice(0, 300)}] → ${v.status} ${v.body.slice(0, 200)}`,
      );
  }

  /**
   * What every test asserts on the requests it sent itself: each could be sent, none got a 5xx, every
   * 4xx is the error envelope with a listed code and that code's status, no refusal changed the ledger,
   * nothing outside the API was served, and the service still answers for the hammered customer.
   */
  async function expectNoViolations(minimumSent: number) {
    expect(sentInTest, "requests this test sent").toBeGreaterThanOrEqual(minimumSent);
    expect({
      send: report((k) => k.startsWith("[send]")),
      "5xx": report((k) => k.startsWith("[5xx]")),
      envelope: report((k) => k.startsWith("[envelope]")),
      "refusal changed the ledger": report((k) => k.startsWith("[ledger]")),
      "served outside the API": report((k) => k.startsWith("[served]")),
    }).toEqual({
      send: [],
      "5xx": [],
      envelope: [],
      "refusal changed the ledger": [],
      "served outside the API": [],
    });
    const res = await h.send({
      method: "GET",
      url: `/v1/customers/${CUSTOMER}/balance`,
      key: h.keys.operator,
    });
    expect(res.statusCode).toBe(200);
  }

  it.each(ROUTES.map((route) => [route.op, route] as const))(
    `%s: ${RUNS} hostile requests get no 5xx, only the error envelope, and refusals change nothing`,
    async (_op, route) => {
      const samples = fc.sample(fuzzCase, {
        numRuns: RUNS,
        seed: SEED + route.op.length * 7919 + route.op.charCodeAt(0),
      });
      for (const c of samples) await check(route.op, build(route, c));
      await expectNoViolations(RUNS);
    },
  );

  it("public and unknown paths, with every method, get no 5xx and serve nothing outside the API", async () => {
    const publicUrls = [
      "/health",
      "/ready",
      "/openapi.json",
      "/docs",
      "/docs/",
      "/docs/json",
      "/docs/yaml",
      "/docs/static/index.html",
      "/docs/static/%2e%2e/%2e%2e/package.json",
      "/docs/static/..%2f..%2fpackage.json",
      "/docs/static/%E0%A4%A",
      "/docs/%00",
      "/../../package.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/v1",
      "/v1/",
      "/v1/customers",
      "/v1/customers//balance",
      "/v1/customers/fz-1",
      "/v1/customers/fz-1/balance/extra",
      "/v1/orders",
      "/v2/customers/fz-1/balance",
      "//",
      "/?a=%",
      `/${"x".repeat(10_000)}`,
      "/v1/customers/fz-1/balance#frag",
    ];
    const publicUrlCount = publicUrls.length;
    for (const url of publicUrls) {
      for (const method of ["GET", "POST", "DELETE", "OPTIONS"]) {
        await check("public", {
          method,
          url,
          headers: { authorization: `Bearer ${h.keys.operator}` },
          describe: "public path",
        });
      }
    }
    for (const s of fc.sample(fc.string({ unit: "grapheme-ascii", maxLength: 50 }), {
      numRuns: 60,
      seed: SEED,
    })) {
      await check("public", {
        method: "GET",
        url: `/${encodeURIComponent(s)}`,
        headers: {},
        describe: "random path",
      });
    }
    await expectNoViolations(publicUrlCount * 4 + 60);
  });

  it("sweeps every string and number field of every route with hostile values of the right type", async () => {
    // Deterministic, and complementary to the random cases: the rest of the request stays valid, so each
    // value reaches as far as it can (schema, use case, database).
    const began = Date.now();
    const before = sent;
    const texts = [
      "\u0000",
      "abc\u0000def",
      "a\uD800b",
      "ab\uDFFF",
      "\u202Eevil\u202C",
      "👨‍👩‍👧‍👦🔥",
      "مرحبا بالعالم",
      "   ",
      "\t\n\r",
      "x".repeat(100_000),
      "'; drop table lots; --",
    ];
    const numbers = [0, -1, 1.5, 2 ** 53 + 2, MAX_AMOUNT, MAX_AMOUNT + 1, -MAX_AMOUNT - 1, 1e308];
    for (const route of ROUTES) {
      const valid = route.body?.();
      if (valid === undefined) continue;
      const leaves = paths(valid).filter((p) => ["string", "number"].includes(typeof containerAt(valid, p)));
      for (const leaf of leaves) {
        const values: Json[] = typeof containerAt(valid, leaf) === "string" ? texts : numbers;
        for (const value of values) {
          // A fresh valid body (new ids) of the same shape as the one the leaves came from.
          let body = route.body?.() as Json;
          while (Object.keys(body ?? {}).join() !== Object.keys(valid ?? {}).join())
            body = route.body?.() as Json;
          const parent = containerAt(body, leaf.slice(0, -1)) as Record<string, Json>;
          if (!parent || typeof parent !== "object") continue;
          parent[leaf[leaf.length - 1] as string] = value;
          const params = route.params();
          const path = route.path.replace(/:(\w+)/g, (_, name: string) =>
            encodeURIComponent(params[name] ?? ""),
          );
          const query = route.query ? `?${new URLSearchParams(route.query()).toString()}` : "";
          await check(route.op, {
            method: route.method,
            url: `${path}${query}`,
            headers: {
              authorization: `Bearer ${h.keys.operator}`,
              "content-type": "application/json",
              "idempotency-key": next("sweep"),
            },
            payload: JSON.stringify(body),
            describe: `${leaf.join(".")} = ${JSON.stringify(value).slice(0, 40)}`,
          });
        }
      }
    }
    console.log(`[fuzz] swept ${sent - before} typed values in ${Date.now() - began} ms`);
    // A floor, not the count (853 when this was written): a sweep that lost its routes or values fails.
    await expectNoViolations(500);
  });
});
