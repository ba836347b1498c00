import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { CommitTrap, waitForSessionsGone } from "./commit-trap.js";
import { outcomesOf } from "./contention.js";
import { describeLoad, runLoad, verifyRun } from "./scenario.js";
import {
  createOperatorKeyWithCli,
  type HttpCall,
  httpCall,
  IN_FAULT_SUITE,
  log,
  Random,
  type ScenarioDatabase,
  SEED,
  SERVICE_APPLICATION_NAME,
  ServiceProcess,
  SHORT,
  scenarioDatabase,
  sleep,
  tableCounts,
} from "./support.js";
import type { Answered, Target } from "./workload.js";

/** A request that was in flight when the service died: its connection dropped without an answer. */
interface LostReply {
  tag: string;
  kill: number;
  call: HttpCall;
}

/** What a lost request left in the database once the dead process's sessions are gone. */
interface Committed {
  tag: string;
  kill: number;
  /** Ledger writes: the key of the stored answer; order events: their stored outcomes. */
  key?: string;
  events?: { eventId: string; status: string }[];
}

/** Did the lost request's transaction commit? Read from its idempotency record or its stored events. */
async function committedOf(database: ScenarioDatabase, lost: LostReply): Promise<Committed | undefined> {
  const db = database.handle.db;
  const key = lost.call.headers["idempotency-key"];
  if (key) {
    const customerId = decodeURIComponent(/^\/v1\/customers\/([^/]+)\//.exec(lost.call.path)?.[1] ?? "");
    const r = await sql<{ n: number }>`select count(*)::int as n from idempotency
      where customer_id = ${customerId} and key = ${key}`.execute(db);
    return (r.rows[0]?.n ?? 0) > 0 ? { tag: lost.tag, kill: lost.kill, key } : undefined;
  }
  if (lost.call.path !== "/v1/orders/events" || !lost.call.body) return undefined;
  const body = JSON.parse(lost.call.body) as { eventId?: string; events?: { eventId: string }[] };
  const eventIds = body.events ? body.events.map((e) => e.eventId) : [body.eventId ?? ""];
  const r = await sql<{ event_id: string; status: string }>`select event_id, status from order_events
    where event_id = any(${eventIds}::text[])`.execute(db);
  if (r.rows.length === 0) return undefined;
  const status = new Map(r.rows.map((row) => [row.event_id, row.status]));
  return {
    tag: lost.tag,
    kill: lost.kill,
    events: eventIds.map((eventId) => ({ eventId, status: status.get(eventId) ?? "missing" })),
  };
}

/**
 * Every write that committed while its reply was lost came back, when its client retried it, as the
 * stored answer: a ledger write as a replay (`idempotent-replayed: true`), an order event with the
 * outcome stored when it committed (one parked then may since have applied). Writes sent once without
 * retry (fire-once) are not retried; verifyRun checks them applied at most once.
 */
function retryProblems(committed: Committed[], answered: Map<string, Answered>): string[] {
  const problems: string[] = [];
  for (const c of committed) {
    const final = answered.get(c.tag);
    if (!final) continue;
    if (c.key !== undefined) {
      if (final.answer.headers["idempotent-replayed"] !== "true") {
        problems.push(
          `${c.tag}: committed before kill #${c.kill}, but its retry was not a replay (${final.answer.status})`,
        );
      }
      continue;
    }
    const statuses = final.answer.status >= 400 ? ["refused"] : outcomesOf(final.answer).map((o) => o.status);
    const stored = (c.events ?? []).map((e) => e.status);
    const fits =
      statuses.length === stored.length &&
      stored.every((s, i) => s === statuses[i] || (s === "parked" && statuses[i] === "applied"));
    if (!fits) {
      problems.push(
        `${c.tag}: committed as ${stored.join(",")} before kill #${c.kill}, its retry answered ${statuses.join(",")}`,
      );
    }
  }
  return problems;
}

/**
 * (a) The service is SIGKILLed while several clients write through it; it is started again each time,
 * and the clients retry every request that got no answer with the same key, eventIds and body.
 *
 * Most kills land between a write's commit and its reply, by construction: a trap in the scenario
 * database (commit-trap.ts) holds committing transactions inside COMMIT, the service is killed while
 * one is held, and the trap lets go, so the transaction commits for a client that never gets the
 * answer. The others land at random moments. After each kill, before the restart, the scenario reads
 * which of the requests whose connection dropped had committed. It asserts that such writes happened,
 * that every retry of one came back as the stored answer (replayed, not applied twice), and, as every
 * scenario: every acknowledged write applied exactly once, writes sent once without retry at most
 * once, the ledger equal to a fault-free run of the same requests, the ledger invariants.
 */
describe.skipIf(!IN_FAULT_SUITE)("fault (a): SIGKILL under load", () => {
  it("applies every acknowledged write exactly once across kills between commit and reply", async () => {
    const scenario = "a-sigkill";
    const kills = SHORT ? 3 : 15;
    /** Kill #k waits for a transaction held inside COMMIT, except every third (2, 5, 8…): any moment. */
    const inCommit = (k: number) => k % 3 !== 2;
    const clients = SHORT ? 4 : 8;
    const upMs: [number, number] = SHORT ? [400, 1_200] : [300, 5_000];
    log(scenario, `seed ${SEED}; ${clients} clients, ${kills} SIGKILLs, ${SHORT ? "short" : "long"} form`);
    const database = await scenarioDatabase("sigkill");
    const reference = await scenarioDatabase("sigkill_ref");
    const trap = await CommitTrap.install(database);
    const service = await ServiceProcess.create(database.url);
    let abort = false;
    let killer: Promise<void> | undefined;
    try {
      const operatorKey = await createOperatorKeyWithCli(database.url);
      log(scenario, `database ${database.name}; operator key made with \`kopilka keys create\``);
      const firstStart = await service.start();
      log(scenario, `service pid ${service.pid} on 127.0.0.1:${service.port} (up in ${firstStart} ms)`);

      // Requests in flight per kill; those whose connection then dropped (not refused: that one never
      // reached a process) lost their reply.
      let kill = 1;
      const inFlight = new Map<number, number>();
      const lost: LostReply[] = [];
      const target: Target = async (call) => {
        const k = kill;
        inFlight.set(k, (inFlight.get(k) ?? 0) + 1);
        try {
          return await httpCall(service.port, call, 30_000);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ECONNREFUSED") {
            lost.push({ tag: call.headers["x-fault-tag"] ?? "", kill: k, call });
          }
          throw error;
        } finally {
          inFlight.set(k, (inFlight.get(k) ?? 1) - 1);
        }
      };

      const random = new Random(SEED ^ 0x51c4);
      let killing = true;
      const killLog: string[] = [];
      const committed: Committed[] = [];
      const settled = new Set<string>();
      const problems: string[] = [];
      killer = (async () => {
        try {
          for (; kill <= kills && !abort; ) {
            const k = kill;
            await sleep(random.int(...upMs));
            let held = 0;
            if (inCommit(k)) {
              await trap.arm();
              held = await trap.waitForHeld(5_000);
            }
            const pid = service.pid;
            await service.kill("SIGKILL");
            kill += 1; // requests from now on go to the next process
            await trap.release();
            // The dead process's sessions end once the held transactions have committed.
            await waitForSessionsGone(database, SERVICE_APPLICATION_NAME);
            while ((inFlight.get(k) ?? 0) > 0) await sleep(5);
            const lostNow = lost.filter((l) => l.kill === k && !settled.has(l.tag));
            const committedNow: Committed[] = [];
            for (const l of lostNow) {
              const c = await committedOf(database, l);
              if (!c) continue;
              settled.add(l.tag);
              committedNow.push(c);
            }
            committed.push(...committedNow);
            if (held > 0 && committedNow.length === 0) {
              problems.push(
                `kill #${k}: ${held} transactions were held in COMMIT, none of the lost requests committed`,
              );
            }
            await sleep(random.int(0, 300));
            const up = await service.start();
            killLog.push(
              `#${k} ${inCommit(k) ? `in COMMIT (${held} held)` : "any moment"}, pid ${pid}: ` +
                `${lostNow.length} replies lost, ${committedNow.length} of those committed; back in ${up} ms`,
            );
          }
        } finally {
          killing = false;
        }
      })();
      killer.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
      const load = await runLoad({
        prefix: "a",
        seed: SEED,
        clients,
        minSteps: SHORT ? 15 : 100,
        keepGoing: () => killing,
        target,
        operatorKey,
        fireOnceRate: 0.05,
        fatal: () => service.unexpectedExit && `${service.unexpectedExit}\n${service.tail()}`,
      });
      await killer;
      log(scenario, `kills: ${killLog.join("; ")}`);
      describeLoad(scenario, load);
      log(scenario, `rows: ${JSON.stringify(await tableCounts(database))}`);

      const answered = new Map([...load.answered, ...load.shared.answered].map((a) => [a.step.id, a]));
      const retried = committed.filter((c) => answered.has(c.tag));
      problems.push(...retryProblems(committed, answered));
      log(
        scenario,
        `${problems.length === 0 ? "ok  " : "FAIL"} ${committed.length} writes committed while their reply was lost ` +
          `(${committed.filter((c) => c.key !== undefined).length} ledger writes, ${committed.filter((c) => c.events).length} order events); ` +
          `and the ${retried.length} retried come back as the stored answer (a replay, not a second application)`,
      );
      for (const p of problems.slice(0, 20)) log(scenario, `       ${p}`);

      problems.push(
        ...(await verifyRun({
          scenario,
          database,
          reference,
          load,
          resend: { target: (call) => httpCall(service.port, call, 30_000), operatorKey },
        })),
      );
      const stopped = await service.stop();
      log(scenario, `service stopped with SIGTERM: ${stopped}`);
      if (problems.length > 0) log(scenario, `service output:\n${service.tail()}`);
      expect(problems).toEqual([]);
      expect(killLog, "every planned kill must have happened").toHaveLength(kills);
      expect(load.stats.connectionErrors, "the kills must have hit requests").toBeGreaterThan(0);
      expect(committed.length, "writes must have committed while their reply was lost").toBeGreaterThan(0);
      expect(retried.length, "some of them must have been retried").toBeGreaterThan(0);
    } finally {
      abort = true;
      await trap.release().catch(() => {});
      await killer?.catch(() => {});
      await service.kill();
      await trap.close();
      await database.drop();
      await reference.drop();
    }
  });
});
