export * from "./accounts.js";
export * from "./balance.js";
export { addDays, spendingOrder } from "./draft.js";
export type {
  CategoryNames,
  ExplanationCode,
  ExplanationContext,
  ExplanationRef,
  LineAccrualParams,
  ReturnedLine,
  SellerUnits,
} from "./explain.js";
export {
  explainCampaignPoints,
  explainInviteReward,
  explainOrderShipped,
  explainReferralCancelled,
  explainReferralConfirmed,
  explainReferralCredited,
  explainReviewApproved,
  explainReviewRejected,
  explainReviewSubmitted,
  explainSavingsCashback,
  explainSavingsInterest,
  explainSellerPoints,
  lineAccrualParams,
  renderExplanation,
  renderLineAccrual,
} from "./explain.js";
export * from "./operations.js";
export * from "./types.js";
