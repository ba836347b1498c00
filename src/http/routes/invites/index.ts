import type { App, RouteDeps } from "../../context.js";
import { register as createInviteCode } from "./create-invite-code.js";
import { register as getInvites } from "./get-invites.js";
import { register as registerInvitation } from "./register-invitation.js";

/** R23's routes, one file each. */
export const INVITE_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  createInviteCode,
  registerInvitation,
  getInvites,
];
