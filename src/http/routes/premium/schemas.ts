import { Type } from "typebox";

const PeriodFields = {
  customerId: Type.String(),
  periodId: Type.String({ description: "The marketplace's id of the subscription period" }),
  version: Type.Integer({
    minimum: 1,
    description: "1 when first reported; each report with other dates is the next version (audited)",
  }),
  startsAt: Type.String({ format: "date-time", description: "Premium from this instant (inclusive)" }),
  endsAt: Type.String({ format: "date-time", description: "Premium until this instant (exclusive)" }),
  recordedBy: Type.String({ description: "The API key that reported this version" }),
  recordedAt: Type.String({ format: "date-time" }),
};

/** R28: one subscription period, the version in force. */
export const PremiumPeriodSchema = Type.Object(PeriodFields, {
  description: "R28: a Premium subscription period as reported",
});

/** R28: a customer's periods and status now. */
export const PremiumStatusSchema = Type.Object(
  {
    customerId: Type.String(),
    active: Type.Boolean({ description: "Premium now: a period covers this instant" }),
    until: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
      description:
        "Premium without a gap until this instant (overlapping and adjoining periods joined); null when not Premium now",
    }),
    periods: Type.Array(PremiumPeriodSchema, { description: "Every period, by start" }),
  },
  { description: "R28: a customer's Premium subscription" },
);
