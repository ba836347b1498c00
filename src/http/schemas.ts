import { type TSchema, Type } from "typebox";
import { MAX_AMOUNT, POINT_KINDS } from "../domain/kinds.js";
import { CREDIT_SOURCES, FUNDER_PATTERN, MOVEMENT_TYPES } from "../domain/ledger/index.js";

/** Shared request and response schemas: they validate, document (OpenAPI) and type the routes. */

export const literals = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], description });

/** A request field that may also be null: one schema (a type list), so a bad value gets one error. */
export function nullable<T>(schema: TSchema & { type: string }, description: string) {
  return Type.Unsafe<T | null>({ ...schema, type: [schema.type, "null"], description });
}

export const Id = (description: string) =>
  Type.String({
    pattern: "^[A-Za-z0-9_.:-]{1,64}$",
    description: `${description}: 1-64 of A-Z a-z 0-9 _ . : -`,
  });

export const CustomerParams = Type.Object({ customerId: Id("The marketplace's customer id") });
export const HoldParams = Type.Object({
  customerId: Id("The marketplace's customer id"),
  holdId: Id("Hold id"),
});

export const PointKindSchema = literals(POINT_KINDS, "R2: the kind of points");
export const CreditSourceSchema = literals(CREDIT_SOURCES, "Where the points come from");
export const Points = (description: string) =>
  Type.Integer({
    minimum: 1,
    maximum: MAX_AMOUNT,
    description: `${description} (whole points, 1 point = 1 RUB)`,
  });
export const Funder = Type.String({
  pattern: FUNDER_PATTERN.source,
  description:
    "Who pays for the points: marketplace, seller:<id>, campaign:<id>, savings_interest, savings_cashback, manager_programme",
});
/**
 * An RFC 3339 instant in the years 2000-2199 with seconds 00-59: a leap second (…:60) or a year
 * beyond 9999 would not survive the round trip through a JavaScript Date.
 */
export const Instant = (description: string) =>
  Type.String({
    format: "date-time",
    pattern:
      "^2[01][0-9]{2}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$",
    description: `${description} (RFC 3339, years 2000-2199)`,
  });

/**
 * Free text a person wrote: something besides spaces, and no NUL or unpaired surrogate (PostgreSQL
 * could not store them).
 */
export const Text = (options: { minLength: number; maxLength: number; description: string }) =>
  Type.String({ ...options, pattern: "^(?=[\\s\\S]*\\S)[^\\u0000\\uD800-\\uDFFF]*$" });
export const Reference = Text({
  minLength: 1,
  maxLength: 128,
  description: "Your reference (order id, review id…), shown in the explanation",
});

export const Explanation = Type.Object(
  { ru: Type.String(), en: Type.String() },
  { description: "R33: a human-readable explanation in Russian and English" },
);

export const LotSchema = Type.Object(
  {
    lotId: Type.String(),
    kind: PointKindSchema,
    amount: Type.Integer(),
    remaining: Type.Integer(),
    source: Type.String(),
    funder: Type.String(),
    state: Type.Union([Type.Literal("pending"), Type.Literal("available")]),
    availableFrom: Type.String({ format: "date-time" }),
    expiresAt: Type.String({ format: "date-time" }),
    reference: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: "Lot", description: "R3: a lot of points from one credit" },
);

export const HoldSchema = Type.Object(
  {
    holdId: Type.String(),
    kind: PointKindSchema,
    amount: Type.Integer(),
    state: Type.Union([Type.Literal("active"), Type.Literal("captured"), Type.Literal("released")]),
    releaseReason: Type.Union([Type.Literal("requested"), Type.Literal("timeout"), Type.Null()]),
    expiresAt: Type.String({ format: "date-time" }),
  },
  { $id: "Hold", description: "R20: points reserved for an unpaid order" },
);

export const RedemptionSchema = Type.Object(
  {
    redemptionId: Type.String(),
    kind: PointKindSchema,
    amount: Type.Integer(),
    refunded: Type.Integer(),
  },
  { $id: "Redemption", description: "Points spent on an order" },
);

const KindBalance = Type.Object({
  available: Type.Integer(),
  pending: Type.Integer({ description: "Credited, not yet available (R13)" }),
  held: Type.Integer({ description: "Reserved for unpaid orders (R20)" }),
  debt: Type.Integer({ description: "Owed from returns, netted against the next accruals (R14)" }),
  expiringSoon: Type.Object({
    amount: Type.Integer(),
    nearestDate: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    withinDays: Type.Integer(),
  }),
});

export const BalanceSchema = Type.Object(
  {
    customerId: Type.String(),
    asOf: Type.String({ format: "date-time" }),
    kinds: Type.Object({ bonus: KindBalance, savings: KindBalance, referral: KindBalance }),
  },
  { $id: "Balance", description: "R6: the balance per kind" },
);

export const MovementSchema = Type.Object(
  {
    movementId: Type.String(),
    kind: PointKindSchema,
    type: literals(MOVEMENT_TYPES, "What happened"),
    change: Type.Object(
      { available: Type.Integer(), pending: Type.Integer(), held: Type.Integer(), debt: Type.Integer() },
      { description: "How the customer's own balances changed" },
    ),
    postings: Type.Array(Type.Object({ account: Type.String(), amount: Type.Integer() }), {
      description: "R32: the double-entry postings; they sum to zero",
    }),
    reference: Type.Union([Type.String(), Type.Null()]),
    explanation: Explanation,
    actor: Type.String({ description: "Who caused it: an API key id, customer:<id> or system" }),
    occurredAt: Type.String({ format: "date-time" }),
  },
  { $id: "Movement" },
);

export function strictObject<T extends Record<string, TSchema>>(properties: T, description?: string) {
  return Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

export const HealthSchema = Type.Object({ status: Type.Literal("ok") });

/** A listing's page size as a query parameter: 1-500, 100 unless given. */
export const PageLimit = Type.Optional(
  Type.String({ pattern: "^(?:[1-9]|[1-9][0-9]|[1-4][0-9][0-9]|500)$", description: "1-500, default 100" }),
);

/** A listing's continuation: the `next` cursor its previous page gave. */
export const PageCursor = Type.Optional(
  Type.String({ minLength: 1, maxLength: 512, description: "The `next` cursor of the previous page" }),
);
