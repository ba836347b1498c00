/**
 * R23 friend invites: a customer shares an invite code, a new customer registers with it, and the
 * friend's first order to ship earns the inviter points by its total. Every number here is a default
 * an operator changes in the programme configuration (`invites`).
 */
export interface InvitePolicy {
  /**
   * R23: the reward by the first order's total: the last tier whose `fromKop` the total reaches
   * (inclusive). Ascending by `fromKop`, the first at 0. Default 100; 300 from 3,000 RUB; 500 from
   * 10,000 RUB.
   */
  readonly tiers: { readonly fromKop: number; readonly points: number }[];
}

export const DEFAULT_INVITE_POLICY: InvitePolicy = {
  tiers: [
    { fromKop: 0, points: 100 },
    { fromKop: 300_000, points: 300 },
    { fromKop: 1_000_000, points: 500 },
  ],
};

/** R23: an invitation's life: registered, rewarded when the first order ships, clawed back if it all comes back. */
export type InvitationStatus = "registered" | "rewarded" | "clawed_back";

/** R23, the friend's side: the one invitation the friend accepted. */
export interface Invitation {
  readonly friendId: string;
  readonly inviterId: string;
  readonly code: string;
  readonly registeredAt: Date;
  status: InvitationStatus;
  /** The friend's first order to ship, its total (kopecks at the prices charged) and the reward. */
  orderId: string | null;
  orderTotalKop: number | null;
  points: number;
  /** R13: when the reward becomes available (the shipment + the pending delay) and expires. */
  availableFrom: Date | null;
  expiresAt: Date | null;
  /** One more for every change the inviter's side must learn of. */
  seq: number;
}

/** R23, the inviter's side: an invited friend, as the friend's effects were applied. */
export interface InvitedFriend {
  readonly friendId: string;
  readonly registeredAt: Date;
  status: InvitationStatus;
  orderId: string | null;
  orderTotalKop: number | null;
  points: number;
  /** The reward's lot, once credited. */
  lotId: string | null;
  appliedSeq: number;
}

/**
 * What the friend's work tells the inviter's: the invitation as it stands after change `seq`. A
 * snapshot, not a delta, so that applying an old one after a newer one changes nothing.
 */
export interface InviteEffect {
  readonly type: "invite";
  readonly seq: number;
  readonly friendId: string;
  readonly registeredAt: string;
  readonly status: InvitationStatus;
  readonly orderId: string | null;
  readonly orderTotalKop: number | null;
  readonly points: number;
  readonly availableFrom: string | null;
  readonly expiresAt: string | null;
}

/** What an inviter registered with its code: fingerprints of its device and payment, if sent. */
export interface InviteCode {
  readonly code: string;
  readonly inviterId: string;
  readonly deviceFingerprint: string | null;
  readonly paymentFingerprint: string | null;
}

export const INVITE_REFUSAL_CODES = [
  "INVITE_CODE_NOT_FOUND",
  "SELF_INVITE",
  "NOT_A_NEW_CUSTOMER",
  "ALREADY_INVITED",
] as const;
export type InviteRefusalCode = (typeof INVITE_REFUSAL_CODES)[number];

export interface InviteRefusal {
  ok: false;
  code: InviteRefusalCode;
  message: string;
  details: Record<string, unknown>;
}

/** R23: the points a first order of `totalKop` earns the inviter (the last tier it reaches). */
export function inviteRewardPoints(policy: InvitePolicy, totalKop: number): number {
  let points = 0;
  for (const tier of policy.tiers) if (totalKop >= tier.fromKop) points = tier.points;
  return points;
}

export function validateInvitePolicy(policy: InvitePolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (policy.tiers.length === 0 || policy.tiers.length > 10)
    problems.push({ field: "tiers", message: "must have from 1 to 10 tiers" });
  policy.tiers.forEach((tier, i) => {
    if (!Number.isInteger(tier.fromKop) || tier.fromKop < 0 || tier.fromKop > 100_000_000_00)
      problems.push({ field: `tiers.${i}.fromKop`, message: "must be a whole number of kopecks from 0" });
    if (!Number.isInteger(tier.points) || tier.points < 0 || tier.points > 100_000)
      problems.push({ field: `tiers.${i}.points`, message: "must be a whole number from 0 to 100000" });
    const before = policy.tiers[i - 1];
    if (i === 0 && tier.fromKop !== 0)
      problems.push({ field: "tiers.0.fromKop", message: "the first tier must start at 0" });
    if (before && tier.fromKop <= before.fromKop)
      problems.push({ field: `tiers.${i}.fromKop`, message: "tiers must ascend by fromKop" });
  });
  return problems;
}
