import { addDays, credit, explainSavingsInterest } from "../../domain/ledger/index.js";
import {
  averageBalance,
  balanceAfter,
  balanceDays,
  type CalendarMonth,
  calendarMonth,
  dayOfMonth,
  interestSchedule,
  lowestBalanceFrom,
  monthContaining,
  monthlyInterest,
  previousMonth,
  type SavingsEntry,
  type SavingsMechanic,
} from "../../domain/savings/index.js";
import type { CustomerWork, GroupCommitter } from "../group-commit.js";
import { keyedWork } from "../keyed-work.js";
import {
  type ConflictRefusal,
  ledgerWrite,
  type Outcome,
  type WriteRequest,
  type WriteResult,
} from "../ledger-service.js";
import { runMonthOnce } from "../monthly-run.js";
import type {
  Clock,
  IdGenerator,
  LedgerStore,
  RecordedSavingsEntry,
  SavingsAccountRow,
  SavingsInterestRecord,
  SavingsSettingChange,
  SavingsState,
} from "../ports.js";
import type { RunClaims } from "../scheduled-work.js";

/** What the savings use cases read outside a customer's work. */
export interface SavingsStore {
  /** Up to `limit` savings accounts after `after` in customer-id order: a page of the monthly run. */
  accountsAfter(after: string | null, limit: number): Promise<string[]>;
  /** One account as it stands, with `month`'s opening balance and entries (no lock). */
  read(customerId: string, month: CalendarMonth): Promise<SavingsState>;
  /** What `month` paid in all (an operator's report: it reads every row of the month). */
  monthTotals(month: string): Promise<SavingsMonthTotals>;
  /** What `month` paid one customer; null: nothing recorded (no balance that month, or cashback). */
  monthOf(customerId: string, month: string): Promise<(SavingsInterestRecord & { paidAt: Date }) | null>;
}

/** R25: a month's run as recorded: accounts with a positive balance that month, those paid a point or more. */
export interface SavingsMonthTotals {
  month: string;
  accounts: number;
  paidAccounts: number;
  points: number;
}

/**
 * R25: the programme's savings numbers in force at an instant: the yearly rate and the cashback rate,
 * basis points, and R3's days the points credited then live.
 */
export type SavingsPolicySource = (
  at: Date,
) => Promise<{ annualRateBp: number; cashbackBp: number; expiryDays: number }>;

