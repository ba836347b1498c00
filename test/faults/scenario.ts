import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import {
  redeliverUntilAccepted,
  type SharedAnswered,
  type SharedResult,
  type SharedWork,
  sharedWork,
  verifyShared,
} from "./contention.js";
import {
  type HttpAnswer,
  inProcessService,
  ledgerViolations,
  log,
  Random,
  type ScenarioDatabase,
  SHORT,
} from "./support.js";
import {
  type Answered,
  answerDifferences,
  callOf,
  describeStatuses,
  describeSteps,
  envelopeProblem,
  exactlyOnceProblems,
  injectTarget,
  isLedgerWrite,
  isWrite,
  ledgerSummary,
  newStats,
  type RunStats,
  replayComparable,
  replayOn,
  type Step,
  sendUntilAnswered,
  summaryDifferences,
  type Target,
  Workload,
} from "./workload.js";

/** A write sent once and never retried: if its answer was lost it is "unacknowledged". */
export interface FireOnce {
  step: Step;
  answer: HttpAnswer | undefined;
  error: string | undefined;
}

export interface LoadResult {
  /** Each client's requests to its own customers, in the order it sent them. */
  perClient: Step[][];
  answered: Answered[];
  fireOnce: FireOnce[];
  /** The requests to the customers all clients share (test/faults/contention.ts). */
  shared: SharedResult;
  stats: RunStats;
  ms: number;
}

/** The shared customers' work of a scenario's load: small in the short form. */
export function defaultSharedWork(prefix: string, seed: number, clients: number, baseTime: Date): SharedWork {
  return sharedWork({
    prefix,
    seed,
    clients,
    baseTime,
    ...(SHORT
      ? { customers: 2, orders: 6, creditsPerCustomer: 3 }
      : { customers: 4, orders: 40, creditsPerCustomer: 10 }),
  });
}

/**
 * Runs `clients` clients, each sending its workload's requests one after another until it has sent
 * `minSteps` and `keepGoing()` says stop; every request is retried until answered. Between them each
 * client sends its share of the shared customers' requests (contention.ts), spread over its first
 * `minSteps` steps, the rest after its loop; then the shared events that were refused are delivered
 * again. With `fireOnceRate`, a client now and then also sends a credit to a customer of its own once,
 * without retrying.
 */
export async function runLoad(options: {
  prefix: string;
  seed: number;
  clients: number;
  minSteps: number;
  keepGoing?: () => boolean;
  target: Target;
  operatorKey: string;
  fireOnceRate?: number;
  beforeRetry?: (step: Step, attempt: number) => Promise<void>;
  fatal?: () => string | undefined;
  /** The shared customers' work (default: defaultSharedWork). */
  shared?: SharedWork;
}): Promise<LoadResult> {
  const began = Date.now();
  const baseTime = new Date(Date.now() - 3_600_000);
  const stats = newStats();
  const perClient: Step[][] = [];
  const answered: Answered[] = [];
  const fireOnce: FireOnce[] = [];
  const work = options.shared ?? defaultSharedWork(options.prefix, options.seed, options.clients, baseTime);
  const shared: SharedResult = { work, answered: [], redelivered: 0 };
  const sendOptions = {
    ...(options.beforeRetry ? { beforeRetry: options.beforeRetry } : {}),
    ...(options.fatal ? { fatal: options.fatal } : {}),
  };
  await Promise.all(
    Array.from({ length: options.clients }, async (_, i) => {
      const workload = new Workload(`${options.prefix}${i}`, options.seed + i, baseTime);
      const random = new Random(options.seed + 7_919 * (i + 1));
      const steps: Step[] = [];
      perClient.push(steps);
      const queue = [...(work.queues[i] ?? [])];
      const sharedRate = Math.min(1, queue.length / Math.max(1, options.minSteps));
      const sendShared = async () => {
        const step = queue.shift();
        if (!step) return;
        const a = await sendUntilAnswered(options.target, step, options.operatorKey, stats, sendOptions);
        shared.answered.push({ ...a, client: i } satisfies SharedAnswered);
      };
      let n = 0;
      while (n < options.minSteps || (options.keepGoing?.() ?? false)) {
        n += 1;
        if (queue.length > 0 && random.chance(sharedRate)) await sendShared();
        if (options.fireOnceRate && random.chance(options.fireOnceRate)) {
          const customerId = `${options.prefix}${i}-x`;
          const step: Step = {
            id: `${options.prefix}${i}-x${n}`,
            kind: "credit",
            customerId,
            method: "POST",
            path: `/v1/customers/${customerId}/credits`,
            body: {
              kind: "bonus",
              amount: random.int(1, 100),
              source: "purchase",
              funder: "marketplace",
              reference: `${options.prefix}${i}-x${n}`,
            },
            idempotencyKey: `${options.prefix}${i}-x${n}`,
          };
          try {
            const answer = await options.target(
              callOf(step, options.operatorKey, { "x-fault-tag": step.id }),
            );
            fireOnce.push({ step, answer, error: undefined });
          } catch (error) {
            fireOnce.push({ step, answer: undefined, error: (error as Error).message });
          }
        }
        const step = workload.next();
        steps.push(step);
        answered.push(await sendUntilAnswered(options.target, step, options.operatorKey, stats, sendOptions));
      }
      while (queue.length > 0) await sendShared();
    }),
  );
  await redeliverUntilAccepted(options.target, options.operatorKey, stats, shared, {
    ...(options.fatal ? { fatal: options.fatal } : {}),
  });
  return { perClient, answered, fireOnce, shared, stats, ms: Date.now() - began };
}

