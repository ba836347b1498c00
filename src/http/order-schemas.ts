import { Type } from "typebox";
import { MAX_CART_LINES, MAX_LINE_QUANTITY } from "../domain/checkout/index.js";
import { MAX_AMOUNT } from "../domain/kinds.js";
import { ORDER_STATES } from "../domain/orders/index.js";
import { Id, Instant, literals, strictObject, Text } from "./schemas.js";

const Kopecks = (description: string) =>
  Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: `${description}, kopecks` });

export const CartLineSchema = strictObject({
  lineId: Id("The line's id within the order"),
  sku: Id("Product id"),
  sellerId: Id("Seller id"),
  category: Type.String({
    pattern: "^[a-z0-9_]{1,64}$",
    description:
      "Category code (R7): electronics, household_appliances, clothing_shoes, groceries, books; any other code takes the default rate",
  }),
  quantity: Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY, description: "Units" }),
  unitPriceKop: Kopecks("Price charged per unit"),
  originalUnitPriceKop: Type.Optional(Kopecks("R9: the price before a promotion, per unit")),
});

export const Lines = Type.Array(CartLineSchema, { minItems: 1, maxItems: MAX_CART_LINES });

export const PaymentMethodSchema = literals(
  ["marketplace_card", "other_card", "other", "savings_account"] as const,
  "How the money part is paid; only the marketplace's card earns the card bonus (R8), only the savings account earns savings cashback (R25, customers whose mechanic is cashback)",
);

const PointsPerKind = strictObject(
  {
    bonus: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AMOUNT })),
    savings: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AMOUNT })),
    referral: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AMOUNT })),
  },
  "Whole points per kind",
);

const LineQuantity = (quantityDescription: string) =>
  strictObject({
    lineId: Id("The line"),
    quantity: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY, description: quantityDescription }),
    ),
  });

/** R24: promo codes, as managers are given them (case matters). */
export const PromoCode = (description: string) =>
  Type.String({ pattern: "^[A-Za-z0-9_-]{3,32}$", description });

const eventBase = {
  eventId: Id("Unique per customer; the event's idempotency key"),
  orderId: Id("The order"),
  customerId: Id("The order's customer"),
  sequence: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: "1 for placed, then +1 per event; an event ahead of its turn waits for the ones before it",
    }),
  ),
  occurredAt: Instant("When it happened (R13 counts from the shipment)"),
};

export const PlacedEvent = strictObject({
  ...eventBase,
  type: Type.Literal("placed"),
  lines: Lines,
  paymentMethod: PaymentMethodSchema,
  spend: Type.Optional(PointsPerKind),
  promoCode: Type.Optional(PromoCode("R24: a manager's promo code the order was placed with")),
});
export const SimpleEvent = (type: "paid" | "delivered" | "cancelled") =>
  strictObject({ ...eventBase, type: Type.Literal(type) });
export const ShippedEvent = strictObject({
  ...eventBase,
  type: Type.Literal("shipped"),
  lines: Type.Optional(
    Type.Array(LineQuantity("Units shipped; default all not yet shipped"), {
      minItems: 1,
      maxItems: MAX_CART_LINES,
    }),
  ),
});
export const ReturnedEvent = strictObject({
  ...eventBase,
  type: Type.Literal("returned"),
  lines: Type.Array(
    strictObject({
      lineId: Id("The line"),
      quantity: Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY, description: "Units returned" }),
    }),
    { minItems: 1, maxItems: MAX_CART_LINES },
  ),
});

/** One event; `type` picks which schema applies, so errors name the fields of that type. */
export const OrderEventSchema = Type.Unsafe<
  | Type.Static<typeof PlacedEvent>
  | Type.Static<ReturnType<typeof SimpleEvent>>
  | Type.Static<typeof ShippedEvent>
  | Type.Static<typeof ReturnedEvent>
>({
  type: "object",
  required: ["type"],
  discriminator: { propertyName: "type" },
  oneOf: [
    PlacedEvent,
    SimpleEvent("paid"),
    ShippedEvent,
    SimpleEvent("delivered"),
    SimpleEvent("cancelled"),
    ReturnedEvent,
  ],
  description: "An order event: placed, paid, shipped, delivered, cancelled or returned",
});

export const EventBatchSchema = strictObject({
  events: Type.Array(OrderEventSchema, { minItems: 1, maxItems: 1000, description: "Up to 1,000 events" }),
});

