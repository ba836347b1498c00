import { type Kysely, sql, type Transaction } from "kysely";
import type {
  CustomerTransaction,
  HistoryPage,
  LedgerRefs,
  LedgerStore,
  StoredOutcome,
} from "../app/ports.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import type {
  BalanceTotals,
  CreditSource,
  CustomerLedger,
  Hold,
  LedgerChange,
  Lot,
  LotTake,
  Movement,
  Redemption,
} from "../domain/ledger/index.js";
import type { Database } from "./schema.js";

type Db = Kysely<Database> | Transaction<Database>;

function takesFromRow(row: {
  take_lot_ids: string[];
  take_amounts: number[];
  take_returned: number[];
}): LotTake[] {
  return row.take_lot_ids.map((lotId, i) => ({
    lotId,
    amount: row.take_amounts[i] ?? 0,
    returned: row.take_returned[i] ?? 0,
  }));
}

function takesToColumns(takes: LotTake[]) {
  return {
    take_lot_ids: takes.map((t) => t.lotId),
    take_amounts: takes.map((t) => t.amount),
    take_returned: takes.map((t) => t.returned),
  };
}

function lotFromRow(r: Database["lots"]): Lot {
  return {
    lotId: r.lot_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    remaining: r.remaining,
    source: r.source as CreditSource,
    funder: r.funder,
    state: r.state as Lot["state"],
    createdAt: r.created_at,
    availableFrom: r.available_from,
    expiresAt: r.expires_at,
    reference: r.reference,
  };
}

/** Loads what one customer's operations need: open lots, active and referenced holds, debts. */
async function loadLedger(db: Db, customerId: string, refs: LedgerRefs): Promise<CustomerLedger> {
  const holdIds = refs.holdIds ?? [];
  const holdRows = await db
    .selectFrom("holds")
    .selectAll()
    .where("customer_id", "=", customerId)
    .where((eb) =>
      holdIds.length > 0
        ? eb.or([eb("state", "=", "active"), eb("hold_id", "in", holdIds)])
        : eb("state", "=", "active"),
    )
    .execute();
  const redemptionRows =
    refs.redemptionIds && refs.redemptionIds.length > 0
      ? await db
          .selectFrom("redemptions")
          .selectAll()
          .where("customer_id", "=", customerId)
          .where("redemption_id", "in", refs.redemptionIds)
          .execute()
      : [];
  const holds: Hold[] = holdRows.map((r) => ({
    holdId: r.hold_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    state: r.state as Hold["state"],
    releaseReason: r.release_reason as Hold["releaseReason"],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    takes: takesFromRow(r),
  }));
  const redemptions: Redemption[] = redemptionRows.map((r) => ({
    redemptionId: r.redemption_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    refunded: r.refunded,
    createdAt: r.created_at,
    takes: takesFromRow(r),
  }));
  // Points may go back into lots that are empty now, so the lots behind holds and redemptions load too.
  const referencedLots = [
    ...(refs.lotIds ?? []),
    ...holds.flatMap((h) => h.takes.map((t) => t.lotId)),
    ...redemptions.flatMap((r) => r.takes.map((t) => t.lotId)),
  ];
  const lotRows = await sql<Database["lots"]>`
    select * from lots
    where customer_id = ${customerId}
      and (remaining > 0 or state = 'pending' or lot_id = any(${referencedLots}::text[]))`.execute(db);
  const debtRows = await db
    .selectFrom("balances")
    .select(["kind", "debt"])
    .where("customer_id", "=", customerId)
    .execute();
  const debt = { bonus: 0, savings: 0, referral: 0 } as Record<PointKind, number>;
  for (const r of debtRows) debt[r.kind as PointKind] = r.debt;
  return { customerId, lots: lotRows.rows.map(lotFromRow), holds, redemptions, debt };
}

export class PostgresCustomerTransaction implements CustomerTransaction {
  constructor(
    protected readonly trx: Transaction<Database>,
    protected readonly customerId: string,
  ) {}