export function describeLoad(scenario: string, load: LoadResult) {
  const s = load.stats;
  log(
    scenario,
    `load: ${load.perClient.length} clients sent ${s.requests} requests (${describeSteps(load.perClient.flat())}) ` +
      `in ${load.ms} ms with ${s.attempts} attempts: ${s.connectionErrors} connection errors, ${s.unavailable} × 503, ` +
      `${s.unexpected.length} other 5xx (failed attempts by cause: ${JSON.stringify(s.failureKinds)}); ` +
      `answers ${describeStatuses(load.answered)}, ${s.replayed} of them replays of a write committed before the answer was lost`,
  );
}

/**
 * Everything a fault scenario verifies after its load: the answers and ledger match a fault-free run of
 * the same requests on a fresh database, every acknowledged write is applied exactly once, re-sending
 * every write changes nothing and returns what was answered, writes sent once without retry are applied
 * at most once, the shared customers end as the same requests delivered in order (contention.ts), and
 * the ledger invariants hold. Returns the problems (empty: all good).
 */
export async function verifyRun(options: {
  scenario: string;
  database: ScenarioDatabase;
  reference: ScenarioDatabase;
  load: LoadResult;
  /** Where to re-send every write (the service the scenario ran against, faults over); none: skip. */
  resend?: { target: Target; operatorKey: string };
}): Promise<string[]> {
  const { scenario, database, load } = options;
  const problems: string[] = [];
  const report = (what: string, found: string[]) => {
    log(
      scenario,
      `${found.length === 0 ? "ok  " : "FAIL"} ${what}${found.length ? `: ${found.length} problems` : ""}`,
    );
    for (const p of found.slice(0, 20)) log(scenario, `       ${p}`);
    problems.push(...found);
  };

  report("no 5xx other than 503 SERVICE_UNAVAILABLE", load.stats.unexpected);
  report(
    "every 4xx is the error envelope with a code from ERROR_CODES",
    load.answered.flatMap((a) => {
      const p = envelopeProblem(a.answer);
      return p ? [`${a.step.id}: ${p}`] : [];
    }),
  );

  const customers = [...new Set(load.perClient.flat().map((s) => s.customerId))];
  const before = await ledgerSummary(database, customers);
  if (options.resend) {
    const { target, operatorKey } = options.resend;
    const stats = newStats();
    const found: string[] = [];
    const firstAnswers = new Map(load.answered.map((a) => [a.step.id, a]));
    await Promise.all(
      load.perClient.map(async (steps) => {
        for (const step of steps.filter(isWrite)) {
          const again = await sendUntilAnswered(target, step, operatorKey, stats, { deadlineMs: 60_000 });
          const first = firstAnswers.get(step.id);
          if (!first) continue;
          // Exactly the first answer (ids and instants included), object key order aside.
          const a = { status: again.answer.status, body: replayComparable(step, again.answer.json) };
          const e = { status: first.answer.status, body: replayComparable(step, first.answer.json) };
          if (!isDeepStrictEqual(a, e)) {
            found.push(`${step.id}: re-sent got ${JSON.stringify(a)}, first answer ${JSON.stringify(e)}`);
          }
          if (isLedgerWrite(step) && again.answer.headers["idempotent-replayed"] !== "true") {
            found.push(`${step.id}: re-sent without idempotent-replayed: true (${again.answer.status})`);
          }
        }
      }),
    );
    found.push(...stats.unexpected);
    found.push(
      ...summaryDifferences(await ledgerSummary(database, customers), before).map(
        (d) => `re-send changed: ${d}`,
      ),
    );
    report(
      `re-sending all ${stats.requests} writes (same keys, eventIds, bodies) answers what was answered, replayed, and changes nothing`,
      found,
    );
  }

  report(
    "exactly once on the rows: one lot per credit answered 201, none per refused credit, one row per event, order states as last reported",
    await exactlyOnceProblems(database, load.answered),
  );

  if (load.fireOnce.length > 0) {
    const found: string[] = [];
    const rows = await sql<{ reference: string; n: number }>`select reference, count(*)::int as n from lots
      where reference = any(${load.fireOnce.map((f) => f.step.id)}::text[]) group by reference`.execute(
      database.handle.db,
    );
    const counts = new Map(rows.rows.map((r) => [r.reference, r.n]));
    let unacknowledged = 0;
    let appliedAnyway = 0;
    for (const f of load.fireOnce) {
      const n = counts.get(f.step.id) ?? 0;
      const acknowledged = f.answer !== undefined && f.answer.status < 500;
      if (!acknowledged) {
        unacknowledged += 1;
        if (n === 1) appliedAnyway += 1;
      }
      if (n > 1) found.push(`${f.step.id}: applied ${n} times`);
      if (acknowledged && f.answer?.status === 201 && n !== 1)
        found.push(`${f.step.id}: answered 201, ${n} lots`);
    }
    log(
      scenario,
      `fire-once credits: ${load.fireOnce.length} sent, ${unacknowledged} unacknowledged (${appliedAnyway} of those were applied, once)`,
    );
    report("writes sent once without retry are applied at most once (answered 201: exactly once)", found);
  }

  const reference = await inProcessService(options.reference);
  try {
    const began = Date.now();
    const expected = await replayOn(injectTarget(reference.app), reference.operatorKey, load.perClient);
    log(
      scenario,
      `fault-free run of the same ${expected.size} requests on a fresh database: ${Date.now() - began} ms`,
    );
    report(
      "every answer equals the fault-free run's answer to the same request (ids and instants aside)",
      answerDifferences(load.answered, expected),
    );
    const actual = await ledgerSummary(database, customers);
    const wanted = await ledgerSummary(options.reference, customers);
    const rows = Object.values(wanted).reduce((n, t) => n + t.length, 0);
    report(
      `the ledger equals the fault-free run's: balances, lots, movements, holds, redemptions, orders, events, idempotency records (${rows} summary rows)`,
      summaryDifferences(actual, wanted),
    );
    await verifyShared({
      database,
      referenceDatabase: options.reference,
      reference: { target: injectTarget(reference.app), operatorKey: reference.operatorKey },
      shared: load.shared,
      resend: options.resend,
      report,
      log: (message) => log(scenario, message),
    });
  } finally {
    await reference.close();
  }

  report(
    "ledger invariants hold (test/support/invariants.ts: the rows, and the reconciliation of kopilka verify)",
    await ledgerViolations(database),
  );
  return problems;
}
