import { type Static, Type } from "typebox";
import {
  MAX_EXTRA_RATE_BP,
  MAX_FIXED_POINTS,
  MAX_LIST,
  MAX_MULTIPLIER_BP,
  PAYMENT_METHODS,
} from "../../../domain/campaigns/definition.js";
import { CAMPAIGN_STATES } from "../../../domain/campaigns/lifecycle.js";
import { MAX_AMOUNT } from "../../../domain/kinds.js";
import { Id, literals, nullable, PageLimit, strictObject, Text } from "../../schemas.js";

/*
 * R26: a campaign's body mirrors CampaignDefinition (src/domain/campaigns/definition.ts). The schema
 * checks shapes; the bounds of numbers and the window's order are validateCampaign's, which names
 * the field (the descriptions say them).
 */

const CAMPAIGN_ID = "^cmp_[0-9A-HJKMNP-TV-Z]{26}$";

export const CampaignParams = Type.Object({
  campaignId: Type.String({
    pattern: CAMPAIGN_ID,
    description: "The campaign's id (cmp_ and 26 base-32 digits)",
  }),
});

/** A window instant: RFC 3339 with an offset, or a local date-time read in KOPILKA_TIME_ZONE. */
const WindowInstant = (description: string) =>
  Type.String({
    pattern:
      "^2[01][0-9]{2}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?$",
    description: `${description}: RFC 3339 with an offset (2026-11-27T00:00:00+03:00, …Z), or a local date and time without one (2026-11-27T00:00:00), read on the wall clocks of the operator's time zone KOPILKA_TIME_ZONE`,
  });

const IdList = (description: string) =>
  nullable<string[]>(
    Type.Array(Id(description), { minItems: 1, maxItems: MAX_LIST, uniqueItems: true }),
    `${description}: 1-${MAX_LIST} distinct values; omitted or null: any`,
  );

const Conditions = strictObject(
  {
    startsAt: WindowInstant("When it starts (inclusive)"),
    endsAt: WindowInstant("When it ends (exclusive); after startsAt"),
    categories: Type.Optional(IdList("Lines in one of these categories")),
    sellers: Type.Optional(
      IdList("Lines of one of these sellers; a seller key's campaign: exactly its own id"),
    ),
    skus: Type.Optional(IdList("Lines of one of these products")),
    minOrderTotalKop: Type.Optional(
      Type.Integer({
        description: `The order's total at the prices charged must be at least this (inclusive), kopecks, 0-${MAX_AMOUNT}; default 0`,
      }),
    ),
    paymentMethods: Type.Optional(
      nullable<(typeof PAYMENT_METHODS)[number][]>(
        Type.Array(literals(PAYMENT_METHODS, "A payment method"), { minItems: 1, uniqueItems: true }),
        "Orders paid with one of these; omitted or null: any",
      ),
    ),
    premiumOnly: Type.Optional(
      Type.Boolean({ description: "R28: only for Premium subscribers; default false" }),
    ),
    segmentId: Type.Optional(
      nullable<string>(Id("R29: a segment"), "R29: only for members of this segment; null: all"),
    ),
  },
  "When and to what it applies: every condition given must hold",
);

const EFFECTS = Type.Union([
  strictObject(
    {
      type: Type.Literal("rate_multiplier"),
      multiplierBp: Type.Integer({
        description: `The category rate multiplied, basis points: ×2 is 20000; 10001-${MAX_MULTIPLIER_BP}`,
      }),
    },
    "The category rate (R7) multiplied on matching lines",
  ),
  strictObject(
    {
      type: Type.Literal("extra_rate"),
      rateBp: Type.Integer({
        description: `Basis points of the line's accrual base, 1-${MAX_EXTRA_RATE_BP}`,
      }),
    },
    "An extra percentage on matching lines",
  ),
  strictObject(
    {
      type: Type.Literal("order_points"),
      points: Type.Integer({
        description: `Whole points per order with a matching line, 1-${MAX_FIXED_POINTS}`,
      }),
    },
    "Fixed points per order (with minOrderTotalKop: «+200 from 5,000 RUB»)",
  ),
  strictObject(
    {
      type: Type.Literal("unit_points"),
      pointsPerUnit: Type.Integer({ description: `Whole points per matching unit, 1-${MAX_FIXED_POINTS}` }),
    },
    "Fixed points per matching unit",
  ),
]);

