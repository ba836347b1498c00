import { credit, explainSavingsInterest } from "../../domain/ledger/index.js";
import {
  averageBalance,
  balanceAfter,
  balanceDays,
  type CalendarMonth,
  calendarMonth,
  dayOfMonth,
  interestSchedule,
  monthContaining,
  monthlyInterest,
  monthSlot,
  previousMonth,
  type SavingsEntry,
} from "../../domain/savings/index.js";
import type { CustomerWork, GroupCommitter } from "../group-commit.js";
import { ledgerWrite, type Outcome } from "../ledger-service.js";
import type { Clock, IdGenerator, RecordedSavingsEntry, SavingsState } from "../ports.js";
import type { RunClaims } from "../scheduled-work.js";

/** What the savings use cases read outside a customer's work. */
export interface SavingsStore {
  /** Up to `limit` savings accounts after `after` in customer-id order: a page of the monthly run. */
  accountsAfter(after: string | null, limit: number): Promise<string[]>;
  /** One account as it stands, with `month`'s opening balance and entries (no lock). */
  read(customerId: string, month: CalendarMonth): Promise<SavingsState>;
}

/** R25: the programme's yearly rate in force at an instant, basis points. */
export type SavingsRateSource = (at: Date) => Promise<number>;

export const SAVINGS_INTEREST_TASK = "savings_interest";

/** How long a month's unfinished run is left to its claimer before another instance takes it over. */
const STALE_CLAIM_MS = 3_600_000;

export interface SavingsEntryView {
  entryId: string;
  type: SavingsEntry["type"];
  amount: number;
  occurredAt: string;
  /** The account's balance right after the entry, kopecks. */
  balance: number;
}

export interface SavingsAccountView {
  customerId: string;
  /** Kopecks. */
  balance: number;
  /** The yearly rate that applies, basis points, and where it comes from. */
  rateBp: number;
  rateSource: "programme" | "customer";
  month: string;
  /**
   * R25: this month's interest accrued so far, points: the month's formula over the days through
   * today (today's end-of-day balance is the balance now), floor once. The month pays at least this.
   */
  accruedThisMonth: number;
  /** The days of the month counted so far, and the month's days. */
  daysSoFar: number;
  daysInMonth: number;
}

export type SavingsResult<V> = Outcome<V> & { replayed: boolean };

/**
 * R25 use cases. Every write is the customer's own work in the group committer (load, a pure step,
 * write); the monthly run submits a page of accounts at once, so each transaction the lanes make
 * loads and writes up to KOPILKA_CUSTOMERS_PER_TRANSACTION accounts of one hash range in one load
 * and one write statement.
 */
