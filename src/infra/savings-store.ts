import { type Kysely, sql, type Transaction } from "kysely";
import type {
  CustomerLoad,
  CustomerState,
  CustomerWrite,
  RecordedSavingsEntry,
  SavingsInterestRecord,
  SavingsState,
} from "../app/ports.js";
import type { SavingsMonthTotals, SavingsStore } from "../app/savings/savings-service.js";
import {
  type CalendarMonth,
  DEFAULT_SAVINGS_MECHANIC,
  type SavingsEntryType,
  type SavingsMechanic,
} from "../domain/savings/index.js";
import { auditRowsCte } from "./audit-rows.js";
import type { Database } from "./schema.js";

/**
 * R25's SQL: the savings accounts, their entries and the months paid. Loading and writing happen in
 * the customer's own transaction (src/infra/ledger-store.ts calls these after its own statement when
 * a work asks for savings), so an account's rows are written only in its customer's work.
 */

interface EntryRow {
  customer_id: string;
  entry_id: string;
  type: SavingsEntryType;
  amount: string | number;
  occurred_at: string | Date;
  balance_after: string | number;
}

function entryOf(row: EntryRow): RecordedSavingsEntry {
  return {
    entryId: row.entry_id,
    type: row.type,
    amount: Number(row.amount),
    occurredAt: new Date(row.occurred_at),
    balanceAfter: Number(row.balance_after),
  };
}

/**
 * `load_savings`: for the customers whose load asks for savings, in one statement, the account
 * (balance, rate), the entries named by id and, for a month being paid, the balance at its start,
 * its entries and whether it was paid. Nothing scales with the account's history but the opening
 * sum, an index range on savings_entries_by_instant.
 */
export async function loadSavings(
  db: Transaction<Database>,
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
): Promise<void> {
  for (const [id, s] of await readSavings(db, requests)) {
    const state = states.get(id);
    if (state) state.savings = s;
  }
}

