import { sql, type Transaction } from "kysely";
import {
  type CustomerLoad,
  type CustomerState,
  type CustomerWrite,
  type ProgrammesState,
  referralKey,
} from "../app/ports.js";
import type { Invitation, InvitationStatus, InvitedFriend } from "../domain/invites/index.js";
import type { Manager, ManagerMonth, ManagerReferral, ReferredOrder } from "../domain/managers/index.js";
import { auditRowsCte } from "./audit-rows.js";
import { type LotRow, lotFromRow } from "./ledger-store.js";
import type { Database } from "./schema.js";

/**
 * R23, R24 and cross-customer effects: what a customer's work loads of the invite and manager
 * programmes and writes to them, each in one statement, in the customer's own transaction
 * (src/infra/ledger-store.ts calls these after its own statements when a work asks for them).
 */

type Row = Record<string, unknown> & { customer_id: string };
export type ProgrammeRow = Row;

interface ProgrammeRows {
  invite_codes: Row[];
  is_new: { customer_id: string; is_new: boolean }[];
  invited_friends: Row[];
  referrals: Row[];
  months: Row[];
  lots: LotRow[];
}

export function emptyProgrammes(): ProgrammesState {
  return {
    inviteCode: undefined,
    invitation: undefined,
    isNew: false,
    invitedFriends: new Map(),
    referredOrders: new Map(),
    manager: undefined,
    referrals: new Map(),
    managerMonths: new Map(),
  };
}

const date = (v: unknown): Date => new Date(v as string);
const dateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : new Date(v as string);
const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function invitationOf(r: Row): Invitation {
  return {
    friendId: r.customer_id,
    inviterId: r.inviter_id as string,
    code: r.code as string,
    registeredAt: date(r.registered_at),
    status: r.status as InvitationStatus,
    orderId: (r.order_id as string | null) ?? null,
    orderTotalKop: numberOrNull(r.order_total_kop),
    points: Number(r.points),
    availableFrom: dateOrNull(r.available_from),
    expiresAt: dateOrNull(r.expires_at),
    seq: Number(r.seq),
  };
}

function invitedFriendOf(r: Row): InvitedFriend {
  return {
    friendId: r.friend_id as string,
    registeredAt: date(r.registered_at),
    status: r.status as InvitationStatus,
    orderId: (r.order_id as string | null) ?? null,
    orderTotalKop: numberOrNull(r.order_total_kop),
    points: Number(r.points),
    lotId: (r.lot_id as string | null) ?? null,
    appliedSeq: Number(r.applied_seq),
  };
}

export function referredOrderOf(r: Row): ReferredOrder {
  return {
    orderId: r.order_id as string,
    managerId: r.manager_id as string,
    promoCode: r.promo_code as string,
    status: r.status as ReferredOrder["status"],
    rateBp: Number(r.rate_bp),
    points: Number(r.points),
    firstShippedAt: dateOrNull(r.first_shipped_at),
    seq: Number(r.seq),
  };
}

export function managerOf(r: Row): Manager {
  return {
    customerId: r.customer_id,
    promoCode: r.promo_code as string,
    status: r.status as Manager["status"],
    grantedBy: r.granted_by as string,
    grantedAt: date(r.granted_at),
    revokedBy: (r.revoked_by as string | null) ?? null,
    revokedAt: dateOrNull(r.revoked_at),
  };
}

export function referralOf(r: Row): ManagerReferral {
  return {
    buyerId: r.buyer_id as string,
    orderId: r.order_id as string,
    month: r.month as string,
    lotIds: r.lot_ids as string[],
    points: Number(r.points),
    appliedSeq: Number(r.applied_seq),
  };
}

export function managerMonthOf(r: Row): ManagerMonth {
  return {
    month: r.month as string,
    purchasesKop: Number(r.purchases_kop),
    referralPoints: Number(r.referral_points),
    settledAt: dateOrNull(r.settled_at),
    qualified: (r.qualified as boolean | null) ?? null,
    thresholdKop: numberOrNull(r.threshold_kop),
  };
}

/** Pairs of (customer, value) for `unnest`. */
function pairsOf<T>(requests: CustomerLoad[], pick: (r: CustomerLoad) => T[] | undefined) {
  const rows = requests.flatMap((r) => (pick(r) ?? []).map((v) => [r.customerId, v] as const));
  return [rows.map((p) => p[0]), rows.map((p) => p[1])] as const;
}

