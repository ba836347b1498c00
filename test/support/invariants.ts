import { type Kysely, type RawBuilder, sql } from "kysely";
import type { ExplanationCode } from "../../src/domain/ledger/index.js";
import { notificationTypeOf } from "../../src/domain/notifications/index.js";
import { accountsOf, EXPLANATION_CODES, lotIdsOf } from "../../src/infra/movement-rows.js";
import { reconcileLedger } from "../../src/infra/reconciliation.js";
import type { Database } from "../../src/infra/schema.js";

/**
 * Ledger invariants checked straight against the tables (R3, R4, R6, R14, R15, R20, R32), independent of
 * the domain code. Every check returns a list of human-readable violations; an empty list means the
 * ledger is consistent. Pass a customer id to check one customer (cheap), or nothing for the whole
 * database.
 *
 * The invariants:
 *  - R32: every movement nets to zero, its parallel arrays line up, and all postings sum to zero;
 *  - R6, R14, R20, per customer and kind: Σ remaining of available lots = postings to wallet:available =
 *    balances.available; the same for pending; Σ active holds = postings to wallet:held = balances.held;
 *    debt = −postings to wallet:debt = balances.debt; Σ (amount − refunded) of redemptions = postings to
 *    sink:redeemed; none of these (nor sink:expired, sink:clawed_back) negative;
 *  - R3: 0 <= remaining <= amount, and a lot's remaining equals the sum of the lot deltas posted to it;
 *  - R15, R20: holds and redemptions took from lots of their kind, their takes sum to their amount, what
 *    came back matches their state / refunded amount, and no lot is owed back more than it gave;
 *  - R32, per funder: the postings to `funder:<f>` = −(points of its lots, grace lots aside) + points of
 *    its lots cancelled while pending (a clawback before the lot's available_from) + for the marketplace,
 *    what R34 adjustments removed.
 *
 * Two implementations of the same list: `checkLedgerInvariants` reads the rows with one query and checks
 * them here (fast enough to run after every step on PGlite), `checkLedgerInvariantsInSql` is the
 * service's own reconciliation (src/infra/reconciliation.ts: `kopilka verify`, `GET /v1/finance/verify`),
 * set-based SQL. Each guards the other, down to how account and lot codes are read: here with the
 * service's decoder (src/infra/movement-rows.ts), there with its SQL over the stored bytes.
 */

function scope(customerId: string | undefined, column: RawBuilder<unknown> = sql.ref("customer_id")) {
  return customerId === undefined ? sql<boolean>`true` : sql<boolean>`${column} = ${customerId}`;
}

export interface MovementRow {
  customer_id: string;
  movement_id: string;
  kind: string;
  type: string;
  accounts: string[];
  amounts: number[];
  lot_ids: string[];
  lot_deltas: number[];
  reference: string | null;
  occurred_at: Date;
}

export interface LotRow {
  customer_id: string;
  lot_id: string;
  kind: string;
  amount: number;
  remaining: number;
  source: string;
  funder: string;
  state: string;
  created_at: Date;
  available_from: Date;
  expires_at: Date;
  reference: string | null;
}

interface TakesRow {
  customer_id: string;
  kind: string;
  amount: number;
  created_at: Date;
  take_lot_ids: string[];
  take_amounts: number[];
  take_returned: number[];
}

export interface HoldRow extends TakesRow {
  hold_id: string;
  state: string;
  release_reason: string | null;
  expires_at: Date;
}

export interface RedemptionRow extends TakesRow {
  redemption_id: string;
  refunded: number;
}

export interface BalanceRow {
  customer_id: string;
  kind: string;
  available: number;
  pending: number;
  held: number;
  debt: number;
}

/** One customer's (or every customer's) ledger tables, as stored. */
export interface LedgerRows {
  movements: MovementRow[];
  lots: LotRow[];
  holds: HoldRow[];
  redemptions: RedemptionRow[];
  balances: BalanceRow[];
}