async function readSavings(
  db: Kysely<Database> | Transaction<Database>,
  requests: CustomerLoad[],
): Promise<Map<string, SavingsState>> {
  const savings = new Map<string, SavingsState>();
  const asked = requests.filter((r) => r.savings);
  if (asked.length === 0) return savings;
  const customers = asked.map((r) => r.customerId);
  const named = asked.flatMap((r) => (r.savings?.entryIds ?? []).map((id) => [r.customerId, id] as const));
  const months = asked.flatMap((r) =>
    r.savings?.month ? [{ customerId: r.customerId, ...r.savings.month }] : [],
  );
  const later = asked.flatMap((r) =>
    r.savings?.laterThan ? [{ customerId: r.customerId, after: r.savings.laterThan }] : [],
  );
  const result = await sql<{
    accounts: {
      customer_id: string;
      balance: string | number;
      rate_bp: number | null;
      mechanic: SavingsMechanic;
    }[];
    named: EntryRow[];
    openings: { customer_id: string; month: string; opening: string | number; paid: boolean }[];
    in_month: EntryRow[];
    later: EntryRow[];
  }>`
    with
      m as (select * from unnest(${months.map((m) => m.customerId)}::text[], ${months.map((m) => m.month)}::text[],
                                 ${months.map((m) => m.start.toISOString())}::timestamptz[],
                                 ${months.map((m) => m.end.toISOString())}::timestamptz[])
                   as m (customer_id, month, start_at, end_at))
    select
      (select coalesce(json_agg(a), '[]') from savings_accounts as a
        where a.customer_id = any(${customers}::text[])) as accounts,
      (select coalesce(json_agg(e), '[]')
         from unnest(${named.map((n) => n[0])}::text[], ${named.map((n) => n[1])}::text[]) as w (customer_id, entry_id)
         join savings_entries as e using (customer_id, entry_id)) as named,
      (select coalesce(json_agg(json_build_object(
                'customer_id', m.customer_id, 'month', m.month,
                'opening', (select coalesce(sum(case e.type when 'deposit' then e.amount else -e.amount end), 0)
                            from savings_entries as e
                            where e.customer_id = m.customer_id and e.occurred_at < m.start_at),
                'paid', exists (select 1 from savings_interest as i
                                where i.customer_id = m.customer_id and i.month = m.month))), '[]')
         from m) as openings,
      (select coalesce(json_agg(e order by e.occurred_at, e.entry_id), '[]')
         from m join savings_entries as e
           on e.customer_id = m.customer_id and e.occurred_at >= m.start_at and e.occurred_at < m.end_at) as in_month,
      -- A late withdrawal's check: the entries after its instant (an index range; empty in time order).
      (select coalesce(json_agg(e order by e.occurred_at, e.entry_id), '[]')
         from unnest(${later.map((l) => l.customerId)}::text[], ${later.map((l) => l.after.toISOString())}::timestamptz[])
                as l (customer_id, after_at)
         join savings_entries as e on e.customer_id = l.customer_id and e.occurred_at > l.after_at) as later`.execute(
    db,
  );
  const row = result.rows[0];
  if (!row) return savings;
  for (const id of customers) savings.set(id, emptyAccount());
  for (const a of row.accounts) {
    const s = savings.get(a.customer_id) as SavingsState;
    s.balance = Number(a.balance);
    s.rateBp = a.rate_bp;
    s.mechanic = a.mechanic;
  }
  for (const e of row.named) savings.get(e.customer_id)?.entries.set(e.entry_id, entryOf(e));
  for (const o of row.openings) {
    const s = savings.get(o.customer_id) as SavingsState;
    const asked = months.find((m) => m.customerId === o.customer_id) as (typeof months)[number];
    s.month = {
      month: o.month,
      start: asked.start,
      end: asked.end,
      opening: Number(o.opening),
      entries: [],
      paid: o.paid,
    };
  }
  for (const e of row.in_month) savings.get(e.customer_id)?.month?.entries.push(entryOf(e));
  for (const l of later) {
    const s = savings.get(l.customerId) as SavingsState;
    s.later = { after: l.after, entries: [] };
  }
  for (const e of row.later) savings.get(e.customer_id)?.later?.entries.push(entryOf(e));
  return savings;
}

/**
 * `write_savings`: the accounts, entries and months paid of a transaction's writes, in one
 * statement. An entry id or a (customer, month) written twice fails the statement (primary keys):
 * the work's load saw neither, so a second one means a bug, and nothing of it is kept.
 */
