import type { CampaignConditions } from "../../../src/domain/campaigns/definition.js";

/** Conditions that hold for any order placed in 2026. */
export const ANY_CONDITIONS: CampaignConditions = {
  startsAt: new Date("2026-01-01T00:00:00Z"),
  endsAt: new Date("2027-01-01T00:00:00Z"),
  categories: null,
  sellers: null,
  skus: null,
  minOrderTotalKop: 0,
  paymentMethods: null,
  premiumOnly: false,
  segmentId: null,
};
