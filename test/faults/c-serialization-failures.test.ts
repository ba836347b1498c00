import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { defaultSharedWork, describeLoad, runLoad, verifyRun } from "./scenario.js";
import {
  IN_FAULT_SUITE,
  inProcessService,
  log,
  Random,
  type ScenarioDatabase,
  SEED,
  SHORT,
  scenarioDatabase,
} from "./support.js";
import {
  injectTarget,
  ledgerSummary,
  newStats,
  type Step,
  sendUntilAnswered,
  summaryDifferences,
} from "./workload.js";

/**
 * The tables a customer's write transaction touches; a fault can be planned on any of them. `customers`
 * is written only by a customer's first transaction.
 */
const FAULT_TABLES = [
  "customers",
  "balances",
  "lots",
  "holds",
  "redemptions",
  "movements",
  "idempotency",
  "orders",
  "order_events",
] as const;

/**
 * Deterministic fault injection: `fault_plan` says "the first N times a row of table T is written for
 * customer C, raise SQLSTATE S". A transaction's writes are rolled back with it, so the count lives in a
 * sequence per plan (nextval is not transactional); `fault_raised` counts every injected error.
 */
async function installFaults(database: ScenarioDatabase) {
  const db = database.handle.db;
  await sql`create table fault_plan (
    customer_id text not null,
    table_name text not null,
    sqlstate text not null,
    fail_times integer not null,
    seq text not null,
    primary key (customer_id, table_name))`.execute(db);
  await sql`create sequence fault_raised`.execute(db);
  await sql`create function fault_inject() returns trigger language plpgsql as $$
    declare
      p fault_plan;
      n bigint;
    begin
      select * into p from fault_plan where customer_id = new.customer_id and table_name = tg_table_name;
      if found then
        n := nextval(p.seq::regclass);
        if n <= p.fail_times then
          perform nextval('fault_raised');
          raise exception 'injected fault % (% of %) writing % for %', p.sqlstate, n, p.fail_times, tg_table_name,
            new.customer_id using errcode = p.sqlstate;
        end if;
      end if;
      return new;
    end $$`.execute(db);
  for (const table of FAULT_TABLES) {
    await sql`create trigger ${sql.raw(`fault_inject_${table}`)} before insert or update on ${sql.table(table)}
      for each row execute function fault_inject()`.execute(db);
  }
}

interface Plan {
  customerId: string;
  table: (typeof FAULT_TABLES)[number];
  sqlstate: string;
  failTimes: number;
}

async function addPlans(database: ScenarioDatabase, plans: Plan[]) {
  for (const [i, p] of plans.entries()) {
    const seq = `fault_seq_${i}_${p.customerId.replace(/[^a-z0-9]/gi, "_")}_${p.table}`.toLowerCase();
    await sql`create sequence ${sql.raw(seq)}`.execute(database.handle.db);
    await sql`insert into fault_plan values (${p.customerId}, ${p.table}, ${p.sqlstate}, ${p.failTimes}, ${seq})`.execute(
      database.handle.db,
    );
  }
}

/** Per plan: how often its table was written for the customer (attempts, failed ones included). */
async function planReport(database: ScenarioDatabase) {
  const plans = await sql<{
    customer_id: string;
    table_name: string;
    sqlstate: string;
    fail_times: number;
    seq: string;
  }>`
    select * from fault_plan order by customer_id, table_name`.execute(database.handle.db);
  const out: (Plan & { writes: number })[] = [];
  for (const p of plans.rows) {
    const r = await sql<{
      last_value: number;
      is_called: boolean;
    }>`select last_value::int, is_called from ${sql.raw(p.seq)}`.execute(database.handle.db);
    const row = r.rows[0];
    out.push({
      customerId: p.customer_id,
      table: p.table_name as Plan["table"],
      sqlstate: p.sqlstate,
      failTimes: p.fail_times,
      writes: row?.is_called ? row.last_value : 0,
    });
  }
  const raised = await sql<{
    last_value: number;
    is_called: boolean;
  }>`select last_value::int, is_called from fault_raised`.execute(database.handle.db);
  const r = raised.rows[0];
  return { plans: out, raised: r?.is_called ? r.last_value : 0 };
}

