import { randomInt } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { InviteStore } from "../app/invites/invite-service.js";
import type { InviteCode, InvitedFriend } from "../domain/invites/index.js";
import type { Database } from "./schema.js";

/** Crockford's base 32 without I, L, O, U: nothing to misread when a code is typed from a screen. */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A random shareable code: `prefix` and 10 base-32 characters (50 bits; a clash is a refused write). */
export function randomCode(prefix: string): string {
  let code = prefix;
  for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** R23 reads outside a customer's work: a code's owner, an inviter's code and friends. */
export class PostgresInviteStore implements InviteStore {
  constructor(private readonly db: Kysely<Database>) {}

  async codeOwner(code: string): Promise<InviteCode | undefined> {
    const result = await sql<{
      customer_id: string;
      device_fingerprint: string | null;
      payment_fingerprint: string | null;
    }>`select customer_id, device_fingerprint, payment_fingerprint from invite_codes where code = ${code}`.execute(
      this.db,
    );
    const row = result.rows[0];
    return (
      row && {
        code,
        inviterId: row.customer_id,
        deviceFingerprint: row.device_fingerprint,
        paymentFingerprint: row.payment_fingerprint,
      }
    );
  }

  async inviterView(customerId: string, limit: number) {
    const [code, friends] = await Promise.all([
      sql<{ code: string }>`select code from invite_codes where customer_id = ${customerId} limit 1`.execute(
        this.db,
      ),
      sql<{
        friend_id: string;
        registered_at: Date | string;
        status: InvitedFriend["status"];
        order_id: string | null;
        order_total_kop: string | number | null;
        points: string | number;
        lot_id: string | null;
        applied_seq: number;
      }>`
        select * from invited_friends where customer_id = ${customerId}
        order by registered_at desc, friend_id limit ${limit}`.execute(this.db),
    ]);
    return {
      code: code.rows[0]?.code ?? null,
      friends: friends.rows.map(
        (r): InvitedFriend => ({
          friendId: r.friend_id,
          registeredAt: new Date(r.registered_at),
          status: r.status,
          orderId: r.order_id,
          orderTotalKop: r.order_total_kop === null ? null : Number(r.order_total_kop),
          points: Number(r.points),
          lotId: r.lot_id,
          appliedSeq: r.applied_seq,
        }),
      ),
    };
  }
}
