import type { App, RouteDeps } from "../../context.js";
import { register as getManager } from "./get-manager.js";
import { register as grantManager } from "./grant-manager.js";
import { register as revokeManager } from "./revoke-manager.js";

/** R24's routes, one file each. */
export const MANAGER_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  grantManager,
  revokeManager,
  getManager,
];
