export type { LocalizedText } from "../text.js";
export { formatPercent, formatPoints, formatPointsFromKop, formatRoubles, russianPlural } from "../text.js";
export type { AccrualInput, LineAccrual, OrderAccrual, SellerPart } from "./accrual.js";
export { computeAccrual } from "./accrual.js";
export type { LineSpend } from "./allocation.js";
export { allocateProportionally, allocateSpend } from "./allocation.js";
export { floorDiv, mulDivFloor, pointsFromKop } from "./arithmetic.js";
export type {
  AcceptedSpend,
  CapReason,
  QuoteInput,
  SpendCaps,
  SpendCheck,
  SpendQuote,
  SpendRefusal,
} from "./caps.js";
export { checkSpendRequest, computeSpendCaps, quoteSpend } from "./caps.js";
export type { CapReasonCode, SpendRefusalCode, SpendRefusalDetails } from "./caps-text.js";
export { KIND_NAMES } from "./caps-text.js";
export type { CartLine, PaymentMethod } from "./cart.js";
export {
  lineAmountKop,
  MAX_CART_LINES,
  MAX_LINE_QUANTITY,
  orderTotalKop,
  originalLineAmountKop,
  unitCount,
  validateCart,
} from "./cart.js";
export type { CategoryRates, EarningConfig, KnownCategory } from "./config.js";
export {
  categoryName,
  DEFAULT_EARNING_CONFIG,
  DEFAULT_PREMIUM_BONUS_BP,
  DEFAULT_PREMIUM_FREE_DELIVERY_THRESHOLD_KOP,
  KNOWN_CATEGORIES,
  MAX_CARD_BONUS_BP,
  MAX_PREMIUM_BONUS_BP,
  MIN_REFERRAL_CAP_BP,
  premiumBonusOf,
  premiumFreeDeliveryThresholdOf,
  rateForCategory,
  validateEarningConfig,
} from "./config.js";
export type { KindPoints } from "./points.js";
export { NO_POINTS, totalPoints } from "./points.js";
export type { Problem } from "./problems.js";
export type { ReturnStep } from "./returns.js";
export { proportionalReturnShare } from "./returns.js";
