import type { App, RouteDeps } from "../../context.js";
import { register as calculateSavingsInterest } from "./calculate-savings-interest.js";
import { register as getSavingsAccount } from "./get-savings-account.js";
import { register as recordSavingsEntry } from "./record-savings-entry.js";
import { register as setSavingsMechanic } from "./set-savings-mechanic.js";
import { register as setSavingsRate } from "./set-savings-rate.js";

/** R25's routes, one file each (deposits and withdrawals share one). */
export const SAVINGS_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  recordSavingsEntry,
  getSavingsAccount,
  setSavingsRate,
  setSavingsMechanic,
  calculateSavingsInterest,
];
