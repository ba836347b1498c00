/**
 * Group commit (src/app/group-commit.ts) on a real database: concurrent writes for different customers
 * share transactions; a customer is never in two in-flight transactions of one instance; works of one
 * customer in one group see each other's effects and may change the same rows; a refusal or a throwing
 * work answers only itself; a failing group is split so that the others still succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GroupCommitter } from "../../src/app/group-commit.js";
import { LedgerService, ledgerWrite, type WriteRequest } from "../../src/app/ledger-service.js";
import type { LedgerStore, LedgerTransaction } from "../../src/app/ports.js";
import { fixedPolicy } from "../../src/app/programme-rules.js";
import { ScheduledWork } from "../../src/app/scheduled-work.js";
import { SETTINGS } from "../../src/config.js";
import { clawback, DEFAULT_LEDGER_POLICY } from "../../src/domain/ledger/index.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { PostgresLedgerStore } from "../../src/infra/ledger-store.js";
import { PostgresRunClaims } from "../../src/infra/run-claims.js";
import { FakeClock } from "../support/clock.js";
import { freshDatabase } from "../support/database.js";
import { expectOk } from "../support/ledger.js";

/** The real store, watched: which customers each transaction held, and overlaps in flight. */
class WatchedStore implements LedgerStore {
  transactions: string[][] = [];
  private inFlight = new Set<string>();
  overlaps = 0;
  failWritesFor: string | null = null;

  constructor(private readonly inner: PostgresLedgerStore) {}

  sweepStoredAnswers(cutoff: Date, limit: number) {
    return this.inner.sweepStoredAnswers(cutoff, limit);
  }

  async withCustomers<T>(customerIds: string[], work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    const customers = [...new Set(customerIds)];
    for (const c of customers) if (this.inFlight.has(c)) this.overlaps++;
    for (const c of customers) this.inFlight.add(c);
    this.transactions.push(customers);
    try {
      return await this.inner.withCustomers(customerIds, (tx) =>
        work({
          load: (requests, now) => tx.load(requests, now),
          settleDueLotsInBulk: (now, base) => tx.settleDueLotsInBulk(now, base),
          reserveFromBudgets: (reservations) => tx.reserveFromBudgets(reservations),
          budgetSlices: (budgetIds) => tx.budgetSlices(budgetIds),
          payInterestInBulk: (run) => tx.payInterestInBulk(run),
          write: async (writes, at) => {
            if (this.failWritesFor && writes.some((w) => w.customerId === this.failWritesFor))
              throw new Error(`injected failure writing ${this.failWritesFor}`);
            return tx.write(writes, at);
          },
        }),
      );
    } finally {
      for (const c of customers) this.inFlight.delete(c);
    }
  }
  readBalance: LedgerStore["readBalance"] = (...args) => this.inner.readBalance(...args);
  history: LedgerStore["history"] = (...args) => this.inner.history(...args);
  customersWithDueWork: LedgerStore["customersWithDueWork"] = (...args) =>
    this.inner.customersWithDueWork(...args);
}

const database = await freshDatabase();
const clock = new FakeClock();
const ids = new MonotonicIds();
const store = new WatchedStore(new PostgresLedgerStore(database.db));
const policies = fixedPolicy(DEFAULT_LEDGER_POLICY);
const committer = new GroupCommitter(
  store,
  clock,
  async (now) => ({ now, newId: (p) => ids.newId(p), policy: DEFAULT_LEDGER_POLICY }),
  { lanes: database.kind === "pglite" ? 1 : 3, customersPerTransaction: 50 },
);
const service = new LedgerService(store, committer, clock, policies, SETTINGS.timeZone.default);
let n = 0;
const request = (): WriteRequest => {
  n += 1;
  return { idempotencyKey: `k-${n}`, fingerprint: `f-${n}`, requestId: `req_${n}`, actor: "test" };
};
const bonus = (amount: number) =>
  ({ kind: "bonus", amount, source: "campaign", funder: "campaign:c-1" }) as const;