/** Reads the ledger tables in one query (JSON is far cheaper to decode than int8[] columns). */
export async function loadLedgerRows(db: Kysely<Database>, customerId?: string): Promise<LedgerRows> {
  const f = scope(customerId);
  const result = await sql<{
    m: (Omit<MovementRow, "accounts" | "lot_ids"> & {
      accounts: string;
      funders: string[] | null;
      lot_refs: string;
    })[];
    l: LotRow[];
    h: HoldRow[];
    r: RedemptionRow[];
    b: BalanceRow[];
  }>`
    select
      (select coalesce(json_agg(x), '[]') from (
        select customer_id, movement_id, kind, type, encode(accounts, 'hex') as accounts, funders, amounts,
          encode(lot_refs, 'hex') as lot_refs, lot_deltas, reference, occurred_at
        from movements where ${f}) as x) as m,
      (select coalesce(json_agg(x), '[]') from lots as x where ${f}) as l,
      (select coalesce(json_agg(x), '[]') from holds as x where ${f}) as h,
      (select coalesce(json_agg(x), '[]') from redemptions as x where ${f}) as r,
      (select coalesce(json_agg(x), '[]') from balances as x where ${f}) as b`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error("no row");
  const date = (v: unknown) => new Date(v as string);
  return {
    movements: row.m.map(({ funders, lot_refs, ...m }) => ({
      ...m,
      accounts: accountsOf(Buffer.from(m.accounts, "hex"), funders),
      lot_ids: lotIdsOf(Buffer.from(lot_refs, "hex")),
      occurred_at: date(m.occurred_at),
    })),
    lots: row.l.map((l) => ({
      ...l,
      created_at: date(l.created_at),
      available_from: date(l.available_from),
      expires_at: date(l.expires_at),
    })),
    holds: row.h.map((h) => ({ ...h, created_at: date(h.created_at), expires_at: date(h.expires_at) })),
    redemptions: row.r.map((r) => ({ ...r, created_at: date(r.created_at) })),
    balances: row.b,
  };
}

const sum = (values: readonly (number | null | undefined)[]) =>
  values.reduce<number>((s, v) => s + (v ?? 0), 0);