export const EventOutcomeSchema = Type.Object(
  {
    eventId: Type.String(),
    orderId: Type.String(),
    status: literals(
      ["applied", "parked", "refused"] as const,
      "applied; parked = waits for an event that could make it valid (see waitingFor); refused = no later event could",
    ),
    orderState: Type.Optional(literals(ORDER_STATES, "The order's state after the event")),
    waitingFor: Type.Optional(
      Type.String({
        description: 'Parked: what it waits for ("order o-1 to be paid", "sequence 3 of order o-1")',
      }),
    ),
    waitingForSequence: Type.Optional(
      Type.Integer({ description: "Parked with a sequence: the number the order needs next" }),
    ),
    effect: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(
      Type.Object({ code: Type.String(), message: Type.String(), details: Type.Unknown() }),
    ),
  },
  { description: "What one event did" },
);

export const KindPointsSchema = Type.Object({
  bonus: Type.Integer(),
  savings: Type.Integer(),
  referral: Type.Integer(),
});

const CategoryRatesSchema = strictObject({
  byCategory: Type.Record(Type.String({ pattern: "^[a-z0-9_]{1,64}$" }), Type.Integer()),
  otherwise: Type.Integer(),
});

export const ProgrammeConfigSchema = strictObject(
  {
    earning: strictObject({
      baseRateBp: CategoryRatesSchema,
      cardBonusBp: CategoryRatesSchema,
      bonusCapBp: Type.Integer(),
      savingsCapBp: Type.Integer(),
      referralCapBp: CategoryRatesSchema,
      minMoneyPerUnitKop: Type.Integer(),
      categoryNames: Type.Record(
        Type.String({ pattern: "^[a-z0-9_]{1,64}$" }),
        strictObject({
          ru: Text({ minLength: 1, maxLength: 100, description: "Russian name" }),
          en: Text({ minLength: 1, maxLength: 100, description: "English name" }),
        }),
      ),
      premiumBonusBp: Type.Optional(
        Type.Integer({
          description:
            "R28: extra accrual for Premium subscribers, basis points of each line's money-paid base (0-500); absent: 100",
        }),
      ),
      premiumFreeDeliveryThresholdKop: Type.Optional(
        Type.Integer({
          description:
            "R28: Premium subscribers' delivery is free from this order total (inclusive), kopecks at the prices charged, before points; absent: 100000",
        }),
      ),
    }),
    lifecycle: strictObject({
      pendingDelayHours: Type.Integer(),
      expiryDays: Type.Integer(),
      holdTimeoutSeconds: Type.Integer(),
      refundGraceDays: Type.Integer(),
    }),
    savings: Type.Optional(
      strictObject({
        annualRateBp: Type.Integer({ description: "R25: yearly savings interest, basis points (0-1800)" }),
        cashbackBp: Type.Optional(
          Type.Integer({
            description:
              "R25: cashback on purchases paid from the savings account, basis points of the money paid (0-1000); absent: 300",
          }),
        ),
      }),
    ),
    reviews: Type.Optional(
      strictObject(
        {
          minTextLength: Type.Integer({ description: "R22: characters a text needs to earn textPoints" }),
          textPoints: Type.Integer({ description: "R22: points for a long enough text" }),
          photoPoints: Type.Integer({ description: "R22: points for a review with a photo" }),
          moderationDays: Type.Integer({ description: "R22: days moderation is due within" }),
        },
        "R22 review rewards; absent: the defaults (200 characters, 10 points, 50 with a photo, 3 days)",
      ),
    ),
    invites: Type.Optional(
      strictObject(
        {
          tiers: Type.Array(
            strictObject({
              fromKop: Type.Integer({
                description: "R23: the first order's total from which this tier applies, kopecks (inclusive)",
              }),
              points: Type.Integer({ description: "R23: the inviter's reward" }),
            }),
            { maxItems: 10 },
          ),
        },
        "R23 invite rewards by the friend's first order; absent: the defaults (100; 300 from 3,000 RUB; 500 from 10,000 RUB)",
      ),
    ),
    managers: Type.Optional(
      strictObject(
        {
          referralRateBp: Type.Integer({
            description: "R24: referral points, basis points of the money paid (500 = 5%)",
          }),
          ownPurchasesThresholdKop: Type.Integer({
            description: "R24: the manager's own purchases a month must reach (inclusive), kopecks",
          }),
        },
        "R24 manager programme; absent: the defaults (5%, 2,500 RUB)",
      ),
    ),
  },
  "R7-R20 numbers: rates and card bonus in basis points (1% = 100), caps in basis points of the order",
);

export const WaitingEventSchema = Type.Object(
  {
    customerId: Type.String(),
    orderId: Type.String(),
    eventId: Type.String(),
    type: Type.String(),
    sequence: Type.Union([Type.Integer(), Type.Null()]),
    waitingFor: Type.String({
      description: "What it waits for: an earlier sequence number, or an event that could make it valid",
    }),
    receivedAt: Type.String({ format: "date-time" }),
    waitingSeconds: Type.Integer({ description: "How long it has waited" }),
  },
  { description: "An order event that cannot apply yet and waits" },
);