/** Runs a load on a database whose writes fail as planned, then verifies it against a fault-free run. */
async function faultPhase(options: {
  scenario: string;
  sqlstate: "40001" | "40P01";
  prefix: string;
  seed: number;
}) {
  const { scenario, sqlstate } = options;
  const clients = SHORT ? 4 : 8;
  const steps = SHORT ? 30 : 200;
  const database = await scenarioDatabase(`inject_${sqlstate.toLowerCase()}`);
  const reference = await scenarioDatabase(`inject_${sqlstate.toLowerCase()}_ref`);
  const service = await inProcessService(database);
  try {
    await installFaults(database);
    // Every customer of the load gets a plan: 1-4 failures (the service tries 5 times) on one table;
    // the customers all clients share too.
    const random = new Random(options.seed);
    const shared = defaultSharedWork(options.prefix, options.seed, clients, new Date(Date.now() - 3_600_000));
    const customers = [
      ...Array.from({ length: clients }, (_, i) => [
        `${options.prefix}${i}-a`,
        `${options.prefix}${i}-b`,
      ]).flat(),
      ...shared.customers,
    ];
    const plans: Plan[] = customers.map((customerId) => ({
      customerId,
      table: random.pick(FAULT_TABLES),
      sqlstate,
      failTimes: random.int(1, 4),
    }));
    await addPlans(database, plans);
    log(
      scenario,
      `seed ${options.seed}; planned ${sqlstate} faults: ${plans.map((p) => `${p.customerId}/${p.table}×${p.failTimes}`).join(", ")}`,
    );
    const load = await runLoad({
      prefix: options.prefix,
      seed: options.seed,
      clients,
      minSteps: steps,
      target: injectTarget(service.app),
      operatorKey: service.operatorKey,
      shared,
    });
    describeLoad(scenario, load);
    const report = await planReport(database);
    const reached = report.plans.filter((p) => p.writes > 0);
    const notFired = reached.filter((p) => p.writes <= p.failTimes);
    const expectedRaised = reached.reduce((n, p) => n + Math.min(p.writes, p.failTimes), 0);
    log(
      scenario,
      `injected ${report.raised} × ${sqlstate} (${reached.length} of ${plans.length} plans reached: ` +
        `${reached.map((p) => `${p.customerId}/${p.table} ${p.failTimes} failed of ${p.writes} writes`).join(", ")})`,
    );
    const problems: string[] = [];
    if (report.raised !== expectedRaised)
      problems.push(`raised ${report.raised}, plans say ${expectedRaised}`);
    for (const p of notFired) {
      problems.push(
        `${p.customerId}/${p.table}: only ${p.writes} writes for ${p.failTimes} planned failures`,
      );
    }
    log(
      scenario,
      `${problems.length === 0 ? "ok  " : "FAIL"} every planned failure was raised and every failed transaction then went through (5 attempts)`,
    );
    problems.push(
      ...(await verifyRun({
        scenario,
        database,
        reference,
        load,
        resend: { target: injectTarget(service.app), operatorKey: service.operatorKey },
      })),
    );
    return { problems, raised: report.raised };
  } finally {
    await service.close();
    await database.drop();
    await reference.drop();
  }
}

/**
 * (c) Serialization failures (40001) and deadlocks (40P01), raised by triggers for chosen customers the
 * first 1-4 times a chosen table is written, must be retried by the service transparently: each request
 * answers exactly what a fault-free run answers, and the ledger is the same.
 */
