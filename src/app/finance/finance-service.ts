import {
  FORECAST_MONTHS,
  forecastMonths,
  type MonthSpan,
  monthsFromTo,
  outstanding,
  statementNet,
} from "../../domain/finance/index.js";
import { POINT_KINDS, type PointKind } from "../../domain/kinds.js";
import type { Principal } from "../access.js";
import type { Outcome } from "../ledger-service.js";
import type { Clock } from "../ports.js";
import type {
  BreakageRecord,
  FinanceStore,
  ForecastRecord,
  LiabilityRecord,
  RowPages,
  StatementRecord,
  Violation,
} from "./ports.js";

export const FINANCE_REFUSAL_CODES = ["INVALID_MONTH_RANGE"] as const;

/** How many violations a reconciliation lists at most (it counts on to say whether there were more). */
export const VERIFY_LIMIT = 100;

/**
 * A report as it streams: its rows in pages, what the JSON answer says around them. `tail` is
 * known once every page was read (totals over the rows); CSV has the columns and the rows only.
 */
export interface Report<Row> {
  /** The rows' fields, in order: the CSV's columns and each JSON row's keys. */
  readonly columns: readonly (keyof Row & string)[];
  readonly head: Record<string, unknown>;
  readonly pages: RowPages<Row>;
  tail(): Record<string, unknown>;
}

export type LiabilityRow = LiabilityRecord & { outstanding: bigint };
export type StatementRow = StatementRecord & { net: bigint };

/** Each report's row fields, in order: its CSV columns. */
export const REPORT_COLUMNS = {
  liability: ["kind", "funder", "pending", "available", "held", "outstanding"],
  breakage: ["month", "kind", "funder", "expired"],
  expiryForecast: ["month", "kind", "funder", "expiring"],
  funderStatement: ["month", "issued", "clawedBack", "expired", "net"],
} as const satisfies {
  liability: readonly (keyof LiabilityRow)[];
  breakage: readonly (keyof BreakageRecord)[];
  expiryForecast: readonly (keyof ForecastRecord)[];
  funderStatement: readonly (keyof StatementRow)[];
};

/** What the reconciliation found, with the trial balance it added up. */
export interface VerifyReport {
  ok: boolean;
  checkedAt: string;
  movements: bigint;
  postings: { wallets: bigint; sinks: bigint; funders: bigint; total: bigint };
  violations: Violation[];
  truncated: boolean;
}

async function* mapped<In, Out>(pages: RowPages<In>, map: (row: In) => Out): RowPages<Out> {
  for await (const page of pages) yield page.map(map);
}

function perKind<T>(zero: () => T): Record<PointKind, T> {
  return Object.fromEntries(POINT_KINDS.map((kind) => [kind, zero()])) as Record<PointKind, T>;
}

/**
 * Finance over the whole ledger, for operators and auditors: liability, breakage, the expiry
 * forecast, funders' statements (README "Finance: liability, breakage and reconciliation") and the
 * reconciliation. Everything reads; nothing here writes.
 */
export class FinanceService {
  constructor(
    private readonly store: FinanceStore,
    private readonly clock: Clock,
    private readonly timeZone: string,
  ) {}

  /** Outstanding points by kind and funder (R6 states: pending, available, held), as recorded now. */
  liability(): Report<LiabilityRow> {
    const totals = perKind(() => ({ pending: 0n, available: 0n, held: 0n, outstanding: 0n }));
    return {
      columns: REPORT_COLUMNS.liability,
      head: { asOf: this.clock.now().toISOString() },
      pages: mapped(this.store.liability(), (record) => {
        const row = { ...record, outstanding: outstanding(record) };
        const total = totals[row.kind];
        total.pending += row.pending;
        total.available += row.available;
        total.held += row.held;
        total.outstanding += row.outstanding;
        return row;
      }),
      tail: () => ({ totals }),
    };
  }

  /** R5: what expired per month of [from, to], by kind and funder. */
  breakage(query: { from: string; to: string }): Outcome<Report<BreakageRecord>> {
    const range = this.months(query);
    if (!range.ok) return range;
    const totals = perKind(() => 0n);
    return {
      ok: true,
      value: {
        columns: REPORT_COLUMNS.breakage,
        head: { from: query.from, to: query.to, timeZone: this.timeZone },
        pages: mapped(this.store.breakage(range.value, this.timeZone), (row) => {
          totals[row.kind] += row.expired;
          return row;
        }),
        tail: () => ({ totals }),
      },
    };
  }

  /**
   * R3, R5: what will expire in this month and the next eleven unless it is spent first — the
   * remaining points of available lots and of pending ones whose expiry is set, from now on.
   */
  expiryForecast(): Report<ForecastRecord> {
    const now = this.clock.now();
    const span = forecastMonths(now, this.timeZone);
    const totals = perKind(() => 0n);
    return {
      columns: REPORT_COLUMNS.expiryForecast,
      head: {
        asOf: now.toISOString(),
        timeZone: this.timeZone,
        from: span.months[0],
        to: span.months[FORECAST_MONTHS - 1],
      },
      pages: mapped(this.store.expiryForecast(now, span.end, this.timeZone), (row) => {
        totals[row.kind] += row.expiring;
        return row;
      }),
      tail: () => ({ totals }),
    };
  }

  /**
   * A funder's statement, month by month of [from, to]: issued, clawed back, expired and net. A
   * seller key reads its own (`seller:<its id>`) only.
   */
  funderStatement(
    funder: string,
    query: { from: string; to: string },
    principal: Principal,
  ): Outcome<Report<StatementRow>> {
    if (
      principal.type === "key" &&
      principal.role === "seller" &&
      funder !== `seller:${principal.sellerId}`
    ) {
      return {
        ok: false,
        code: "FORBIDDEN",
        message: `a seller key reads only the statement of seller:${principal.sellerId}`,
        details: { funder },
      };
    }
    const range = this.months(query);
    if (!range.ok) return range;
    const totals = { issued: 0n, clawedBack: 0n, expired: 0n, net: 0n };
    const { months, start, end } = range.value;
    const records = this.store.funderStatement(funder, months, { start, end }, this.timeZone);
    return {
      ok: true,
      value: {
        columns: REPORT_COLUMNS.funderStatement,
        head: { funder, from: query.from, to: query.to, timeZone: this.timeZone },
        pages: mapped(records, (record) => {
          const row = { ...record, net: statementNet(record) };
          totals.issued += row.issued;
          totals.clawedBack += row.clawedBack;
          totals.expired += row.expired;
          totals.net += row.net;
          return row;
        }),
        tail: () => ({ totals }),
      },
    };
  }

  /** The reconciliation (R32 and the invariants behind the balances), over one snapshot. */
  async verify(limit = VERIFY_LIMIT): Promise<VerifyReport> {
    const checkedAt = this.clock.now().toISOString();
    const found = await this.store.reconcile(limit);
    const { wallets, sinks, funders } = found.postings;
    return {
      ok: found.violations.length === 0,
      checkedAt,
      movements: found.movements,
      postings: { wallets, sinks, funders, total: wallets + sinks + funders },
      violations: found.violations,
      truncated: found.truncated,
    };
  }

  private months(query: { from: string; to: string }): Outcome<MonthSpan> {
    const range = monthsFromTo(query.from, query.to, this.timeZone);
    if (range.ok) return { ok: true, value: range.span };
    const field = "querystring.to";
    return {
      ok: false,
      code: "INVALID_MONTH_RANGE",
      message: `${field} ${range.message}`,
      details: { fields: [{ field, message: range.message }] },
    };
  }
}