export const SAVINGS_INTEREST_TASK = "savings_interest";

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
  /** R25: what the account earns: monthly interest, or cashback on purchases paid from it. */
  mechanic: SavingsMechanic;
  /** R25: the programme's cashback rate now, basis points of the money paid (for cashback customers). */
  cashbackBp: number;
  month: string;
  /**
   * R25: this month's interest accrued so far, points: the month's formula over the days through
   * today (today's end-of-day balance is the balance now), floor once. The month pays at least this.
   * Always 0 for a cashback customer, who earns no interest.
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
    /** Its locks, for the month's set-based statements. */
    private readonly ledger: LedgerStore,
    private readonly store: SavingsStore,
    private readonly claims: RunClaims,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly programme: SavingsPolicySource,
    /** The operator's IANA time zone (KOPILKA_TIME_ZONE): a day ends at midnight there. */
    private readonly timeZone: string,
    /** Accounts the monthly run reads at once; their groups are paid `lanes` at a time. */
    private readonly pageSize = 10_000,
  ) {}

  /**
   * R25: a deposit or withdrawal the marketplace reports, idempotent by its id: the same id with the
   * same entry answers it again, with another one is a conflict. A withdrawal beyond the balance is
   * refused and changes nothing. A withdrawal may be reported late (its occurredAt before entries
   * already recorded): it must fit the balance at its instant and leave every later balance ≥ 0, i.e.
   * be at most the lowest the balance is from its instant on.
   */
  record(customerId: string, entry: SavingsEntry, actor: string): Promise<SavingsResult<SavingsEntryView>> {
    return this.committer.submit<SavingsResult<SavingsEntryView>>({
      customerId,
      load: {
        savings: {
          entryIds: [entry.entryId],
          ...(entry.type === "withdrawal" ? { laterThan: entry.occurredAt } : {}),
        },
      },
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
        const room = lowestBalanceFrom(savings.balance, savings.later?.entries ?? [], entry.occurredAt);
        if (entry.type === "withdrawal" && entry.amount > room) {
          const backdated = room < savings.balance;
          return {
            result: {
              ok: false,
              replayed: false,
              code: "INSUFFICIENT_SAVINGS",
              message: backdated
                ? `the withdrawal of ${entry.amount} kopecks at ${entry.occurredAt.toISOString()} would leave a later balance below zero: from then on the balance is as low as ${room}`
                : `the withdrawal of ${entry.amount} kopecks is more than the savings balance of ${savings.balance}`,
              details: {
                fields: [
                  {
                    field: "body.amount",
                    message: backdated
                      ? `must be at most ${room}, the lowest balance from body.occurredAt on`
                      : `must be at most the balance, ${savings.balance}`,
                  },
                ],
                amount: entry.amount,
                balance: savings.balance,
                lowestBalanceFromOccurredAt: room,
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
              account: { balance: recorded.balanceAfter, rateBp: savings.rateBp, mechanic: savings.mechanic },
              entries: [recorded],
            },
          },
        };
      },
    });
  }

  /** R25, R30: the operator's rate for one customer (null: back to the programme's), audited. */
  setRate(customerId: string, rateBp: number | null, request: WriteRequest) {
    return this.setSetting(customerId, "rate", request, (savings, auditId) => ({
      account: { ...savings, rateBp },
      change: { auditId, setting: "rate", before: { rateBp: savings.rateBp }, after: { rateBp } },
      value: { customerId, rateBp },
    }));
  }

  /**
   * R25: what the customer's account earns from now on — `interest` (monthly, the default) or
   * `cashback` (on orders paid from the account and placed from now on) — audited. A month's interest
   * is paid to the customers whose mechanic is interest when the month is paid.
   */
  setMechanic(customerId: string, mechanic: SavingsMechanic, request: WriteRequest) {
    return this.setSetting(customerId, "mechanic", request, (savings, auditId) => ({
      account: { ...savings, mechanic },
      change: { auditId, setting: "mechanic", before: { mechanic: savings.mechanic }, after: { mechanic } },
      value: { customerId, mechanic },
    }));
  }

  /**
   * One of the customer's settings changed in its own work: the account row rewritten, the change
   * audited, and the answer stored under the request's Idempotency-Key (a retry replays it).
   */
  private setSetting<V>(
    customerId: string,
    setting: SavingsSettingChange["setting"],
    request: WriteRequest,
    change: (
      savings: SavingsAccountRow,
      auditId: string,
    ) => { account: SavingsAccountRow; change: SavingsSettingChange; value: V },
  ): Promise<WriteResult<V> | ConflictRefusal> {
    const auditId = this.ids.newId("aud");
    return this.committer.submit(
      keyedWork<V>(customerId, `set_savings_${setting}`, request, { savings: {} }, (state) => {
        const { balance, rateBp, mechanic } = state.savings as SavingsState;
        const changed = change({ balance, rateBp, mechanic }, auditId);
        return {
          outcome: { ok: true, value: changed.value },
          write: { savings: { account: changed.account, settingChange: changed.change } },
        };
      }),
    );
  }

  /** R25: the balance, the rate and this month's interest so far (through today's end). */
  async account(customerId: string): Promise<SavingsAccountView> {
    const now = this.clock.now();
    const month = monthContaining(now, this.timeZone);
    const [savings, programme] = await Promise.all([this.store.read(customerId, month), this.programme(now)]);
    const rateBp = savings.rateBp ?? programme.annualRateBp;
    const opened = savings.month ?? { opening: 0, entries: [] };
    const daysSoFar = dayOfMonth(now, this.timeZone);
    const sum = balanceDays(opened.opening, opened.entries, month, this.timeZone, daysSoFar);
    return {
      customerId,
      balance: savings.balance,
      rateBp,
      rateSource: savings.rateBp === null ? "programme" : "customer",
      mechanic: savings.mechanic,
      cashbackBp: programme.cashbackBp,
      month: month.month,
      accruedThisMonth: savings.mechanic === "interest" ? monthlyInterest(sum, month.days, rateBp) : 0,
      daysSoFar,
      daysInMonth: month.days,
    };
  }

  /** R25's calculator: no writes; the rate defaults to the programme's. */
  async calculate(amount: number, months: number, rateBp: number | undefined) {
    const rate = rateBp ?? (await this.programme(this.clock.now())).annualRateBp;
    return { amount, rateBp: rate, ...interestSchedule(amount, rate, months) };
  }

  /** R25: what `month` paid, in all or (with `customerId`) one account; reads only, never pays. */
  async monthReport(month: string, customerId?: string) {
    const [totals, account] = await Promise.all([
      this.store.monthTotals(month),
      customerId === undefined ? undefined : this.store.monthOf(customerId, month),
    ]);
    if (customerId === undefined) return { ...totals };
    return {
      ...totals,
      customer: account
        ? {
            customerId,
            points: account.points,
            averageBalance: averageBalance(account.balanceDays, account.days),
            rateBp: account.rateBp,
            days: account.days,
            movementId: account.movementId,
            paidAt: account.paidAt.toISOString(),
          }
        : { customerId, points: 0, averageBalance: 0, rateBp: null, days: 0, movementId: null, paidAt: null },
    };
  }

  /**
   * R25, an operator's rerun of a month that is over (`kopilka savings pay`): every account not paid
   * for it yet, without the scheduler's claim — each (customer, month) still pays once, so paying
   * twice pays once. Refused (a value) for a month not over.
   */
  async payAgain(
    month: string,
  ): Promise<{ ok: true; accounts: number; points: number } | { ok: false; message: string }> {
    const calendar = calendarMonth(month, this.timeZone);
    if (!this.isOver(calendar)) {
      return { ok: false, message: `${month} is not over yet: a month is paid once it has ended` };
    }
    return { ok: true, ...(await this.payAll(calendar)) };
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
    if (!this.isOver(calendar)) throw new Error(`month ${month} is not over yet`);
    const run = await runMonthOnce(
      this.claims,
      SAVINGS_INTEREST_TASK,
      month,
      claimer,
      () => this.clock.now(),
      () => this.payAll(calendar),
      (paid) => paid.accounts,
    );
    return run.claimed ? run : { claimed: false, accounts: 0, points: 0 };
  }

  private isOver(calendar: CalendarMonth): boolean {
    return calendar.end.getTime() <= this.clock.now().getTime();
  }

  /**
   * Every account's `month`, page by page, without a claim (a claimed run, or a rerun). Each page is
   * paid set-based, one statement per hash range and at most KOPILKA_CUSTOMERS_PER_TRANSACTION
   * customers (src/infra/savings-interest-bulk.ts), as many at once as there are lanes; the few accounts whose
   * credit depends on more than itself (a savings debt, something due) take the per-customer path.
   */
  async payAll(calendar: CalendarMonth): Promise<{ accounts: number; points: number }> {
    // The rate of the version in force on the month's last day.
    const programme = (await this.programme(new Date(calendar.end.getTime() - 1))).annualRateBp;
    let after: string | null = null;
    let accounts = 0;
    let points = 0;
    for (;;) {
      const page = await this.store.accountsAfter(after, this.pageSize);
      if (page.length === 0) break;
      // As many statements in flight as the committer has lanes: one per hash range, as its writes.
      const groups = this.committer.transactionGroups(page);
      const next = async (): Promise<void> => {
        const group = groups.shift();
        if (!group) return;
        const paid = await this.payInBulk(group, calendar, programme);
        accounts += paid.accounts;
        points += paid.points;
        return next();
      };
      await Promise.all(Array.from({ length: this.committer.laneCount }, next));
      after = page[page.length - 1] as string;
    }
    return { accounts, points };
  }

  /** One group of accounts in one statement; those it leaves go through their own work. */
  private async payInBulk(customers: string[], calendar: CalendarMonth, programmeRateBp: number) {
    const now = this.clock.now();
    const { expiryDays } = await this.programme(now);
    const bulk = await this.ledger.withCustomers(customers, (tx) =>
      tx.payInterestInBulk({
        month: calendar,
        timeZone: this.timeZone,
        programmeRateBp,
        now,
        expiresAt: addDays(now, expiryDays),
        movementIdBlock: this.ids.newIdBlock("mov"),
        lotIdBlock: this.ids.newIdBlock("lot"),
      }),
    );
    const alone = await this.committer.submitAll(
      bulk.perCustomer.map((c) => this.interestWork(c, calendar, programmeRateBp)),
    );
    return {
      accounts: bulk.accounts + alone.filter((p) => p > 0).length,
      points: bulk.points + alone.reduce((a, b) => a + b, 0),
    };
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
        // R25: a cashback customer earns no interest (the mechanic as the month is paid decides).
        if (opened.paid || savings.mechanic === "cashback") return { result: 0 };
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