export async function writeSavings(
  trx: Transaction<Database>,
  writes: CustomerWrite[],
  at: Date,
): Promise<void> {
  const accounts = [];
  const entries = [];
  const interest = [];
  const audits = [];
  for (const w of writes) {
    const s = w.savings;
    if (!s) continue;
    if (s.account) {
      accounts.push({
        customer_id: w.customerId,
        balance: s.account.balance,
        rate_bp: s.account.rateBp,
        mechanic: s.account.mechanic,
      });
    }
    for (const e of s.entries ?? []) {
      entries.push({
        customer_id: w.customerId,
        entry_id: e.entryId,
        type: e.type,
        amount: e.amount,
        occurred_at: e.occurredAt.toISOString(),
        balance_after: e.balanceAfter,
        recorded_at: at.toISOString(),
        actor: w.actor,
      });
    }
    if (s.settingChange) {
      audits.push({
        audit_id: s.settingChange.auditId,
        actor: w.actor,
        action: `savings.set_${s.settingChange.setting}`,
        subject: `customer:${w.customerId}`,
        before: s.settingChange.before,
        after: s.settingChange.after,
        at: at.toISOString(),
      });
    }
    if (s.interest) {
      interest.push({
        customer_id: w.customerId,
        month: s.interest.month,
        points: s.interest.points,
        balance_days: s.interest.balanceDays.toString(),
        days: s.interest.days,
        rate_bp: s.interest.rateBp,
        movement_id: s.interest.movementId,
        paid_at: at.toISOString(),
      });
    }
  }
  if (accounts.length + entries.length + interest.length + audits.length === 0) return;
  await sql`
    with
      account_rows as (
        insert into savings_accounts (customer_id, balance, rate_bp, mechanic)
        select * from jsonb_to_recordset(${JSON.stringify(accounts)}::jsonb)
          as x(customer_id text, balance bigint, rate_bp integer, mechanic text)
        on conflict (customer_id) do update
          set balance = excluded.balance, rate_bp = excluded.rate_bp, mechanic = excluded.mechanic
        returning 1),
      entry_rows as (
        insert into savings_entries (customer_id, entry_id, type, amount, occurred_at, balance_after, recorded_at, actor)
        select * from jsonb_to_recordset(${JSON.stringify(entries)}::jsonb) as x(
          customer_id text, entry_id text, type text, amount bigint, occurred_at timestamptz,
          balance_after bigint, recorded_at timestamptz, actor text)
        returning 1),
      interest_rows as (
        insert into savings_interest (customer_id, month, points, balance_days, days, rate_bp, movement_id, paid_at)
        select x.customer_id, x.month, x.points, x.balance_days::bigint, x.days, x.rate_bp, x.movement_id, x.paid_at
        from jsonb_to_recordset(${JSON.stringify(interest)}::jsonb) as x(
          customer_id text, month text, points bigint, balance_days text, days integer, rate_bp integer,
          movement_id text, paid_at timestamptz)
        returning 1),
      ${auditRowsCte(audits)}
    select (select count(*) from account_rows) + (select count(*) from entry_rows)
      + (select count(*) from interest_rows) + (select count(*) from audit_rows) as written`.execute(trx);
}

/** Reads outside a customer's work: pages of accounts for the monthly run, an account for display. */
export class PostgresSavingsStore implements SavingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async accountsAfter(after: string | null, limit: number): Promise<string[]> {
    const rows = await sql<{ customer_id: string }>`
      select customer_id from savings_accounts
      where customer_id > ${after ?? ""}
      order by customer_id limit ${limit}`.execute(this.db);
    return rows.rows.map((r) => r.customer_id);
  }

  async read(customerId: string, month: CalendarMonth): Promise<SavingsState> {
    const states = await readSavings(this.db, [{ customerId, savings: { month } }]);
    return states.get(customerId) ?? emptyAccount();
  }

  async monthTotals(month: string): Promise<SavingsMonthTotals> {
    const rows = await sql<{ accounts: number; paid: number; points: string | number }>`
      select count(*)::int as accounts, (count(*) filter (where points > 0))::int as paid,
             coalesce(sum(points), 0) as points
      from savings_interest where month = ${month}`.execute(this.db);
    const row = rows.rows[0];
    return {
      month,
      accounts: row?.accounts ?? 0,
      paidAccounts: row?.paid ?? 0,
      points: Number(row?.points ?? 0),
    };
  }

  async monthOf(
    customerId: string,
    month: string,
  ): Promise<(SavingsInterestRecord & { paidAt: Date }) | null> {
    const row = await this.db
      .selectFrom("savings_interest")
      .selectAll()
      .where("customer_id", "=", customerId)
      .where("month", "=", month)
      .executeTakeFirst();
    if (!row) return null;
    return {
      month,
      points: Number(row.points),
      balanceDays: BigInt(row.balance_days),
      days: row.days,
      rateBp: row.rate_bp,
      movementId: row.movement_id,
      paidAt: new Date(row.paid_at),
    };
  }
}

/** An account without a row: nothing deposited, the programme's rate, interest. */
function emptyAccount(): SavingsState {
  return { balance: 0, rateBp: null, mechanic: DEFAULT_SAVINGS_MECHANIC, entries: new Map() };
}