  async findOutcome(scope: string, key: string): Promise<StoredOutcome | undefined> {
    const row = await this.trx
      .selectFrom("idempotency")
      .select(["fingerprint", "request_id", "outcome"])
      .where("customer_id", "=", this.customerId)
      .where("scope", "=", scope)
      .where("key", "=", key)
      .executeTakeFirst();
    return row && { fingerprint: row.fingerprint, requestId: row.request_id, outcome: row.outcome };
  }

  async saveOutcome(scope: string, key: string, stored: StoredOutcome, at: Date): Promise<void> {
    await this.trx
      .insertInto("idempotency")
      .values({
        customer_id: this.customerId,
        scope,
        key,
        fingerprint: stored.fingerprint,
        request_id: stored.requestId,
        outcome: JSON.stringify(stored.outcome),
        created_at: at,
      })
      .execute();
  }

  loadLedger(refs: LedgerRefs): Promise<CustomerLedger> {
    return loadLedger(this.trx, this.customerId, refs);
  }

  async apply(
    change: LedgerChange<unknown>,
    balances: Record<PointKind, BalanceTotals>,
    actor: string,
  ): Promise<void> {
    const customer_id = this.customerId;
    if (change.lots.length > 0) {
      await this.trx
        .insertInto("lots")
        .values(
          change.lots.map((l) => ({
            customer_id,
            lot_id: l.lotId,
            kind: l.kind,
            amount: l.amount,
            remaining: l.remaining,
            source: l.source,
            funder: l.funder,
            state: l.state,
            created_at: l.createdAt,
            available_from: l.availableFrom,
            expires_at: l.expiresAt,
            reference: l.reference,
          })),
        )
        .onConflict((oc) =>
          oc.columns(["customer_id", "lot_id"]).doUpdateSet((eb) => ({
            remaining: eb.ref("excluded.remaining"),
            state: eb.ref("excluded.state"),
          })),
        )
        .execute();
    }
    if (change.holds.length > 0) {
      await this.trx
        .insertInto("holds")
        .values(
          change.holds.map((h) => ({
            customer_id,
            hold_id: h.holdId,
            kind: h.kind,
            amount: h.amount,
            state: h.state,
            release_reason: h.releaseReason,
            created_at: h.createdAt,
            expires_at: h.expiresAt,
            ...takesToColumns(h.takes),
          })),
        )
        .onConflict((oc) =>
          oc.columns(["customer_id", "hold_id"]).doUpdateSet((eb) => ({
            state: eb.ref("excluded.state"),
            release_reason: eb.ref("excluded.release_reason"),
            take_returned: eb.ref("excluded.take_returned"),
          })),
        )
        .execute();
    }
    if (change.redemptions.length > 0) {
      await this.trx
        .insertInto("redemptions")
        .values(
          change.redemptions.map((r) => ({
            customer_id,
            redemption_id: r.redemptionId,
            kind: r.kind,
            amount: r.amount,
            refunded: r.refunded,
            created_at: r.createdAt,
            ...takesToColumns(r.takes),
          })),
        )
        .onConflict((oc) =>
          oc.columns(["customer_id", "redemption_id"]).doUpdateSet((eb) => ({
            refunded: eb.ref("excluded.refunded"),
            take_returned: eb.ref("excluded.take_returned"),
          })),
        )
        .execute();
    }
    if (change.movements.length > 0) {
      await this.trx
        .insertInto("movements")
        .values(
          change.movements.map((m) => ({
            customer_id,
            movement_id: m.movementId,
            kind: m.kind,
            type: m.type,
            accounts: m.postings.map((p) => p.account),
            amounts: m.postings.map((p) => p.amount),
            lot_ids: m.lotDeltas.map((d) => d.lotId),
            lot_deltas: m.lotDeltas.map((d) => d.delta),
            reference: m.reference,
            explanation_ru: m.explanation.ru,
            explanation_en: m.explanation.en,
            actor,
            occurred_at: m.occurredAt,
          })),
        )
        .execute();
    }
    await this.trx
      .insertInto("balances")
      .values(POINT_KINDS.map((kind) => ({ customer_id, kind, ...balances[kind] })))
      .onConflict((oc) =>
        oc.columns(["customer_id", "kind"]).doUpdateSet((eb) => ({
          available: eb.ref("excluded.available"),
          pending: eb.ref("excluded.pending"),
          held: eb.ref("excluded.held"),
          debt: eb.ref("excluded.debt"),
        })),
      )
      .execute();
  }
}