/**
 * R23, R24: the rows every order event may touch — the customer's invitation as a friend, its orders
 * placed with a promo code, its manager status — come with the working set's own statement
 * (ledger-store.ts `customers_working_set`); this puts them in the customers' states.
 */
export function programmesOfEvents(
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
  rows: { invitations: Row[]; referred_orders: Row[]; managers: Row[] },
): void {
  for (const r of requests) {
    const state = states.get(r.customerId);
    if (r.programmes && state && !state.programmes) state.programmes = emptyProgrammes();
  }
  const of = (customerId: string) => states.get(customerId)?.programmes;
  for (const r of rows.invitations) {
    const p = of(r.customer_id);
    if (p) p.invitation = invitationOf(r);
  }
  for (const r of rows.referred_orders)
    of(r.customer_id)?.referredOrders.set(r.order_id as string, referredOrderOf(r));
  for (const r of rows.managers) {
    const p = of(r.customer_id);
    if (p) p.manager = managerOf(r);
  }
}

/**
 * `load_programmes`, for the works that need more than the order-event rows: every lookup an index
 * probe by primary key (or `manager_referrals_by_month`
 * for a month being settled); the lots of invite rewards and referrals are added to the working sets.
 */
export async function loadProgrammes(
  trx: Transaction<Database>,
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
): Promise<void> {
  const asked = requests.filter((r) => r.programmes);
  for (const r of asked) {
    const state = states.get(r.customerId);
    if (state && !state.programmes) state.programmes = emptyProgrammes();
  }
  const needed = asked.filter(({ programmes: p }) =>
    Boolean(
      p &&
        (p.inviteCode ||
          p.isNew ||
          (p.invitedFriendIds?.length ?? 0) > 0 ||
          (p.referrals?.length ?? 0) > 0 ||
          (p.managerMonths?.length ?? 0) > 0 ||
          p.referralsOfMonth),
    ),
  );
  if (needed.length === 0) return;
  const flag = (f: (p: NonNullable<CustomerLoad["programmes"]>) => boolean | undefined) =>
    asked.filter((r) => r.programmes && f(r.programmes)).map((r) => r.customerId);
  const [friendCustomers, friendIds] = pairsOf(asked, (r) => r.programmes?.invitedFriendIds);
  const referralRefs = asked.flatMap((r) =>
    (r.programmes?.referrals ?? []).map((x) => ({ c: r.customerId, ...x })),
  );
  const [monthCustomers, months] = pairsOf(asked, (r) => r.programmes?.managerMonths);
  const [settleCustomers, settleMonths] = pairsOf(asked, (r) =>
    r.programmes?.referralsOfMonth ? [r.programmes.referralsOfMonth] : [],
  );
  const result = await sql<ProgrammeRows>`
    with
      codes as (
        select x.* from unnest(${flag((p) => p.inviteCode)}::text[]) as c (customer_id)
          cross join lateral (select * from invite_codes where invite_codes.customer_id = c.customer_id limit 1) as x),
      new_customers as (
        select c.customer_id,
               not exists (select 1 from orders where orders.customer_id = c.customer_id)
               and not exists (select 1 from movements where movements.customer_id = c.customer_id) as is_new
          from unnest(${flag((p) => p.isNew)}::text[]) as c (customer_id)),
      friends as (
        select x.* from unnest(${friendCustomers}::text[], ${friendIds}::text[]) as w (customer_id, friend_id)
          cross join lateral (
            select * from invited_friends
            where invited_friends.customer_id = w.customer_id and invited_friends.friend_id = w.friend_id) as x),
      referrals as (
        select x.* from unnest(${referralRefs.map((r) => r.c)}::text[], ${referralRefs.map((r) => r.buyerId)}::text[],
                               ${referralRefs.map((r) => r.orderId)}::text[]) as w (customer_id, buyer_id, order_id)
          cross join lateral (
            select * from manager_referrals as m
            where m.customer_id = w.customer_id and m.buyer_id = w.buyer_id and m.order_id = w.order_id) as x
        union
        select x.* from unnest(${settleCustomers}::text[], ${settleMonths}::text[]) as w (customer_id, month)
          cross join lateral (
            select * from manager_referrals as m where m.customer_id = w.customer_id and m.month = w.month) as x),
      months_ as (
        select x.* from unnest(${[...monthCustomers, ...settleCustomers]}::text[], ${[...months, ...settleMonths]}::text[])
            as w (customer_id, month)
          cross join lateral (
            select * from manager_months as m where m.customer_id = w.customer_id and m.month = w.month) as x),
      wanted_lots (customer_id, lot_id) as (
        select customer_id, lot_id from friends where lot_id is not null
        union select customer_id, unnest(lot_ids) from referrals)
    select
      (select coalesce(json_agg(codes), '[]') from codes) as invite_codes,
      (select coalesce(json_agg(n), '[]') from new_customers as n) as is_new,
      (select coalesce(json_agg(friends), '[]') from friends) as invited_friends,
      (select coalesce(json_agg(referrals), '[]') from referrals) as referrals,
      (select coalesce(json_agg(distinct months_), '[]') from (select distinct * from months_) as months_) as months,
      (select coalesce(json_agg(l), '[]') from wanted_lots as w
         cross join lateral (
           select * from lots where lots.customer_id = w.customer_id and lots.lot_id = w.lot_id limit 1) as l
      ) as lots`.execute(trx);
  const row = result.rows[0];
  if (!row) return;
  const of = (customerId: string) => states.get(customerId)?.programmes;
  for (const r of row.invite_codes) {
    const p = of(r.customer_id);
    if (p)
      p.inviteCode = {
        code: r.code as string,
        inviterId: r.customer_id,
        deviceFingerprint: (r.device_fingerprint as string | null) ?? null,
        paymentFingerprint: (r.payment_fingerprint as string | null) ?? null,
      };
  }
  for (const r of row.is_new) {
    const p = of(r.customer_id);
    if (p) p.isNew = r.is_new;
  }
  for (const r of row.invited_friends)
    of(r.customer_id)?.invitedFriends.set(r.friend_id as string, invitedFriendOf(r));
  for (const r of row.referrals)
    of(r.customer_id)?.referrals.set(referralKey(r.buyer_id as string, r.order_id as string), referralOf(r));
  for (const r of row.months) of(r.customer_id)?.managerMonths.set(r.month as string, managerMonthOf(r));
  for (const l of row.lots) {
    const state = states.get(l.customer_id);
    if (state && !state.ledger.lots.some((x) => x.lotId === l.lot_id)) state.ledger.lots.push(lotFromRow(l));
  }
}