describe.skipIf(!IN_FAULT_SUITE)("fault (c): injected serialization failures and deadlocks", () => {
  it("retries 40001 serialization failures transparently", async () => {
    const { problems, raised } = await faultPhase({
      scenario: "c-40001",
      sqlstate: "40001",
      prefix: "s",
      seed: SEED,
    });
    expect(problems).toEqual([]);
    expect(raised).toBeGreaterThan(0);
  });

  it("retries 40P01 deadlocks transparently", async () => {
    const { problems, raised } = await faultPhase({
      scenario: "c-40P01",
      sqlstate: "40P01",
      prefix: "d",
      seed: SEED + 1,
    });
    expect(problems).toEqual([]);
    expect(raised).toBeGreaterThan(0);
  });

  it("after 5 failed attempts answers 503 SERVICE_UNAVAILABLE, writes nothing, and a retry with the same key applies once", async () => {
    const scenario = "c-exhausted";
    const database = await scenarioDatabase("inject_exhausted");
    const service = await inProcessService(database);
    try {
      await installFaults(database);
      const customers = { credit: "x-credit", event: "x-event" };
      await addPlans(database, [
        { customerId: customers.credit, table: "movements", sqlstate: "40001", failTimes: 5 },
        { customerId: customers.event, table: "order_events", sqlstate: "40P01", failTimes: 5 },
      ]);
      const steps: Step[] = [
        {
          id: "x-credit-1",
          kind: "credit",
          customerId: customers.credit,
          method: "POST",
          path: `/v1/customers/${customers.credit}/credits`,
          body: {
            kind: "bonus",
            amount: 100,
            source: "purchase",
            funder: "marketplace",
            reference: "x-credit-1",
          },
          idempotencyKey: "x-credit-1",
        },
        {
          id: "x-event-1",
          kind: "event",
          customerId: customers.event,
          method: "POST",
          path: "/v1/orders/events",
          body: {
            eventId: "x-event-1-e1",
            type: "placed",
            orderId: "x-event-1-o",
            customerId: customers.event,
            occurredAt: new Date().toISOString(),
            lines: [
              {
                lineId: "L1",
                sku: "sku-1",
                sellerId: "seller-1",
                category: "books",
                quantity: 1,
                unitPriceKop: 50_000,
              },
            ],
            paymentMethod: "other",
          },
          eventIds: ["x-event-1-e1"],
        },
      ];
      const target = injectTarget(service.app);
      const problems: string[] = [];
      for (const step of steps) {
        const before = await ledgerSummary(database, [step.customerId]);
        const stats = newStats();
        // One attempt only: the service's own 5 attempts all fail.
        const first = await target({
          method: step.method,
          path: step.path,
          headers: {
            authorization: `Bearer ${service.operatorKey}`,
            "content-type": "application/json",
            ...(step.idempotencyKey ? { "idempotency-key": step.idempotencyKey } : {}),
          },
          body: JSON.stringify(step.body),
        });
        const code = (first.json as { error?: { code?: string } } | undefined)?.error?.code;
        log(
          scenario,
          `${step.id}: 5 × injected failure → ${first.status} ${code}: ${first.text.slice(0, 160)}`,
        );
        if (first.status !== 503 || code !== "SERVICE_UNAVAILABLE") {
          problems.push(
            `${step.id}: retries exhausted answered ${first.status} ${code}, expected 503 SERVICE_UNAVAILABLE`,
          );
        }
        const after = await ledgerSummary(database, [step.customerId]);
        problems.push(
          ...summaryDifferences(after, before).map((d) => `${step.id}: the failed request wrote ${d}`),
        );
        const retry = await sendUntilAnswered(target, step, service.operatorKey, stats);
        log(
          scenario,
          `${step.id}: retried with the same key/eventId → ${retry.answer.status}, replayed: ${retry.answer.headers["idempotent-replayed"] ?? "no"}`,
        );
        if (retry.answer.status !== 201 && retry.answer.status !== 200) {
          problems.push(`${step.id}: the retry answered ${retry.answer.status} ${retry.answer.text}`);
        }
        if (retry.answer.headers["idempotent-replayed"] === "true")
          problems.push(`${step.id}: the retry was a replay`);
      }
      const rows = await sql<{
        n: number;
      }>`select count(*)::int as n from lots where reference = 'x-credit-1'`.execute(database.handle.db);
      if (rows.rows[0]?.n !== 1) problems.push(`x-credit-1 made ${rows.rows[0]?.n} lots`);
      for (const p of problems) log(scenario, `FAIL ${p}`);
      expect(problems).toEqual([]);
    } finally {
      await service.close();
      await database.drop();
    }
  });
});
