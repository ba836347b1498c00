import type { App, RouteDeps } from "../context.js";
import { register as addProgrammeConfigVersion } from "./add-programme-config-version.js";
import { register as adjustPoints } from "./adjust-points.js";
import { CAMPAIGN_ROUTES } from "./campaigns/index.js";
import { register as captureHold } from "./capture-hold.js";
import { register as checkoutQuote } from "./checkout-quote.js";
import { register as clawBackPoints } from "./claw-back-points.js";
import { register as createHold } from "./create-hold.js";
import { register as creditPoints } from "./credit-points.js";
import { register as dryRunProgrammeConfig } from "./dry-run-programme-config.js";
import { FINANCE_ROUTES } from "./finance/index.js";
import { register as getBalance } from "./get-balance.js";
import { register as getOrder } from "./get-order.js";
import { register as getProgrammeConfig } from "./get-programme-config.js";
import { INVITE_ROUTES } from "./invites/index.js";
import { register as listHistory } from "./list-history.js";
import { register as listWaitingEvents } from "./list-waiting-events.js";
import { MANAGER_ROUTES } from "./managers/index.js";
import { register as postOrderEvents } from "./post-order-events.js";
import { PREMIUM_ROUTES } from "./premium/index.js";
import { register as refundPoints } from "./refund-points.js";
import { register as releaseHold } from "./release-hold.js";
import { register as fundReviewBudget } from "./reviews/fund-review-budget.js";
import { register as listUnmoderatedReviews } from "./reviews/list-unmoderated-reviews.js";
import { register as moderateReview } from "./reviews/moderate-review.js";
import { register as reportReview } from "./reviews/report-review.js";
import { register as revokeCustomerTokens } from "./revoke-customer-tokens.js";
import { SAVINGS_ROUTES } from "./savings/index.js";
import { SEGMENT_ROUTES } from "./segments/index.js";
import { SELLER_DISCOUNT_ROUTES } from "./seller-discounts/index.js";
import { register as setSellerProductPoints } from "./set-seller-product-points.js";
import { register as spendPoints } from "./spend-points.js";
import { WEBHOOK_ROUTES } from "./webhooks/index.js";

/** Every route, one file each. */
export const ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  creditPoints,
  adjustPoints,
  getBalance,
  listHistory,
  createHold,
  captureHold,
  releaseHold,
  spendPoints,
  refundPoints,
  clawBackPoints,
  checkoutQuote,
  postOrderEvents,
  getOrder,
  listWaitingEvents,
  getProgrammeConfig,
  addProgrammeConfigVersion,
  dryRunProgrammeConfig,
  setSellerProductPoints,
  revokeCustomerTokens,
  ...SAVINGS_ROUTES,
  reportReview,
  moderateReview,
  listUnmoderatedReviews,
  fundReviewBudget,
  ...INVITE_ROUTES,
  ...MANAGER_ROUTES,
  ...PREMIUM_ROUTES,
  ...WEBHOOK_ROUTES,
  ...CAMPAIGN_ROUTES,
  ...SELLER_DISCOUNT_ROUTES,
  ...SEGMENT_ROUTES,
  ...FINANCE_ROUTES,
];
