import type { Invitation, InviteCode, InviteRefusal } from "./types.js";

/** What the marketplace reports when a customer registers with an invite code. */
export interface FriendRegistration {
  readonly friendId: string;
  readonly code: string;
  readonly registeredAt: Date;
  readonly deviceFingerprint?: string | undefined;
  readonly paymentFingerprint?: string | undefined;
}

function refuse(
  code: InviteRefusal["code"],
  message: string,
  details: Record<string, unknown>,
): InviteRefusal {
  return { ok: false, code, message, details };
}

/**
 * R23: a friend accepts an invitation. Only a new customer counts (no orders and no points ever);
 * the inviter must not be the friend — the same customer, or the same device or payment fingerprint
 * as the inviter registered with its code — and a friend has one inviter. The same invitation
 * reported again answers the invitation as it stands (`replayed`).
 */
export function registerFriend(
  registration: FriendRegistration,
  input: {
    /** The code's owner, or undefined: no such code. */
    inviteCode: InviteCode | undefined;
    /** The friend's invitation, if it accepted one before. */
    existing: Invitation | undefined;
    /** Whether the friend has never had an order or a movement of points. */
    isNew: boolean;
  },
): { ok: true; invitation: Invitation; replayed: boolean } | InviteRefusal {
  const { inviteCode, existing } = input;
  if (!inviteCode) {
    return refuse("INVITE_CODE_NOT_FOUND", `there is no invite code ${registration.code}`, {
      field: "body.code",
    });
  }
  if (existing) {
    if (existing.code === registration.code) return { ok: true, invitation: existing, replayed: true };
    return refuse(
      "ALREADY_INVITED",
      `customer ${registration.friendId} accepted an invitation before: a friend has one inviter`,
      {
        field: "body.code",
        inviterId: existing.inviterId,
        registeredAt: existing.registeredAt.toISOString(),
      },
    );
  }
  const sameDevice =
    registration.deviceFingerprint !== undefined &&
    registration.deviceFingerprint === inviteCode.deviceFingerprint;
  const samePayment =
    registration.paymentFingerprint !== undefined &&
    registration.paymentFingerprint === inviteCode.paymentFingerprint;
  if (inviteCode.inviterId === registration.friendId || sameDevice || samePayment) {
    const [reason, field] =
      inviteCode.inviterId === registration.friendId
        ? ["same_customer", "customerId"]
        : sameDevice
          ? ["same_device", "body.deviceFingerprint"]
          : ["same_payment", "body.paymentFingerprint"];
    return refuse("SELF_INVITE", `the invite code belongs to the same person (${reason})`, { field, reason });
  }
  if (!input.isNew) {
    return refuse(
      "NOT_A_NEW_CUSTOMER",
      `customer ${registration.friendId} has orders or points already: only a new customer counts as a friend`,
      { field: "customerId" },
    );
  }
  return {
    ok: true,
    replayed: false,
    invitation: {
      friendId: registration.friendId,
      inviterId: inviteCode.inviterId,
      code: registration.code,
      registeredAt: registration.registeredAt,
      status: "registered",
      orderId: null,
      orderTotalKop: null,
      points: 0,
      availableFrom: null,
      expiresAt: null,
      seq: 1,
    },
  };
}