/** Keeps the last row per key: several works of one customer in one group may change a row. */
function lastByKey<T>(rows: T[], key: (row: T) => string): T[] {
  return [...new Map(rows.map((r) => [key(r), r])).values()];
}

/**
 * `write_programmes`: every programme row the customers' works changed, and the effects they
 * recorded, in one statement. Month rows are additions, summed per (manager, month) first; own
 * purchases added after a month was settled change nothing (it was decided on what was known).
 */
export async function writeProgrammes(
  trx: Transaction<Database>,
  writes: CustomerWrite[],
  at: Date,
): Promise<void> {
  const withProgrammes = writes.filter((w) => w.programmes || (w.effects?.length ?? 0) > 0);
  if (withProgrammes.length === 0) return;
  const rows = <T>(
    pick: (w: CustomerWrite) => T[] | undefined,
    map: (customerId: string, v: T) => Record<string, unknown>,
  ) => withProgrammes.flatMap((w) => (pick(w) ?? []).map((v) => map(w.customerId, v)));
  const codes = rows(
    (w) => (w.programmes?.inviteCode ? [w.programmes.inviteCode] : []),
    (c, v) => ({
      code: v.code,
      customer_id: c,
      device_fingerprint: v.deviceFingerprint,
      payment_fingerprint: v.paymentFingerprint,
      created_at: v.createdAt,
    }),
  );
  const invitations = lastByKey(
    rows(
      (w) => (w.programmes?.invitation ? [w.programmes.invitation] : []),
      (c, v) => ({
        customer_id: c,
        inviter_id: v.inviterId,
        code: v.code,
        registered_at: v.registeredAt,
        status: v.status,
        order_id: v.orderId,
        order_total_kop: v.orderTotalKop,
        points: v.points,
        available_from: v.availableFrom,
        expires_at: v.expiresAt,
        seq: v.seq,
      }),
    ),
    (r) => String(r.customer_id),
  );
  const friends = lastByKey(
    rows(
      (w) => w.programmes?.invitedFriends,
      (c, v) => ({
        customer_id: c,
        friend_id: v.friendId,
        registered_at: v.registeredAt,
        status: v.status,
        order_id: v.orderId,
        order_total_kop: v.orderTotalKop,
        points: v.points,
        lot_id: v.lotId,
        applied_seq: v.appliedSeq,
      }),
    ),
    (r) => `${r.customer_id}\u0000${r.friend_id}`,
  );
  const referred = lastByKey(
    rows(
      (w) => w.programmes?.referredOrders,
      (c, v) => ({
        customer_id: c,
        order_id: v.orderId,
        manager_id: v.managerId,
        promo_code: v.promoCode,
        status: v.status,
        rate_bp: v.rateBp,
        points: v.points,
        first_shipped_at: v.firstShippedAt,
        seq: v.seq,
      }),
    ),
    (r) => `${r.customer_id}\u0000${r.order_id}`,
  );
  const managerChanges = rows(
    (w) => (w.programmes?.manager ? [w.programmes.manager] : []),
    (c, v) => ({ customer_id: c, ...v }),
  );
  const managers = lastByKey(
    managerChanges.map((m) => {
      const manager = m.manager as Manager;
      return {
        customer_id: m.customer_id,
        promo_code: manager.promoCode,
        status: manager.status,
        granted_by: manager.grantedBy,
        granted_at: manager.grantedAt,
        revoked_by: manager.revokedBy,
        revoked_at: manager.revokedAt,
      };
    }),
    (r) => String(r.customer_id),
  );
  const managerCodes = managerChanges
    .filter((m) => (m.before as Manager | null)?.promoCode !== (m.manager as Manager).promoCode)
    .map((m) => ({ code: (m.manager as Manager).promoCode, customer_id: m.customer_id, created_at: at }));
  const audits = withProgrammes.flatMap((w) => {
    const change = w.programmes?.manager;
    if (!change) return [];
    return [
      {
        audit_id: change.auditId,
        actor: w.actor,
        action: change.action,
        subject: `customer:${w.customerId}`,
        before: change.before,
        after: change.manager,
        at,
      },
    ];
  });
  const referrals = lastByKey(
    rows(
      (w) => w.programmes?.referrals,
      (c, v) => ({
        customer_id: c,
        buyer_id: v.buyerId,
        order_id: v.orderId,
        month: v.month,
        lot_ids: v.lotIds,
        points: v.points,
        applied_seq: v.appliedSeq,
      }),
    ),
    (r) => `${r.customer_id}\u0000${r.buyer_id}\u0000${r.order_id}`,
  );
  const deltas = new Map<
    string,
    { customer_id: string; month: string; purchases_kop: number; referral_points: number }
  >();
  for (const w of withProgrammes)
    for (const d of w.programmes?.monthDeltas ?? []) {
      const key = `${w.customerId}\u0000${d.month}`;
      const sum = deltas.get(key) ?? {
        customer_id: w.customerId,
        month: d.month,
        purchases_kop: 0,
        referral_points: 0,
      };
      sum.purchases_kop += d.purchasesKop;
      sum.referral_points += d.referralPoints;
      deltas.set(key, sum);
    }
  const settled = lastByKey(
    rows(
      (w) => w.programmes?.settledMonths,
      (c, v) => ({
        customer_id: c,
        month: v.month,
        purchases_kop: v.purchasesKop,
        referral_points: v.referralPoints,
        settled_at: v.settledAt,
        qualified: v.qualified,
        threshold_kop: v.thresholdKop,
      }),
    ),
    (r) => `${r.customer_id}\u0000${r.month}`,
  );
  // A month settled in this transaction holds every earlier work's additions already (the works ran
  // on the state the ones before them left), and later ones add nothing to a settled month.
  for (const m of settled) deltas.delete(`${m.customer_id}\u0000${m.month}`);
  const effects = rows(
    (w) => w.effects,
    (c, v) => ({
      customer_id: c,
      effect_id: v.effectId,
      target_customer_id: v.targetCustomerId,
      type: v.payload.type,
      payload: JSON.stringify(v.payload),
      created_at: at,
    }),
  );
  const json = (value: unknown) => JSON.stringify(value);
  await sql`
    with
      code_rows as (
        insert into invite_codes
        select * from jsonb_to_recordset(${json(codes)}::jsonb) as x(
          code text, customer_id text, device_fingerprint text, payment_fingerprint text, created_at timestamptz)
        returning 1),
      invitation_rows as (
        insert into invitations
        select * from jsonb_to_recordset(${json(invitations)}::jsonb) as x(
          customer_id text, inviter_id text, code text, registered_at timestamptz, status text, order_id text,
          order_total_kop bigint, points bigint, available_from timestamptz, expires_at timestamptz, seq integer)
        on conflict (customer_id) do update
          set status = excluded.status, order_id = excluded.order_id, order_total_kop = excluded.order_total_kop,
              points = excluded.points, available_from = excluded.available_from, expires_at = excluded.expires_at,
              seq = excluded.seq
        returning 1),
      friend_rows as (
        insert into invited_friends
        select * from jsonb_to_recordset(${json(friends)}::jsonb) as x(
          customer_id text, friend_id text, registered_at timestamptz, status text, order_id text,
          order_total_kop bigint, points bigint, lot_id text, applied_seq integer)
        on conflict (customer_id, friend_id) do update
          set status = excluded.status, order_id = excluded.order_id, order_total_kop = excluded.order_total_kop,
              points = excluded.points, lot_id = excluded.lot_id, applied_seq = excluded.applied_seq
        returning 1),
      referred_rows as (
        insert into referred_orders
        select * from jsonb_to_recordset(${json(referred)}::jsonb) as x(
          customer_id text, order_id text, manager_id text, promo_code text, status text, rate_bp integer,
          points bigint, first_shipped_at timestamptz, seq integer)
        on conflict (customer_id, order_id) do update
          set points = excluded.points, first_shipped_at = excluded.first_shipped_at, seq = excluded.seq
        returning 1),
      manager_rows as (
        insert into managers
        select * from jsonb_to_recordset(${json(managers)}::jsonb) as x(
          customer_id text, promo_code text, status text, granted_by text, granted_at timestamptz,
          revoked_by text, revoked_at timestamptz)
        on conflict (customer_id) do update
          set promo_code = excluded.promo_code, status = excluded.status, granted_by = excluded.granted_by,
              granted_at = excluded.granted_at, revoked_by = excluded.revoked_by, revoked_at = excluded.revoked_at
        returning 1),
      manager_code_rows as (
        insert into manager_codes
        select * from jsonb_to_recordset(${json(managerCodes)}::jsonb) as x(
          code text, customer_id text, created_at timestamptz)
        returning 1),
      ${auditRowsCte(audits)},
      referral_rows as (
        insert into manager_referrals
        select * from jsonb_to_recordset(${json(referrals)}::jsonb) as x(
          customer_id text, buyer_id text, order_id text, month text, lot_ids text[], points bigint,
          applied_seq integer)
        on conflict (customer_id, buyer_id, order_id) do update
          set lot_ids = excluded.lot_ids, points = excluded.points, applied_seq = excluded.applied_seq
        returning 1),
      settled_rows as (
        insert into manager_months
        select * from jsonb_to_recordset(${json(settled)}::jsonb) as x(
          customer_id text, month text, purchases_kop bigint, referral_points bigint, settled_at timestamptz,
          qualified boolean, threshold_kop bigint)
        on conflict (customer_id, month) do update
          set referral_points = excluded.referral_points, settled_at = excluded.settled_at,
              qualified = excluded.qualified, threshold_kop = excluded.threshold_kop
        returning customer_id, month),
      delta_rows as (
        insert into manager_months (customer_id, month, purchases_kop, referral_points)
        select x.* from jsonb_to_recordset(${json([...deltas.values()])}::jsonb) as x(
          customer_id text, month text, purchases_kop bigint, referral_points bigint)
        on conflict (customer_id, month) do update
          set purchases_kop = manager_months.purchases_kop
                + case when manager_months.settled_at is null then excluded.purchases_kop else 0 end,
              referral_points = manager_months.referral_points + excluded.referral_points
        returning 1),
      effect_rows as (
        insert into customer_effects (customer_id, effect_id, target_customer_id, type, payload, created_at)
        select * from jsonb_to_recordset(${json(effects)}::jsonb) as x(
          customer_id text, effect_id text, target_customer_id text, type text, payload text, created_at timestamptz)
        on conflict (customer_id, effect_id) do nothing
        returning 1)
    select (select count(*) from code_rows) + (select count(*) from invitation_rows) + (select count(*) from friend_rows)
      + (select count(*) from referred_rows) + (select count(*) from manager_rows) + (select count(*) from manager_code_rows)
      + (select count(*) from audit_rows) + (select count(*) from referral_rows) + (select count(*) from settled_rows)
      + (select count(*) from delta_rows) + (select count(*) from effect_rows) as written`.execute(trx);
}
