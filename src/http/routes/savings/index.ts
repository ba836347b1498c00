import type { App, RouteDeps } from "../../context.js";
import { register as calculateSavingsInterest } from "./calculate-savings-interest.js";
import { register as getSavingsAccount } from "./get-savings-account.js";
import { register as recordSavingsDeposit } from "./record-savings-deposit.js";
import { register as recordSavingsWithdrawal } from "./record-savings-withdrawal.js";
import { register as setSavingsRate } from "./set-savings-rate.js";

/** R25's routes, one file each. */
export const SAVINGS_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  recordSavingsDeposit,
  recordSavingsWithdrawal,
  getSavingsAccount,
  setSavingsRate,
  calculateSavingsInterest,
];