describe("group commit", () => {
  beforeAll(async () => {
    // Every customer starts with one lot of 100 (one transaction each, before the concurrent work).
    for (let i = 0; i < 60; i++) expectOk(await service.credit(`gc-${i}`, bonus(100), request()));
  });
  afterAll(async () => {
    await database.drop();
  });

  it("concurrent writes for different customers share transactions, never two for one customer at once", async () => {
    store.transactions = [];
    store.overlaps = 0;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        service.spend(`gc-${i}`, { redemptionId: `s-${i}`, kind: "bonus", amount: 10 }, request()),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    // 60 requests, at most 50 customers a transaction, a few lanes: far fewer transactions than requests.
    expect(store.transactions.length).toBeLessThan(12);
    expect(Math.max(...store.transactions.map((t) => t.length))).toBeGreaterThan(1);
    expect(store.overlaps).toBe(0);
    const balance = await service.balance("gc-7");
    expect(balance.kinds.bonus.available).toBe(90);
  });

  it("works of one customer in one transaction see each other and may change the same lot", async () => {
    store.transactions = [];
    const spends = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        service.spend("gc-1", { redemptionId: `same-${i}`, kind: "bonus", amount: 20 }, request()),
      ),
    );
    // 90 available: four spends of 20 succeed, the other four are refused, each answering itself.
    expect(spends.filter((r) => r.ok)).toHaveLength(4);
    const refused = spends.filter((r) => !r.ok);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.ok === false && r.code).toBe("INSUFFICIENT_POINTS");
    // All of them took the same lot and were committed without being split into one per request.
    expect(store.transactions.length).toBeLessThan(8);
    expect((await service.balance("gc-1")).kinds.bonus.available).toBe(10);
  });

  it("a failing group is split: the failing work alone fails, the others still commit", async () => {
    store.transactions = [];
    store.failWritesFor = "gc-20";
    try {
      const results = await Promise.allSettled(
        [20, 21, 22, 23].map((i) =>
          service.spend(`gc-${i}`, { redemptionId: `split-${i}`, kind: "bonus", amount: 5 }, request()),
        ),
      );
      expect(results[0]?.status).toBe("rejected");
      for (const r of results.slice(1)) expect(r.status === "fulfilled" && r.value.ok).toBe(true);
    } finally {
      store.failWritesFor = null;
    }
    expect((await service.balance("gc-20")).kinds.bonus.available).toBe(90);
    expect((await service.balance("gc-21")).kinds.bonus.available).toBe(85);
  });

  it("a work that throws answers only itself", async () => {
    const [bad, good] = await Promise.allSettled([
      committer.submit({
        customerId: "gc-30",
        load: {},
        run: () => {
          throw new Error("a bug in one work");
        },
      }),
      service.spend("gc-31", { redemptionId: "after-bug", kind: "bonus", amount: 1 }, request()),
    ]);
    expect(bad?.status).toBe("rejected");
    expect(good?.status === "fulfilled" && good.value.ok).toBe(true);
  });

  it("widens the R4 prefix when a work needs more lots than it asked to load", async () => {
    // Twelve small lots (186 points); a clawback of 150 run with no prefix asked for must still take
    // them in the R4 order: the domain asks for a wider load and the lane runs the work again.
    for (let i = 0; i < 12; i++) expectOk(await service.credit("gc-wide", bonus(10 + i), request()));
    let runs = 0;
    const result = await committer.submit<unknown>({
      customerId: "gc-wide",
      load: {},
      run: (state, ctx) => {
        runs++;
        const r = clawback(state.ledger, { kind: "bonus", amount: 150 }, ctx);
        if (!r.ok) return { result: r };
        return { result: r.value, write: { actor: "test", ledger: ledgerWrite(state.ledger, r) } };
      },
    });
    expect(result).toMatchObject({ clawedBack: 150, shortfall: 0 });
    expect(runs).toBeGreaterThan(1);
    expect((await service.balance("gc-wide")).kinds.bonus.available).toBe(36);
  });

  it("the scheduled work's bulk statements hold no more customers than a group commit may", async () => {
    const onePerTransaction = new GroupCommitter(
      store,
      clock,
      async (now) => ({ now, newId: (p) => ids.newId(p), policy: DEFAULT_LEDGER_POLICY }),
      { lanes: 1, customersPerTransaction: 1 },
    );
    const pending = { ...bonus(5), availableFrom: new Date(clock.now().getTime() + 60_000) };
    for (const c of ["gc-s1", "gc-s2", "gc-s3"]) expectOk(await service.credit(c, pending, request()));
    clock.advanceSeconds(120);
    store.transactions = [];
    const work = new ScheduledWork(
      store,
      service,
      new PostgresRunClaims(database.db),
      clock,
      ids,
      onePerTransaction,
      24,
    );
    expect(await work.run(7, "test")).toMatchObject({ claimed: true });
    expect(store.transactions.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...store.transactions.map((t) => t.length))).toBe(1);
    expect((await service.balance("gc-s2")).kinds.bonus).toMatchObject({ available: 5, pending: 0 });
  });
});