/** SQLSTATEs after which the whole transaction can simply run again: serialization failure, deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 5;

export function isRetryable(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && RETRYABLE.has((error as { code?: string }).code ?? "")
  );
}

/**
 * One transaction holding the customer's lock: the row that serializes that customer's writes, and
 * only theirs. A serialization failure or deadlock rolls everything back, so the work runs again
 * from the start (it reads its inputs inside the transaction); after MAX_ATTEMPTS the error stands.
 */
export async function inCustomerTransaction<T>(
  db: Kysely<Database>,
  customerId: string,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const locked =
          await sql`select 1 from customers where customer_id = ${customerId} for update`.execute(trx);
        if (locked.rows.length === 0) {
          await sql`insert into customers (customer_id) values (${customerId}) on conflict do nothing`.execute(
            trx,
          );
          await sql`select 1 from customers where customer_id = ${customerId} for update`.execute(trx);
        }
        return work(trx);
      });
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2 ** attempt + Math.random() * 10));
    }
  }
}

export class PostgresLedgerStore implements LedgerStore {
  constructor(private readonly db: Kysely<Database>) {}

  withCustomer<T>(customerId: string, work: (tx: CustomerTransaction) => Promise<T>): Promise<T> {
    return inCustomerTransaction(this.db, customerId, (trx) =>
      work(new PostgresCustomerTransaction(trx, customerId)),
    );
  }

  readLedger(customerId: string): Promise<CustomerLedger> {
    return this.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute((trx) => loadLedger(trx, customerId, {}));
  }

  async history(customerId: string, cursor: string | null, limit: number): Promise<HistoryPage> {
    let query = this.db
      .selectFrom("movements")
      .selectAll()
      .where("customer_id", "=", customerId)
      .orderBy("movement_id", "desc")
      .limit(limit + 1);
    if (cursor) query = query.where("movement_id", "<", cursor);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const movements = page.map((r): Movement & { actor: string } => ({
      movementId: r.movement_id,
      customerId: r.customer_id,
      kind: r.kind as PointKind,
      type: r.type as Movement["type"],
      postings: r.accounts.map((account, i) => ({ account, amount: r.amounts[i] ?? 0 })),
      lotDeltas: r.lot_ids.map((lotId, i) => ({ lotId, delta: r.lot_deltas[i] ?? 0 })),
      reference: r.reference,
      explanation: { ru: r.explanation_ru, en: r.explanation_en },
      occurredAt: r.occurred_at,
      actor: r.actor,
    }));
    const last = page[page.length - 1];
    return { movements, nextCursor: rows.length > limit && last ? last.movement_id : null };
  }

  async customersWithDueWork(now: Date, limit: number, afterCustomerId: string | null): Promise<string[]> {
    const result = await sql<{ customer_id: string }>`
      select customer_id from (
        select customer_id from lots where state = 'pending' and available_from <= ${now}
        union
        select customer_id from lots where state = 'available' and remaining > 0 and expires_at <= ${now}
        union
        select customer_id from holds where state = 'active' and expires_at <= ${now}
      ) as due
      where ${afterCustomerId}::text is null or customer_id > ${afterCustomerId}
      order by customer_id
      limit ${limit}`.execute(this.db);
    return result.rows.map((r) => r.customer_id);
  }
}