/** A union tagged by `type`: a bad value is reported against the branch it names (Ajv's discriminator). */
const Effect = Type.Unsafe<Static<typeof EFFECTS>>({
  type: "object",
  required: ["type"],
  discriminator: { propertyName: "type" },
  oneOf: EFFECTS.anyOf,
  description: "What it adds, by `type`",
});

const Name = strictObject(
  {
    ru: Text({ minLength: 1, maxLength: 200, description: "In Russian, as customers read it" }),
    en: Text({ minLength: 1, maxLength: 200, description: "In English" }),
  },
  "R33: the campaign's name in Russian and English",
);

export const CampaignBody = strictObject({
  name: Name,
  conditions: Conditions,
  effect: Effect,
  combinable: Type.Boolean({
    description:
      "Whether it stacks: on each line the combinable campaigns that match add up, a campaign that is not combinable stands alone, and the line gets whichever is more",
  }),
  budgetPoints: Type.Optional(
    nullable<number>(
      Type.Integer({ description: "" }),
      `The most points it may accrue in all, 1-${MAX_AMOUNT}; omitted or null: no budget`,
    ),
  ),
});

const nullOr = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const DefinitionProperties = {
  name: Type.Object({ ru: Type.String(), en: Type.String() }),
  conditions: Type.Object({
    startsAt: Type.String({ format: "date-time" }),
    endsAt: Type.String({ format: "date-time" }),
    categories: nullOr(Type.Array(Type.String())),
    sellers: nullOr(Type.Array(Type.String())),
    skus: nullOr(Type.Array(Type.String())),
    minOrderTotalKop: Type.Integer(),
    paymentMethods: nullOr(Type.Array(literals(PAYMENT_METHODS, "A payment method"))),
    premiumOnly: Type.Boolean(),
    segmentId: nullOr(Type.String()),
  }),
  effect: EFFECTS,
  combinable: Type.Boolean(),
  budgetPoints: nullOr(Type.Integer()),
};

export const CampaignStateSchema = literals(
  CAMPAIGN_STATES,
  "draft until published; then scheduled before startsAt, active within the window, ended from endsAt or once ended",
);

export const CampaignSchema = Type.Object(
  {
    campaignId: Type.String({ description: "cmp_…" }),
    funder: Type.String({ description: "Who pays its points: marketplace, or seller:<id>" }),
    state: CampaignStateSchema,
    version: Type.Integer({ description: "The current version (1 when made; each change adds one)" }),
    ...DefinitionProperties,
    publishedAt: nullOr(Type.String({ format: "date-time" })),
    endedAt: nullOr(Type.String({ format: "date-time", description: "When it was ended through …/end" })),
    createdAt: Type.String({ format: "date-time" }),
    createdBy: Type.String({ description: "The API key that made it" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "Campaign", description: "R26: a campaign, its current version and its state now" },
);

export const CampaignVersionSchema = Type.Object(
  {
    version: Type.Integer(),
    createdAt: Type.String({ format: "date-time", description: "In force for orders placed from then on" }),
    createdBy: Type.String({ description: "The API key that made the change" }),
    ...DefinitionProperties,
  },
  { $id: "CampaignVersion", description: "R26: one version of a campaign's definition" },
);

export const CampaignListQuery = Type.Object(
  {
    state: Type.Optional(CampaignStateSchema),
    limit: PageLimit,
    after: Type.Optional(
      Type.String({ pattern: CAMPAIGN_ID, description: "The `next` of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

/** Who reads campaigns (a seller key its own), and who writes them (a seller key its own). */
export const CAMPAIGN_READERS = ["operator", "support", "readonly", "seller"] as const;
export const CAMPAIGN_WRITERS = ["operator", "seller"] as const;