/** The invariants listed at the top, over rows already read. */
export function findLedgerViolations(rows: LedgerRows): string[] {
  const violations: string[] = [];
  const perKind = new Map<
    string,
    {
      lotsAvailable: number;
      lotsPending: number;
      activeHolds: number;
      outstanding: number;
      posted: Map<string, number>;
      cache: BalanceRow | undefined;
    }
  >();
  const at = (customerId: string, kind: string) => {
    const key = `${customerId}/${kind}`;
    let entry = perKind.get(key);
    if (!entry) {
      entry = {
        lotsAvailable: 0,
        lotsPending: 0,
        activeHolds: 0,
        outstanding: 0,
        posted: new Map(),
        cache: undefined,
      };
      perKind.set(key, entry);
    }
    return entry;
  };

  // R32.
  let total = 0;
  const lotDeltas = new Map<string, number>();
  for (const m of rows.movements) {
    const net = sum(m.amounts);
    total += net;
    if (
      net !== 0 ||
      m.accounts.length !== m.amounts.length ||
      m.lot_ids.length !== m.lot_deltas.length ||
      m.accounts.length < 2 ||
      m.amounts.includes(0)
    ) {
      violations.push(
        `movement ${m.customer_id}/${m.movement_id} (${m.type}) nets to ${net}; accounts/amounts/lots/deltas have lengths ` +
          `${m.accounts.length}/${m.amounts.length}/${m.lot_ids.length}/${m.lot_deltas.length}`,
      );
    }
    const posted = at(m.customer_id, m.kind).posted;
    m.accounts.forEach((account, i) => {
      posted.set(account, (posted.get(account) ?? 0) + (m.amounts[i] ?? 0));
    });
    m.lot_ids.forEach((lotId, i) => {
      const key = `${m.customer_id}/${lotId}`;
      lotDeltas.set(key, (lotDeltas.get(key) ?? 0) + (m.lot_deltas[i] ?? 0));
    });
  }
  if (total !== 0) violations.push(`postings over all accounts sum to ${total}, not 0`);

  // R3.
  const lots = new Map<string, LotRow>();
  for (const l of rows.lots) {
    const key = `${l.customer_id}/${l.lot_id}`;
    lots.set(key, l);
    const entry = at(l.customer_id, l.kind);
    if (l.state === "available") entry.lotsAvailable += l.remaining;
    else if (l.state === "pending") entry.lotsPending += l.remaining;
    else violations.push(`lot ${key} is in state ${l.state}`);
    const deltas = lotDeltas.get(key) ?? 0;
    if (l.remaining < 0 || l.remaining > l.amount || deltas !== l.remaining) {
      violations.push(
        `lot ${key}: remaining ${l.remaining} of ${l.amount}, lot deltas posted to it sum to ${deltas}`,
      );
    }
  }
  for (const [key, deltas] of lotDeltas) {
    if (!lots.has(key)) violations.push(`movements post ${deltas} to lot ${key}, which does not exist`);
  }

  // R15, R20.
  const owed = new Map<string, number>();
  const checkTakes = (what: string, id: string, t: TakesRow, owes: boolean): string[] => {
    const problems: string[] = [];
    const n = t.take_lot_ids.length;
    if (t.take_amounts.length !== n || t.take_returned.length !== n) {
      problems.push(`take arrays have lengths ${n}/${t.take_amounts.length}/${t.take_returned.length}`);
    }
    const taken = sum(t.take_amounts);
    if (taken !== t.amount) problems.push(`takes sum to ${taken}, amount is ${t.amount}`);
    t.take_lot_ids.forEach((lotId, i) => {
      const a = t.take_amounts[i];
      const r = t.take_returned[i];
      if (a === undefined || r === undefined || a <= 0 || r < 0 || r > a) {
        problems.push(`take ${i} from ${lotId}: amount ${a}, returned ${r}`);
      }
      const lot = lots.get(`${t.customer_id}/${lotId}`);
      if (!lot || lot.kind !== t.kind) problems.push(`take ${i} names no ${t.kind} lot ${lotId}`);
      if (owes && a !== undefined && r !== undefined) {
        const key = `${t.customer_id}/${lotId}`;
        owed.set(key, (owed.get(key) ?? 0) + a - r);
      }
    });
    return problems.map((p) => `${what} ${t.customer_id}/${id}: ${p}`);
  };
  for (const h of rows.holds) {
    violations.push(...checkTakes("hold", h.hold_id, h, h.state === "active"));
    const returned = sum(h.take_returned);
    if ((h.state === "active" || h.state === "captured") && returned !== 0) {
      violations.push(`hold ${h.customer_id}/${h.hold_id}: ${h.state} hold has ${returned} returned`);
    }
    if (h.state === "released" && returned !== h.amount) {
      violations.push(
        `hold ${h.customer_id}/${h.hold_id}: released hold returned ${returned} of ${h.amount}`,
      );
    }
    if (h.state === "active") at(h.customer_id, h.kind).activeHolds += h.amount;
  }
  for (const r of rows.redemptions) {
    violations.push(...checkTakes("redemption", r.redemption_id, r, true));
    const returned = sum(r.take_returned);
    if (returned !== r.refunded) {
      violations.push(
        `redemption ${r.customer_id}/${r.redemption_id}: takes returned ${returned} but refunded ${r.refunded}`,
      );
    }
    if (r.refunded < 0 || r.refunded > r.amount) {
      violations.push(
        `redemption ${r.customer_id}/${r.redemption_id}: refunded ${r.refunded} of ${r.amount}`,
      );
    }
    at(r.customer_id, r.kind).outstanding += r.amount - r.refunded;
  }
  for (const [key, n] of owed) {
    const lot = lots.get(key);
    if (lot && lot.remaining + n > lot.amount) {
      violations.push(
        `lot ${key}: remaining ${lot.remaining} + ${n} still owed back to it by holds and redemptions exceeds its amount ${lot.amount}`,
      );
    }
  }

  // R32, per funder.
  const funders = new Map<string, { posted: number; issued: number; givenBack: number }>();
  const funder = (name: string) => {
    let entry = funders.get(name);
    if (!entry) {
      entry = { posted: 0, issued: 0, givenBack: 0 };
      funders.set(name, entry);
    }
    return entry;
  };
  for (const l of rows.lots) if (l.source !== "refund_grace") funder(l.funder).issued += l.amount;
  for (const m of rows.movements) {
    m.accounts.forEach((account, i) => {
      if (account.startsWith("funder:")) funder(account.slice("funder:".length)).posted += m.amounts[i] ?? 0;
    });
    if (m.type !== "clawback" && m.type !== "adjust") continue;
    m.lot_ids.forEach((lotId, i) => {
      const delta = m.lot_deltas[i] ?? 0;
      const lot = lots.get(`${m.customer_id}/${lotId}`);
      if (delta >= 0 || !lot) return;
      if (m.type === "adjust") funder("marketplace").givenBack -= delta;
      else if (m.occurred_at.getTime() < lot.available_from.getTime()) funder(lot.funder).givenBack -= delta;
    });
  }
  for (const [name, f] of funders) {
    if (f.posted !== f.givenBack - f.issued) {
      violations.push(
        `funder ${name}: its account was posted ${f.posted}, its lots say ${f.givenBack - f.issued} (issued ${f.issued}, given back ${f.givenBack})`,
      );
    }
  }

  // R6, R14, R20.
  for (const b of rows.balances) at(b.customer_id, b.kind).cache = b;
  for (const [key, e] of perKind) {
    const posted = (account: string) => e.posted.get(account) ?? 0;
    const same = (what: string, values: Record<string, number>) => {
      if (new Set(Object.values(values)).size > 1)
        violations.push(`${key}: ${what} disagree: ${JSON.stringify(values)}`);
    };
    same("available", {
      lots: e.lotsAvailable,
      postings: posted("wallet:available"),
      balances: e.cache?.available ?? 0,
    });
    same("pending", {
      lots: e.lotsPending,
      postings: posted("wallet:pending"),
      balances: e.cache?.pending ?? 0,
    });
    same("held", {
      activeHolds: e.activeHolds,
      postings: posted("wallet:held"),
      balances: e.cache?.held ?? 0,
    });
    same("debt", { postings: -posted("wallet:debt"), balances: e.cache?.debt ?? 0 });
    same("redeemed", { redemptions: e.outstanding, postings: posted("sink:redeemed") });
    const totals = {
      available: e.lotsAvailable,
      pending: e.lotsPending,
      held: e.activeHolds,
      debt: e.cache?.debt ?? 0,
      expired: posted("sink:expired"),
      clawedBack: posted("sink:clawed_back"),
      redeemed: posted("sink:redeemed"),
    };
    if (Object.values(totals).some((v) => v < 0))
      violations.push(`${key}: negative total: ${JSON.stringify(totals)}`);
  }
  return violations;
}

