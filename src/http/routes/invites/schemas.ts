import { Type } from "typebox";
import { literals } from "../../schemas.js";

/** A fingerprint of the device or payment method, as the marketplace computes it (opaque to Kopilka). */
export const Fingerprint = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: "^[\\x21-\\x7e]+$", description });

/** R23: invite codes, as Kopilka makes them (F and 10 base-32 characters). */
export const InviteCodeText = Type.String({
  pattern: "^[A-Za-z0-9_-]{3,32}$",
  description: "An invite code",
});

const InvitationStatus = literals(
  ["registered", "rewarded", "clawed_back"] as const,
  "registered: no order shipped yet; rewarded: the first order shipped and earned the inviter points; clawed_back: that order came back in full",
);

/** R23: a friend's invitation as the friend's side keeps it. */
export const InvitationSchema = Type.Object(
  {
    friendId: Type.String(),
    inviterId: Type.String(),
    code: Type.String(),
    registeredAt: Type.String({ format: "date-time" }),
    status: InvitationStatus,
    orderId: Type.Union([Type.String(), Type.Null()], { description: "The friend's first order to ship" }),
    orderTotalKop: Type.Union([Type.Integer(), Type.Null()], {
      description: "That order's total at the prices charged, kopecks",
    }),
    points: Type.Integer({ description: "R23: the inviter's reward (0 until the first order ships)" }),
  },
  { description: "R23: an accepted invitation" },
);

export const InviterSchema = Type.Object(
  {
    customerId: Type.String(),
    code: Type.Union([Type.String(), Type.Null()], {
      description: "The customer's invite code; null: none made yet",
    }),
    friends: Type.Array(
      Type.Object({
        friendId: Type.String(),
        registeredAt: Type.String({ format: "date-time" }),
        status: InvitationStatus,
        orderId: Type.Union([Type.String(), Type.Null()]),
        orderTotalKop: Type.Union([Type.Integer(), Type.Null()]),
        points: Type.Integer(),
      }),
      { description: "Invited friends, most recent first (at most 100)" },
    ),
  },
  { description: "R23: a customer's invite code and invited friends" },
);
