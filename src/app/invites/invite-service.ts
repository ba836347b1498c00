import {
  applyInviteEffect,
  type FriendRegistration,
  type Invitation,
  type InviteCode,
  type InvitedFriend,
  type InviteEffect,
  inviteEffectOf,
  registerFriend,
} from "../../domain/invites/index.js";
import { appliedEffect, type EffectKey, type StoredEffect } from "../effects/effect-relay.js";
import type { CustomerWork, GroupCommitter } from "../group-commit.js";
import { keyedWork } from "../keyed-work.js";
import type { Outcome, WriteRequest } from "../ledger-service.js";
import { type Clock, type OutgoingEffect, programmesOf } from "../ports.js";

/** What the invite use cases read outside a customer's work. */
export interface InviteStore {
  /** The code's owner and the fingerprints it registered with; undefined: no such code. */
  codeOwner(code: string): Promise<InviteCode | undefined>;
  /** The customer's own invite code and its invited friends, most recent first (at most `limit`). */
  inviterView(customerId: string, limit: number): Promise<{ code: string | null; friends: InvitedFriend[] }>;
}

export interface InvitationView {
  friendId: string;
  inviterId: string;
  code: string;
  registeredAt: string;
  status: Invitation["status"];
  orderId: string | null;
  orderTotalKop: number | null;
  points: number;
}

function invitationView(i: Invitation): InvitationView {
  return {
    friendId: i.friendId,
    inviterId: i.inviterId,
    code: i.code,
    registeredAt: i.registeredAt.toISOString(),
    status: i.status,
    orderId: i.orderId,
    orderTotalKop: i.orderTotalKop,
    points: i.points,
  };
}

export function inviteEffectTo(invitation: Invitation): OutgoingEffect {
  return {
    effectId: `invite:${invitation.friendId}:${invitation.seq}`,
    targetCustomerId: invitation.inviterId,
    payload: inviteEffectOf(invitation),
  };
}

/** R23 friend invites: codes, friends' registrations, and the inviter's side of the rewards. */
export class InviteService {
  constructor(
    private readonly store: InviteStore,
    private readonly committer: GroupCommitter,
    private readonly clock: Clock,
    /** A fresh shareable code (random: the lookup's primary key refuses the rare duplicate). */
    private readonly newCode: () => string,
    /** Delivers effects just committed (the relay); what it cannot deliver waits for the scheduler. */
    private readonly deliver: (keys: EffectKey[]) => Promise<unknown>,
  ) {}

  /**
   * R23: the customer's shareable code, made on first request with the fingerprints the marketplace
   * sends (a friend registering from the same device or payment is refused as a self-invite); the
   * same request again answers the same code.
   */
  async code(
    customerId: string,
    fingerprints: { deviceFingerprint?: string | undefined; paymentFingerprint?: string | undefined },
    request: WriteRequest,
  ) {
    const code = this.newCode();
    return this.committer.submit(
      keyedWork<{ customerId: string; code: string; created: boolean }>(
        customerId,
        "invite_code",
        request,
        { programmes: { inviteCode: true } },
        (state) => {
          const existing = programmesOf(state).inviteCode;
          if (existing)
            return { outcome: { ok: true, value: { customerId, code: existing.code, created: false } } };
          return {
            outcome: { ok: true, value: { customerId, code, created: true } },
            write: {
              programmes: {
                inviteCode: {
                  code,
                  inviterId: customerId,
                  deviceFingerprint: fingerprints.deviceFingerprint ?? null,
                  paymentFingerprint: fingerprints.paymentFingerprint ?? null,
                  createdAt: this.clock.now(),
                },
              },
            },
          };
        },
      ),
    );
  }

  /**
   * R23: a friend registers with a code, in the friend's own work; the inviter learns of it through
   * an effect (its list of friends shows the registration).
   */
  async register(registration: FriendRegistration, request: WriteRequest) {
    const inviteCode = await this.store.codeOwner(registration.code);
    const answer = await this.committer.submit(
      keyedWork<InvitationView>(
        registration.friendId,
        "register_invitation",
        request,
        { programmes: { invitation: true, isNew: true } },
        (state) => {
          const programmes = programmesOf(state);
          const registered = registerFriend(registration, {
            inviteCode,
            existing: programmes.invitation,
            isNew: programmes.isNew,
          });
          if (!registered.ok) {
            const { code, message, details } = registered;
            return { outcome: { ok: false, code, message, details } satisfies Outcome<InvitationView> };
          }
          const outcome = { ok: true as const, value: invitationView(registered.invitation) };
          if (registered.replayed) return { outcome };
          return {
            outcome,
            write: {
              programmes: { invitation: registered.invitation },
              effects: [inviteEffectTo(registered.invitation)],
            },
          };
        },
      ),
    );
    if (answer.ok && !answer.replayed)
      await this.deliver([
        { sourceCustomerId: registration.friendId, effectId: `invite:${registration.friendId}:1` },
      ]);
    return answer;
  }

  /** R23: the customer's code and invited friends with their status (most recent 100). */
  async inviter(customerId: string) {
    const view = await this.store.inviterView(customerId, 100);
    return {
      customerId,
      code: view.code,
      friends: view.friends.map((f) => ({
        friendId: f.friendId,
        registeredAt: f.registeredAt.toISOString(),
        status: f.status,
        orderId: f.orderId,
        orderTotalKop: f.orderTotalKop,
        points: f.points,
      })),
    };
  }

  /** R23, the inviter's side of an effect: the inviter's own work, applying it once. */
  effectWork(effect: StoredEffect & { payload: InviteEffect }): CustomerWork<void> {
    const { payload } = effect;
    return {
      customerId: effect.targetCustomerId,
      load: { programmes: { invitedFriendIds: [payload.friendId] } },
      run: (state, ctx) => {
        const applied = applyInviteEffect(
          programmesOf(state).invitedFriends.get(payload.friendId),
          payload,
          state.ledger,
          ctx,
        );
        if (!applied) return { result: undefined };
        return appliedEffect(state, applied.change, { invitedFriends: [applied.friend] });
      },
    };
  }
}
