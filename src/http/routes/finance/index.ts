import type { App, RouteDeps } from "../../context.js";
import { register as getBreakage } from "./get-breakage.js";
import { register as getExpiryForecast } from "./get-expiry-forecast.js";
import { register as getFunderStatement } from "./get-funder-statement.js";
import { register as getLiability } from "./get-liability.js";
import { register as verifyLedger } from "./verify-ledger.js";

/** Finance (issue 12): liability, breakage, the expiry forecast, funders' statements, the reconciliation. */
export const FINANCE_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  getLiability,
  getBreakage,
  getExpiryForecast,
  getFunderStatement,
  verifyLedger,
];
