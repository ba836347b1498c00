import { type Kysely, sql, type Transaction } from "kysely";
import type { CustomerLoad, CustomerState, CustomerWrite } from "../app/ports.js";
import type { PremiumStore } from "../app/premium/premium-service.js";
import type { PremiumInterval, PremiumPeriod } from "../domain/premium/index.js";
import { type AuditRow, auditRowsCte } from "./audit-rows.js";
import type { Database } from "./schema.js";

/**
 * R28's SQL (migration 15): a customer's Premium periods and their union (`premium_coverage`).
 * Periods are loaded and written in the customer's own work (src/infra/ledger-store.ts calls these
 * after its own statements when a work asks for them); "is the customer Premium at T" is one probe of
 * the coverage's primary key, and never reads the periods.
 */

interface PeriodRow {
  customer_id: string;
  period_id: string;
  version: number;
  starts_at: string | Date;
  ends_at: string | Date;
  recorded_by: string;
  recorded_at: string | Date;
}

function periodOf(row: PeriodRow): PremiumPeriod {
  return {
    periodId: row.period_id,
    version: row.version,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    recordedBy: row.recorded_by,
    recordedAt: new Date(row.recorded_at),
  };
}

/** `load_premium`: the periods of the customers whose work asks for them, in one statement. */
export async function loadPremium(
  trx: Transaction<Database>,
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
): Promise<void> {
  const customers = requests.filter((r) => r.premium).map((r) => r.customerId);
  if (customers.length === 0) return;
  for (const id of customers) {
    const state = states.get(id);
    if (state) state.premium = { periods: new Map() };
  }
  const rows = await sql<PeriodRow>`
    select * from premium_periods where customer_id = any(${customers}::text[])`.execute(trx);
  for (const row of rows.rows)
    states.get(row.customer_id)?.premium?.periods.set(row.period_id, periodOf(row));
}

/**
 * `write_premium`: the periods reported with new dates, each customer's coverage after them (its
 * intervals upserted, the ones it no longer has deleted: disjoint rows, so one statement may do
 * both) and the audit rows. Several works of one customer in a transaction: the last coverage wins.
 */
export async function writePremium(trx: Transaction<Database>, writes: CustomerWrite[], at: Date) {
  const withPremium = writes.filter((w) => w.premium);
  if (withPremium.length === 0) return;
  const periods = new Map<string, unknown>();
  const coverage = new Map<string, PremiumInterval[]>();
  const audits: AuditRow[] = [];
  for (const w of withPremium) {
    const p = w.premium as NonNullable<CustomerWrite["premium"]>;
    periods.set(`${w.customerId}\u0000${p.period.periodId}`, {
      customer_id: w.customerId,
      period_id: p.period.periodId,
      version: p.period.version,
      starts_at: p.period.startsAt.toISOString(),
      ends_at: p.period.endsAt.toISOString(),
      recorded_by: p.period.recordedBy,
      recorded_at: p.period.recordedAt.toISOString(),
    });
    coverage.set(w.customerId, p.coverage);
    audits.push({
      audit_id: p.auditId,
      actor: w.actor,
      action: "premium.record_period",
      subject: `customer:${w.customerId}`,
      before: p.before && auditedPeriod(p.before),
      after: auditedPeriod(p.period),
      at: at.toISOString(),
    });
  }
  const intervals = [...coverage].flatMap(([customer_id, list]) =>
    list.map((i) => ({ customer_id, starts_at: i.startsAt.toISOString(), ends_at: i.endsAt.toISOString() })),
  );
  await sql`
    with
      period_rows as (
        insert into premium_periods
        select * from jsonb_to_recordset(${JSON.stringify([...periods.values()])}::jsonb) as x(
          customer_id text, period_id text, version integer, starts_at timestamptz, ends_at timestamptz,
          recorded_by text, recorded_at timestamptz)
        on conflict (customer_id, period_id) do update
          set version = excluded.version, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
              recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at
        returning 1),
      new_coverage as (
        select * from jsonb_to_recordset(${JSON.stringify(intervals)}::jsonb)
          as x(customer_id text, starts_at timestamptz, ends_at timestamptz)),
      coverage_rows as (
        insert into premium_coverage select * from new_coverage
        on conflict (customer_id, starts_at) do update set ends_at = excluded.ends_at
        returning 1),
      gone_rows as (
        delete from premium_coverage as c
        where c.customer_id = any(${[...coverage.keys()]}::text[])
          and not exists (select 1 from new_coverage as n
                          where n.customer_id = c.customer_id and n.starts_at = c.starts_at)
        returning 1),
      ${auditRowsCte(audits)}
    select (select count(*) from period_rows) + (select count(*) from coverage_rows)
      + (select count(*) from gone_rows) + (select count(*) from audit_rows) as written`.execute(trx);
}

function auditedPeriod(p: PremiumPeriod) {
  return {
    periodId: p.periodId,
    version: p.version,
    startsAt: p.startsAt.toISOString(),
    endsAt: p.endsAt.toISOString(),
  };
}

/** Reads outside a customer's work: Premium at instants (orders, quotes), and a customer's periods. */
export class PostgresPremiumStore implements PremiumStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * `premium_at`: for each (customer, instant), the coverage interval holding it, if any — one
   * backward probe of premium_coverage's primary key per pair, in one statement.
   */
  async intervalsAt(
    asked: readonly { customerId: string; at: Date }[],
  ): Promise<(PremiumInterval | undefined)[]> {
    if (asked.length === 0) return [];
    const rows = await sql<{
      ordinal: number;
      starts_at: string | Date | null;
      ends_at: string | Date | null;
    }>`
      select w.ordinal::int as ordinal, c.starts_at, c.ends_at
      from unnest(${asked.map((a) => a.customerId)}::text[], ${asked.map((a) => a.at.toISOString())}::timestamptz[])
        with ordinality as w (customer_id, at, ordinal)
      left join lateral (
        select starts_at, ends_at from premium_coverage
        where premium_coverage.customer_id = w.customer_id and premium_coverage.starts_at <= w.at
        order by starts_at desc limit 1) as c on c.ends_at > w.at`.execute(this.db);
    const found: (PremiumInterval | undefined)[] = asked.map(() => undefined);
    for (const r of rows.rows) {
      if (r.starts_at !== null && r.ends_at !== null)
        found[r.ordinal - 1] = { startsAt: new Date(r.starts_at), endsAt: new Date(r.ends_at) };
    }
    return found;
  }

  async periods(customerId: string): Promise<PremiumPeriod[]> {
    const rows = await sql<PeriodRow>`
      select * from premium_periods where customer_id = ${customerId}
      order by starts_at, period_id`.execute(this.db);
    return rows.rows.map(periodOf);
  }
}