/** Every invariant listed at the top, for one customer or the whole database. */
export async function checkLedgerInvariants(db: Kysely<Database>, customerId?: string): Promise<string[]> {
  return [
    ...findLedgerViolations(await loadLedgerRows(db, customerId)),
    ...(await checkOutboxInSql(db, customerId)),
  ];
}

/** Every invariant listed at the top, as the service's reconciliation finds them, and the outbox's. */
export async function checkLedgerInvariantsInSql(
  db: Kysely<Database>,
  customerId?: string,
): Promise<string[]> {
  const found = await reconcileLedger(db, { customerId, limit: 50 });
  return [
    ...found.violations.map((v) => `${v.check}: ${v.message}`),
    ...(await checkOutboxInSql(db, customerId)),
  ];
}

/**
 * R31, the outbox against the ledger: every movement whose explanation tells the customer something
 * has exactly its notification (its digits, its type), and every notification but an expiry notice
 * names a movement of its customer that causes one — so none was written for a refused request (it
 * writes no movement) and none lost for an applied one. Only before the retention sweep.
 */
export async function checkOutboxInSql(db: Kysely<Database>, customerId?: string): Promise<string[]> {
  const codes = Object.entries(EXPLANATION_CODES).flatMap(([code, n]) => {
    const type = notificationTypeOf(code as ExplanationCode);
    return type === null ? [] : [sql`(${n}::smallint, ${type}::text)`];
  });
  // Each lookup goes through a primary key: a check run after every step must not be quadratic.
  const result = await sql<{ problem: string }>`
    with codes (code, type) as (values ${sql.join(codes)})
    select problem from (
      select format('movement %s/%s has no %s notification', m.customer_id, m.movement_id, c.type) as problem
        from movements m join codes c on c.code = m.explanation_code
        where ${scope(customerId, sql.ref("m.customer_id"))} and not exists (
          select 1 from notifications n
          where n.customer_id = m.customer_id and n.notification_id = 'ntf_' || substr(m.movement_id, 5)
            and n.movement_id = m.movement_id and n.type = c.type)
      union all
      select format('notification %s/%s (%s) names no movement of its customer that causes one',
          n.customer_id, n.notification_id, n.type)
        from notifications n
        where ${scope(customerId, sql.ref("n.customer_id"))} and n.threshold_days is null and not exists (
          select 1 from movements m join codes c on c.code = m.explanation_code
          where m.customer_id = n.customer_id and m.movement_id = n.movement_id)
    ) as violations
    limit 50`.execute(db);
  return result.rows.map((r) => r.problem);
}

