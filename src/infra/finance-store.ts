import { type RawBuilder, sql } from "kysely";
import type {
  BreakageRecord,
  FinanceStore,
  ForecastRecord,
  LiabilityRecord,
  Period,
  Reconciliation,
  RowPages,
  StatementRecord,
} from "../app/finance/ports.js";
import type { DatabaseHandle } from "./db.js";
import { lotDeltaRowsSql } from "./movement-rows.js";
import { reconcileLedger } from "./reconciliation.js";
import { cursorPages } from "./report-cursor.js";

/** Sums come back as numeric text: exact, whatever their size. */
type Sums<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] };

async function* parsed<T>(pages: AsyncIterable<Sums<T>[]>, sums: readonly (keyof T)[]): RowPages<T> {
  for await (const page of pages) {
    yield page.map((row) => {
      const out = { ...row } as Record<keyof T, unknown>;
      for (const key of sums) out[key] = BigInt(row[key] as string);
      return out as T;
    });
  }
}

/** A month in the operator's time zone, as `YYYY-MM`, of a timestamptz expression. */
const monthIn = (timeZone: string, column: string) =>
  sql`to_char(${sql.ref(column)} at time zone ${timeZone}, 'YYYY-MM')`;

/**
 * Finance reports, set-based across customers (README "Finance: liability, breakage and
 * reconciliation"): each is one named statement read through a cursor (src/infra/report-cursor.ts).
 */
export class PostgresFinanceStore implements FinanceStore {
  constructor(private readonly database: Pick<DatabaseHandle, "db" | "pool" | "bounded">) {}

  private rows<T>(query: RawBuilder<Sums<T>>): AsyncIterable<Sums<T>[]> {
    return cursorPages(this.database, query.compile(this.database.db));
  }

  liability(): RowPages<LiabilityRecord> {
    // Lots' remaining points by state, and what active holds took from each funder's lots.
    const query = sql<Sums<LiabilityRecord>>`
      -- liability_by_kind_and_funder
      with
        in_lots as (
          select kind, funder,
            coalesce(sum(remaining) filter (where state = 'pending'), 0) as pending,
            coalesce(sum(remaining) filter (where state = 'available'), 0) as available
          from lots where remaining > 0
          group by kind, funder),
        in_holds as (
          select h.kind, l.funder, sum(t.amount - t.returned) as held
          from holds as h
            cross join lateral unnest(h.take_lot_ids, h.take_amounts, h.take_returned) as t(lot_id, amount, returned)
            join lots as l on l.customer_id = h.customer_id and l.lot_id = t.lot_id
          where h.state = 'active'
          group by h.kind, l.funder)
      select kind, funder, coalesce(pending, 0)::text as pending, coalesce(available, 0)::text as available,
             coalesce(held, 0)::text as held
      from in_lots full join in_holds using (kind, funder)
      order by kind, funder`;
    return parsed(this.rows(query), ["pending", "available", "held"]);
  }

  breakage(period: Period, timeZone: string): RowPages<BreakageRecord> {
    // R5: an expiry movement writes off what was left of its lot; the lot names the funder.
    const query = sql<Sums<BreakageRecord>>`
      -- breakage_by_month_kind_funder
      select ${monthIn(timeZone, "m.occurred_at")} as month, m.kind, l.funder, sum(-d.delta)::text as expired
      from movements as m
        cross join ${lotDeltaRowsSql()} as d
        join lots as l on l.customer_id = m.customer_id and l.lot_id = d.lot_id
      where m.type = 'expire' and m.occurred_at >= ${period.start} and m.occurred_at < ${period.end}
      group by 1, 2, 3
      order by 1, 2, 3`;
    return parsed(this.rows(query), ["expired"]);
  }

  expiryForecast(after: Date, before: Date, timeZone: string): RowPages<ForecastRecord> {
    // The scheduler's due indexes by instant (migration 3) serve this range across customers: each
    // predicate states their always-true `amount > 0`.
    const query = sql<Sums<ForecastRecord>>`
      -- expiry_forecast_by_month_kind_funder
      select ${monthIn(timeZone, "expires_at")} as month, kind, funder, sum(remaining)::text as expiring
      from (
        select expires_at, kind, funder, remaining from lots
        where state = 'available' and remaining > 0 and amount > 0 and expires_at > ${after} and expires_at < ${before}
        union all
        select expires_at, kind, funder, remaining from lots
        where state = 'pending' and amount > 0 and remaining > 0 and expires_at > ${after} and expires_at < ${before}
      ) as expiring
      group by 1, 2, 3
      order by 1, 2, 3`;
    return parsed(this.rows(query), ["expiring"]);
  }

  funderStatement(
    funder: string,
    months: readonly string[],
    period: Period,
    timeZone: string,
  ): RowPages<StatementRecord> {
    // Issued: the funder's lots as credited (R15 grace lots re-home points already issued). Taken
    // back and expired: the lot deltas of clawbacks, support removals and expiries on its lots.
    const query = sql<Sums<StatementRecord>>`
      -- funder_statement_by_month
      with
        issued as (
          select ${monthIn(timeZone, "created_at")} as month, sum(amount) as issued
          from lots
          where funder = ${funder} and source <> 'refund_grace'
            and created_at >= ${period.start} and created_at < ${period.end}
          group by 1),
        taken as (
          select ${monthIn(timeZone, "m.occurred_at")} as month,
            sum(-d.delta) filter (where m.type in ('clawback', 'adjust')) as clawed_back,
            sum(-d.delta) filter (where m.type = 'expire') as expired
          from movements as m
            cross join ${lotDeltaRowsSql()} as d
            join lots as l on l.customer_id = m.customer_id and l.lot_id = d.lot_id
          where m.type in ('clawback', 'adjust', 'expire') and d.delta < 0 and l.funder = ${funder}
            and m.occurred_at >= ${period.start} and m.occurred_at < ${period.end}
          group by 1)
      select month, coalesce(i.issued, 0)::text as issued, coalesce(t.clawed_back, 0)::text as "clawedBack",
             coalesce(t.expired, 0)::text as expired
      from unnest(${[...months]}::text[]) as months(month)
        left join issued as i using (month)
        left join taken as t using (month)
      order by month`;
    return parsed(this.rows(query), ["issued", "clawedBack", "expired"]);
  }

  reconcile(limit: number): Promise<Reconciliation> {
    return this.database.bounded(Number.POSITIVE_INFINITY, () =>
      reconcileLedger(this.database.db, { limit }),
    );
  }
}
