import type { App, RouteDeps } from "../../context.js";
import { register as getPremium } from "./get-premium.js";
import { register as recordPremiumPeriod } from "./record-premium-period.js";

/** R28's routes, one file each. */
export const PREMIUM_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [recordPremiumPeriod, getPremium];
