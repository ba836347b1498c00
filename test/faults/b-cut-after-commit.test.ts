import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { type CutMode, CuttingProxy, type RawResponse } from "./proxy.js";
import { describeLoad, runLoad, verifyRun } from "./scenario.js";
import {
  httpCall,
  IN_FAULT_SUITE,
  inProcessService,
  log,
  Random,
  type ScenarioDatabase,
  SEED,
  SHORT,
  scenarioDatabase,
  sleep,
} from "./support.js";
import { type Answered, isLedgerWrite, replayComparable, type Step } from "./workload.js";

/** What a request left in the database: its idempotency record (ledger writes) or its stored events. */
async function storedFor(database: ScenarioDatabase, step: Step): Promise<number> {
  if (step.idempotencyKey) {
    const r = await sql<{ n: number }>`select count(*)::int as n from idempotency
      where customer_id = ${step.customerId} and key = ${step.idempotencyKey}`.execute(database.handle.db);
    return r.rows[0]?.n ?? 0;
  }
  const r = await sql<{ n: number }>`select count(*)::int as n from order_events
    where customer_id = ${step.customerId} and event_id = any(${step.eventIds ?? []}::text[])`.execute(
    database.handle.db,
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * (b) The connection is cut after the service committed but before its answer reached the client (and,
 * for some requests, while the service works or while the request is still being sent). The client
 * retries with the same key / eventIds and body and must get the stored answer: the same status and body
 * as the answer it never saw, `idempotent-replayed: true` for ledger writes, the same per-event outcome
 * for order events; the ledger is applied once.
 */
describe.skipIf(!IN_FAULT_SUITE)("fault (b): connection cut after COMMIT, before the reply", () => {
  it("a retry gets the stored answer and the ledger is applied once", async () => {
    const scenario = "b-cut";
    const clients = SHORT ? 4 : 8;
    const steps = SHORT ? 30 : 250;
    log(scenario, `seed ${SEED}; ${clients} clients × ${steps} requests through a cutting proxy`);
    const database = await scenarioDatabase("cut");
    const reference = await scenarioDatabase("cut_ref");
    const service = await inProcessService(database);
    const random = new Random(SEED ^ 0xc07);
    const proxy = new CuttingProxy(await service.listen(), (_tag, method): CutMode[] => {
      if (method !== "POST" || !random.chance(0.4)) return [];
      const roll = random.next();
      const first: CutMode =
        roll < 0.7 ? "drop-response" : roll < 0.85 ? "reset-in-flight" : "truncate-request";
      // Some answers are lost twice: the first retry's (a replay) is cut too.
      return random.chance(0.15) ? [first, "drop-response"] : [first];
    });
    await proxy.listen();
    try {
      log(scenario, `service in this process on 127.0.0.1, proxy on 127.0.0.1:${proxy.port}`);
      const truncatedButStored: string[] = [];
      let truncationsChecked = 0;
      const load = await runLoad({
        prefix: "b",
        seed: SEED,
        clients,
        minSteps: steps,
        target: (call) => httpCall(proxy.port, call, 30_000),
        operatorKey: service.operatorKey,
        // Before retrying a request whose first attempt was truncated: it must have left nothing.
        beforeRetry: async (step, attempt) => {
          const cuts = proxy.cuts.filter((c) => c.tag === step.id);
          if (attempt === 1 && cuts[0]?.mode === "truncate-request") {
            await sleep(30);
            truncationsChecked += 1;
            const n = await storedFor(database, step);
            if (n > 0) truncatedButStored.push(`${step.id}: a truncated request stored ${n} rows`);
          }
        },
      });
      proxy.active = false;
      describeLoad(scenario, load);
      const byMode = new Map<CutMode, number>();
      for (const c of proxy.cuts) byMode.set(c.mode, (byMode.get(c.mode) ?? 0) + 1);
      log(
        scenario,
        `proxy: ${proxy.connections} connections, cuts ${JSON.stringify(Object.fromEntries(byMode))}`,
      );

      const problems: string[] = [...truncatedButStored];
      log(
        scenario,
        `${truncatedButStored.length === 0 ? "ok  " : "FAIL"} ${truncationsChecked} truncated requests left nothing behind before their retry`,
      );
      for (const p of truncatedButStored.slice(0, 20)) log(scenario, `       ${p}`);

      // Every answer the client never saw, against the answer its retry got.
      const answers = new Map<string, Answered>(load.answered.map((a) => [a.step.id, a]));
      const dropped = proxy.cuts.filter((c) => c.mode === "drop-response");
      const mismatches: string[] = [];
      let compared = 0;
      let eventReplaysWithHeader = 0;
      let eventReplays = 0;
      let sharedCuts = 0;
      for (const cut of dropped) {
        const final = answers.get(cut.tag);
        const timeout = sleep(10_000).then(() => undefined);
        const lost: RawResponse | undefined = await Promise.race([cut.response, timeout]);
        // A shared customer's request (contention.ts): a lost "parked" may rightly come back "applied"
        // once another client delivered the predecessor; verifyRun checks those by their end state.
        if (!final) {
          sharedCuts += 1;
          continue;
        }
        if (!lost) {
          mismatches.push(`${cut.tag}: the proxy captured no complete answer`);
          continue;
        }
        compared += 1;
        const step = final.step;
        const lostBody = JSON.parse(lost.body) as unknown;
        if (
          lost.status !== final.answer.status ||
          !isDeepStrictEqual(replayComparable(step, lostBody), replayComparable(step, final.answer.json))
        ) {
          mismatches.push(
            `${cut.tag}: lost answer ${lost.status} ${lost.body} ≠ retry's ${final.answer.status} ${final.answer.text}`,
          );
        }
        if (isLedgerWrite(step)) {
          // Was the request certainly committed before this attempt (an earlier answer was lost), certainly
          // not (only truncated before), or either (an earlier attempt was reset while in flight)?
          const ofTag = proxy.cuts.filter((c) => c.tag === cut.tag);
          const before = ofTag.slice(0, ofTag.indexOf(cut)).map((c) => c.mode);
          const replayed = lost.headers["idempotent-replayed"] === "true";
          if (before.includes("drop-response") && !replayed) {
            mismatches.push(`${cut.tag}: a retry's lost answer lacks idempotent-replayed: true`);
          }
          if (before.every((m) => m === "truncate-request") && replayed) {
            mismatches.push(`${cut.tag}: the first application's answer says it was replayed`);
          }
          if (final.answer.headers["idempotent-replayed"] !== "true") {
            mismatches.push(`${cut.tag}: the retry's answer lacks idempotent-replayed: true`);
          }
        } else {
          eventReplays += 1;
          if (final.answer.headers["idempotent-replayed"] === "true") eventReplaysWithHeader += 1;
        }
      }
      log(
        scenario,
        `${mismatches.length === 0 ? "ok  " : "FAIL"} ${compared} answers lost after commit: each retry got the same status and body ` +
          `(ledger writes: with idempotent-replayed: true; order events: the same per-event outcome)`,
      );
      for (const m of mismatches.slice(0, 20)) log(scenario, `       ${m}`);
      log(
        scenario,
        `note: ${eventReplaysWithHeader} of ${eventReplays} order-event replays carried idempotent-replayed: true; ` +
          `${sharedCuts} lost answers were the shared customers' (checked by their end state)`,
      );
      problems.push(...mismatches);

      problems.push(
        ...(await verifyRun({
          scenario,
          database,
          reference,
          load,
          resend: { target: (call) => httpCall(proxy.port, call, 30_000), operatorKey: service.operatorKey },
        })),
      );
      expect(problems).toEqual([]);
      expect(compared, "some answers must have been lost after commit").toBeGreaterThan(0);
    } finally {
      await proxy.close();
      await service.close();
      await database.drop();
      await reference.drop();
    }
  });
});
