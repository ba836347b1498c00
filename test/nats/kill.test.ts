import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceProcess, sleep } from "../faults/support.js";
import { line, orderEvents } from "../orders/helpers.js";
import { freshDatabase, ON_POSTGRES } from "../support/database.js";
import { checkLedgerInvariantsInSql } from "../support/invariants.js";
import { orderEventStream } from "../support/nats.js";

/**
 * The consumer path applies every event exactly once across a kill: `kopilka serve` consuming a
 * stream is SIGKILLed mid-stream (batches committed and not acked, a batch in flight), another is
 * started, and in the end every event is stored once and every order credited once. Two processes on
 * one database: PostgreSQL only (PGlite is one process's).
 */
describe.skipIf(!ON_POSTGRES)("order events from JetStream across a SIGKILL (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let stream: Awaited<ReturnType<typeof orderEventStream>>;
  const services: ServiceProcess[] = [];
  beforeAll(async () => {
    database = await freshDatabase();
    stream = await orderEventStream({ partitions: 4, leaseSeconds: 2 });
  });
  afterAll(async () => {
    for (const s of services) await s.kill();
    await stream?.close();
    await database?.drop();
  });

  const stored = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from order_events`.execute(database.db)).rows[0]?.n ??
    0;

  it("applies every event exactly once when the consuming process is killed and another takes over", async () => {
    const customers = Array.from({ length: 1500 }, (_, i) => `k-${String(i).padStart(5, "0")}`);
    // Within the hour before now: the service checks occurredAt against its own clock.
    const at = () => new Date(Date.now() - 3_600_000);
    const events = customers.flatMap((c) => {
      const e = orderEvents(c, `o-${c}`, at);
      return [e.placed([line("books", 100_000, 2)]), e.paid(), e.shipped(), e.delivered()];
    });
    await stream.publish(events);
    const url = database.url ?? "";
    const first = await ServiceProcess.create(url, stream.env);
    services.push(first);
    await first.start();
    while ((await stored()) < 800) await sleep(10);
    await first.kill("SIGKILL");
    const storedAtKill = await stored();
    expect(storedAtKill).toBeLessThan(events.length);
    const second = await ServiceProcess.create(url, stream.env);
    services.push(second);
    await second.start();
    await stream.drained(60_000);
    await second.stop();

    const totals = await sql<{
      events: number;
      applied: number;
      credited: number;
      points: number;
      credits: number;
    }>`
      select (select count(*)::int from order_events) as events,
        (select count(*)::int from order_events where status = 'applied') as applied,
        (select count(*)::int from balances where kind = 'bonus' and pending + available = 100) as credited,
        (select coalesce(sum(pending + available), 0)::int from balances where kind = 'bonus') as points,
        (select count(*)::int from movements where kind = 'bonus') as credits`.execute(database.db);
    // R7 books 5% of 2,000.00 RUB: 100 points per order, credited once.
    expect(totals.rows[0]).toEqual({
      events: events.length,
      applied: events.length,
      credited: customers.length,
      points: 100 * customers.length,
      credits: customers.length,
    });
    expect(await checkLedgerInvariantsInSql(database.db)).toEqual([]);
  });
});