export class SavingsService {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly store: SavingsStore,
    private readonly claims: RunClaims,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly programmeRate: SavingsRateSource,
    /** The operator's IANA time zone (KOPILKA_TIME_ZONE): a day ends at midnight there. */
    private readonly timeZone: string,
    private readonly pageSize = 2_000,
  ) {}

  /**
   * R25: a deposit or withdrawal the marketplace reports, idempotent by its id: the same id with the
   * same entry answers it again, with another one is a conflict. A withdrawal beyond the balance is
   * refused and changes nothing.
   */
  record(customerId: string, entry: SavingsEntry, actor: string): Promise<SavingsResult<SavingsEntryView>> {
    return this.committer.submit<SavingsResult<SavingsEntryView>>({
      customerId,
      load: { savings: { entryIds: [entry.entryId] } },
      run: (state) => {
        const savings = state.savings as SavingsState;
        const prior = savings.entries.get(entry.entryId);
        if (prior) {
          const same =
            prior.type === entry.type &&
            prior.amount === entry.amount &&
            prior.occurredAt.getTime() === entry.occurredAt.getTime();
          if (!same) {
            return {
              result: {
                ok: false,
                replayed: false,
                code: "IDEMPOTENCY_CONFLICT",
                message: `savings entry ${entry.entryId} was reported before with a different ${prior.type === entry.type ? "amount or instant" : "type"}`,
                details: {
                  fields: [{ field: "body.id", message: "was reported before with another entry" }],
                  entryId: entry.entryId,
                },
              },
            };
          }
          return { result: { ok: true, replayed: true, value: entryView(prior) } };
        }
        if (entry.occurredAt.getTime() > this.clock.now().getTime()) {
          return {
            result: {
              ok: false,
              replayed: false,
              code: "INVALID_DATES",
              message: "occurredAt is in the future: report money once it has moved",
              details: { fields: [{ field: "body.occurredAt", message: "must not be in the future" }] },
            },
          };
        }
        if (entry.type === "withdrawal" && entry.amount > savings.balance) {
          return {
            result: {
              ok: false,
              replayed: false,
              code: "INSUFFICIENT_SAVINGS",
              message: `the withdrawal of ${entry.amount} kopecks is more than the savings balance of ${savings.balance}`,
              details: {
                fields: [
                  { field: "body.amount", message: `must be at most the balance, ${savings.balance}` },
                ],
                amount: entry.amount,
                balance: savings.balance,
              },
            },
          };
        }
        const recorded = { ...entry, balanceAfter: balanceAfter(savings.balance, [entry]) };
        return {
          result: { ok: true, replayed: false, value: entryView(recorded) },
          write: {
            actor,
            savings: {
              account: { balance: recorded.balanceAfter, rateBp: savings.rateBp },
              entries: [recorded],
            },
          },
        };
      },
    });
  }

  /** R25, R30: the operator's rate for one customer (null: back to the programme's), audited. */
  setRate(
    customerId: string,
    rateBp: number | null,
    actor: string,
  ): Promise<{ customerId: string; rateBp: number | null }> {
    const auditId = this.ids.newId("aud");
    return this.committer.submit({
      customerId,
      load: { savings: {} },
      run: (state) => {
        const savings = state.savings as SavingsState;
        return {
          result: { customerId, rateBp },
          write: {
            actor,
            savings: {
              account: { balance: savings.balance, rateBp },
              rateChange: { auditId, before: savings.rateBp, after: rateBp },
            },
          },
        };
      },
    });
  }

  /** R25: the balance, the rate and this month's interest so far (through today's end). */
  async account(customerId: string): Promise<SavingsAccountView> {
    const now = this.clock.now();
    const month = monthContaining(now, this.timeZone);
    const [savings, programme] = await Promise.all([
      this.store.read(customerId, month),
      this.programmeRate(now),
    ]);
    const rateBp = savings.rateBp ?? programme;
    const opened = savings.month ?? { opening: 0, entries: [] };
    const daysSoFar = dayOfMonth(now, this.timeZone);
    const sum = balanceDays(opened.opening, opened.entries, month, this.timeZone, daysSoFar);
    return {
      customerId,
      balance: savings.balance,
      rateBp,
      rateSource: savings.rateBp === null ? "programme" : "customer",
      month: month.month,
      accruedThisMonth: monthlyInterest(sum, month.days, rateBp),
      daysSoFar,
      daysInMonth: month.days,
    };
  }

  /** R25's calculator: no writes; the rate defaults to the programme's. */
  async calculate(amount: number, months: number, rateBp: number | undefined) {
    const rate = rateBp ?? (await this.programmeRate(this.clock.now()));
    return { amount, rateBp: rate, ...interestSchedule(amount, rate, months) };
  }

  /** The month before now's, paid once by whichever instance claims it first. */
  payDueMonth(claimer: string): Promise<{ claimed: boolean; accounts: number; points: number }> {
    return this.payMonth(previousMonth(monthContaining(this.clock.now(), this.timeZone).month), claimer);
  }

  /**
   * R25: pays `month` (YYYY-MM, over) for every account: claimed once per month across instances
   * (scheduled_runs), and once per (customer, month) by the savings_interest primary key, checked in
   * each customer's own work, so a month run twice — or resumed after a crash — pays once.
   */
  async payMonth(
    month: string,
    claimer: string,
  ): Promise<{ claimed: boolean; accounts: number; points: number }> {
    const calendar = calendarMonth(month, this.timeZone);
    if (calendar.end.getTime() > this.clock.now().getTime()) {
      throw new Error(`month ${month} is not over yet`);
    }
    const now = this.clock.now();
    const slot = monthSlot(month);
    // A run whose instance died keeps its claim unfinished: after STALE_CLAIM_MS another takes it
    // over and pays the accounts not paid yet (the rest find their month paid).
    const claimed =
      (await this.claims.claim(SAVINGS_INTEREST_TASK, slot, claimer, now)) ||
      (await this.claims.reclaim(
        SAVINGS_INTEREST_TASK,
        slot,
        claimer,
        now,
        new Date(now.getTime() - STALE_CLAIM_MS),
      ));
    if (!claimed) return { claimed: false, accounts: 0, points: 0 };
    const paid = await this.payAll(calendar);
    await this.claims.finish(SAVINGS_INTEREST_TASK, slot, paid.accounts, this.clock.now());
    return { claimed: true, ...paid };
  }

  /** Every account's `month`, page by page, without a claim (a claimed run, or a test's second run). */
  async payAll(calendar: CalendarMonth): Promise<{ accounts: number; points: number }> {
    // The rate of the version in force on the month's last day.
    const programme = await this.programmeRate(new Date(calendar.end.getTime() - 1));
    let after: string | null = null;
    let accounts = 0;
    let points = 0;
    for (;;) {
      const page = await this.store.accountsAfter(after, this.pageSize);
      if (page.length === 0) break;
      const paid = await this.committer.submitAll(page.map((c) => this.interestWork(c, calendar, programme)));
      accounts += paid.filter((p) => p > 0).length;
      points += paid.reduce((a, b) => a + b, 0);
      after = page[page.length - 1] as string;
    }
    return { accounts, points };
  }

  private interestWork(
    customerId: string,
    calendar: CalendarMonth,
    programmeRateBp: number,
  ): CustomerWork<number> {
    const { month, start, end, days } = calendar;
    return {
      customerId,
      load: { savings: { month: { month, start, end } } },
      run: (state, ctx) => {
        const savings = state.savings as SavingsState;
        const opened = savings.month;
        if (opened?.month !== month) throw new Error(`the load of ${customerId} holds no month ${month}`);
        if (opened.paid) return { result: 0 };
        const sum = balanceDays(opened.opening, opened.entries, calendar, this.timeZone);
        if (sum <= 0n) return { result: 0 };
        const rateBp = savings.rateBp ?? programmeRateBp;
        const points = monthlyInterest(sum, days, rateBp);
        const record = { month, points, balanceDays: sum, days, rateBp, movementId: null };
        if (points === 0) return { result: 0, write: { actor: "system", savings: { interest: record } } };
        const change = credit(
          state.ledger,
          {
            kind: "savings",
            amount: points,
            source: "savings_interest",
            funder: "savings_interest",
            reference: `savings:${month}`,
            explanation: explainSavingsInterest(month, averageBalance(sum, days), rateBp, points),
          },
          ctx,
        );
        if (!change.ok) throw new Error(`savings interest for ${customerId} refused: ${change.message}`);
        const movementId = change.movements.find((m) => m.type === "credit")?.movementId ?? null;
        return {
          result: points,
          write: {
            actor: "system",
            ledger: ledgerWrite(state.ledger, change),
            savings: { interest: { ...record, movementId } },
          },
        };
      },
    };
  }
}

function entryView(entry: RecordedSavingsEntry): SavingsEntryView {
  return {
    entryId: entry.entryId,
    type: entry.type,
    amount: entry.amount,
    occurredAt: entry.occurredAt.toISOString(),
    balance: entry.balanceAfter,
  };
}
