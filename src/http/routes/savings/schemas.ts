import { Type } from "typebox";
import { MAX_AMOUNT } from "../../../domain/kinds.js";
import { MAX_SAVINGS_RATE_BP, SAVINGS_MECHANICS } from "../../../domain/savings/index.js";
import { Id, Instant, literals, strictObject } from "../../schemas.js";

/** R25: money on the savings account, whole kopecks. */
export const SavingsAmount = (description: string) =>
  Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: `${description}, kopecks (> 0)` });

export const SavingsEntryBody = strictObject({
  id: Id("The marketplace's id of this deposit or withdrawal; a retry with the same id is answered again"),
  amount: SavingsAmount("How much money"),
  occurredAt: Instant("When the money moved; it counts from the end of that day in the operator's time zone"),
});

export const SavingsEntrySchema = Type.Object(
  {
    entryId: Type.String(),
    type: Type.Union([Type.Literal("deposit"), Type.Literal("withdrawal")]),
    amount: Type.Integer({ description: "Kopecks" }),
    occurredAt: Type.String({ format: "date-time" }),
    balance: Type.Integer({ description: "The account's balance right after it, kopecks" }),
  },
  { description: "R25: a deposit or withdrawal as recorded" },
);

export const RateBp = Type.Integer({
  minimum: 0,
  maximum: MAX_SAVINGS_RATE_BP,
  description: `R25: yearly rate in basis points (1200 = 12%), 0-${MAX_SAVINGS_RATE_BP}`,
});

export const SavingsMechanicSchema = literals(
  SAVINGS_MECHANICS,
  "R25: what the account earns: `interest` (monthly, on the average balance) or `cashback` (on orders paid from the account)",
);

export const SavingsAccountSchema = Type.Object(
  {
    customerId: Type.String(),
    balance: Type.Integer({ description: "Kopecks" }),
    rateBp: RateBp,
    rateSource: Type.Union([Type.Literal("programme"), Type.Literal("customer")]),
    mechanic: SavingsMechanicSchema,
    cashbackBp: Type.Integer({
      description: "R25: the programme's cashback rate now, basis points of the money paid from the account",
    }),
    month: Type.String({ description: "This month, YYYY-MM in the operator's time zone" }),
    accruedThisMonth: Type.Integer({
      description:
        "Points of this month's interest accrued through today (paid after the month ends); 0 for a cashback customer",
    }),
    daysSoFar: Type.Integer(),
    daysInMonth: Type.Integer(),
  },
  { description: "R25: the savings account" },
);