/** R4 order: soonest-expiring first, then oldest, then by lot id. */
function spendingOrder(
  a: { expires_at: Date; created_at: Date; lot_id: string },
  b: { expires_at: Date; created_at: Date; lot_id: string },
): number {
  return (
    a.expires_at.getTime() - b.expires_at.getTime() ||
    a.created_at.getTime() - b.created_at.getTime() ||
    (a.lot_id < b.lot_id ? -1 : a.lot_id > b.lot_id ? 1 : 0)
  );
}

/**
 * R4: right after a spend or hold took `takes` from a customer's `kind` lots, the taken lots must be the
 * first lots in spending order among the lots that still had points, every one but the last emptied, in
 * that order, and none of them expired at `now`. `lots` are the customer's lots as stored after the take.
 */
export function takesFollowSpendingOrder(
  lots: LotRow[],
  kind: string,
  takes: { lotId: string; amount: number }[],
  now: Date,
): string[] {
  const byId = new Map(lots.map((r) => [r.lot_id, r]));
  const violations: string[] = [];
  const takenIds = new Set<string>();
  for (const t of takes) {
    const lot = byId.get(t.lotId);
    if (!lot) {
      violations.push(`took ${t.amount} from unknown lot ${t.lotId}`);
      continue;
    }
    if (takenIds.has(t.lotId)) violations.push(`took twice from lot ${t.lotId}`);
    takenIds.add(t.lotId);
    if (lot.kind !== kind) violations.push(`took ${kind} points from ${lot.kind} lot ${t.lotId}`);
    if (lot.state !== "available") violations.push(`took from ${lot.state} lot ${t.lotId}`);
    if (lot.expires_at.getTime() <= now.getTime()) {
      violations.push(`took from lot ${t.lotId}, expired at ${lot.expires_at.toISOString()}`);
    }
    if (t.amount <= 0) violations.push(`took ${t.amount} from lot ${t.lotId}`);
  }
  if (violations.length > 0) return violations;
  const candidates = lots
    .filter((r) => r.kind === kind && r.state === "available" && (r.remaining > 0 || takenIds.has(r.lot_id)))
    .sort(spendingOrder);
  const prefix = candidates.slice(0, takes.length).map((r) => r.lot_id);
  const taken = takes.map((t) => t.lotId);
  if (JSON.stringify(prefix) !== JSON.stringify(taken)) {
    violations.push(
      `R4: took from ${JSON.stringify(taken)} but the lots in spending order were ${JSON.stringify(
        candidates.map((r) => `${r.lot_id} exp ${r.expires_at.toISOString()} rem ${r.remaining}`),
      )}`,
    );
  }
  for (const id of taken.slice(0, -1)) {
    const lot = byId.get(id);
    if (lot && lot.remaining !== 0) {
      violations.push(
        `R4: lot ${id} was not emptied (${lot.remaining} left) although a later lot was taken from`,
      );
    }
  }
  return violations;
}

/** `takesFollowSpendingOrder` against the customer's lots as they are stored now. */
export async function checkTakesInSpendingOrder(
  db: Kysely<Database>,
  customerId: string,
  kind: string,
  takes: { lotId: string; amount: number }[],
  now: Date,
): Promise<string[]> {
  return takesFollowSpendingOrder((await loadLedgerRows(db, customerId)).lots, kind, takes, now);
}
