import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceProcess, sleep } from "../faults/support.js";
import { line, orderEvents } from "../orders/helpers.js";
import { freshDatabase, ON_POSTGRES } from "../support/database.js";
import { checkOutboxInSql } from "../support/invariants.js";
import { notificationStream, orderEventStream } from "../support/nats.js";

/**
 * R31 across a kill: `kopilka serve` applies order events from JetStream and publishes their
 * notifications to JetStream; it is SIGKILLed while publishing, another is started, and in the end
 * every notification written is in the stream exactly once (at least once from the relays, once
 * after the server's de-duplication by `Nats-Msg-Id`). Two processes on one database: PostgreSQL only.
 */
describe.skipIf(!ON_POSTGRES)("the broker relay across a SIGKILL (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let events: Awaited<ReturnType<typeof orderEventStream>>;
  let notifications: Awaited<ReturnType<typeof notificationStream>>;
  const services: ServiceProcess[] = [];
  beforeAll(async () => {
    database = await freshDatabase();
    events = await orderEventStream({ partitions: 4, leaseSeconds: 2 });
    notifications = await notificationStream();
  });
  afterAll(async () => {
    for (const s of services) await s.kill();
    await events?.close();
    await notifications?.close();
    await database?.drop();
  });

  const pending = async () =>
    (
      await sql<{ n: number }>`
        select count(*)::int as n from notification_deliveries where target_id = 'nats' and state <> 'delivered'`.execute(
        database.db,
      )
    ).rows[0]?.n ?? 0;

  it("delivers every notification at least once, and the stream holds each once", async () => {
    const customers = Array.from({ length: 1200 }, (_, i) => `rk-${String(i).padStart(5, "0")}`);
    const at = () => new Date(Date.now() - 3_600_000);
    await events.publish(
      customers.flatMap((c) => {
        const e = orderEvents(c, `o-${c}`, at);
        return [e.placed([line("books", 100_000, 2)]), e.paid(), e.shipped()];
      }),
    );
    const env = { ...events.env, ...notifications.env, KOPILKA_NOTIFICATION_RELAY_INTERVAL_MS: "5" };
    const first = await ServiceProcess.create(database.url ?? "", env);
    services.push(first);
    await first.start();
    while ((await notifications.count()) < 200) await sleep(5);
    await first.kill("SIGKILL");
    const publishedAtKill = await notifications.count();
    expect(publishedAtKill).toBeLessThan(customers.length);

    const second = await ServiceProcess.create(database.url ?? "", env);
    services.push(second);
    await second.start();
    await events.drained(60_000);
    const began = Date.now();
    while ((await pending()) > 0) {
      if (Date.now() - began > 60_000) throw new Error(`${await pending()} notifications still unpublished`);
      await sleep(50);
    }
    await second.stop();

    const written = (
      await sql<{
        notification_id: string;
      }>`select notification_id from notifications order by notification_id`.execute(database.db)
    ).rows.map((r) => r.notification_id);
    // One credit per shipped order (books 5% of 2,000.00 RUB).
    expect(written).toHaveLength(customers.length);
    const stored = await notifications.messages();
    expect(stored.map((m) => m.msgId).sort()).toEqual(written);
    expect(await checkOutboxInSql(database.db)).toEqual([]);
  });
});
