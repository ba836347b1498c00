import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotificationRelay } from "../../src/app/notifications/relay.js";
import { api, type Harness, line, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { checkOutboxInSql } from "../support/invariants.js";
import { notificationStream } from "../support/nats.js";

/**
 * R31 to the broker: notifications published to a real JetStream server, on subjects per type, with
 * the notification id as `Nats-Msg-Id` so that a notification published again is stored once.
 */
describe("notifications published to NATS JetStream (R31)", () => {
  let h: Harness;
  let stream: Awaited<ReturnType<typeof notificationStream>>;
  let relay: NotificationRelay;
  const db = () => h.kopilka.database.db;
  const states = async () =>
    (
      await sql<{ state: string; n: number }>`
        select state, count(*)::int as n from notification_deliveries where target_id = 'nats'
        group by state order by state`.execute(db())
    ).rows;

  beforeAll(async () => {
    stream = await notificationStream();
    h = await httpHarness({ ...stream.env, KOPILKA_NOTIFICATION_RELAY_INTERVAL_MS: "0" });
    const started = await h.kopilka.startNotificationsToNats();
    if (!started) throw new Error("the broker relay did not start");
    relay = started;
  });
  afterAll(async () => {
    await h?.close();
    await stream?.close();
  });

  it("publishes each notification once, on `<prefix>.<type>`, with its id as Nats-Msg-Id and the message as its body", async () => {
    const k = api(h);
    await k.credit("nats-1", "bonus", 300);
    const e = orderEvents("nats-1", "nats-1-o", () => h.clock.now());
    const book = line("books", 100_000);
    await k.batch([e.placed([book], { bonus: 100 }), e.paid(), e.shipped()]);
    await k.apply(e.returned([{ lineId: book.lineId, quantity: 1 }]));
    const round = await relay.deliverPending();
    const written = (
      await sql<{ notification_id: string; type: string }>`
        select notification_id, type from notifications where customer_id = 'nats-1' order by notification_id`.execute(
        db(),
      )
    ).rows;
    expect(round.delivered).toBe(written.length);
    const messages = await stream.messages();
    expect(messages.map((m) => [m.msgId, m.subject])).toEqual(
      written.map((n) => [n.notification_id, `${stream.prefix}.${n.type}`]),
    );
    expect(messages[0]?.body).toMatchObject({
      id: written[0]?.notification_id,
      type: "points.credited",
      customerId: "nats-1",
      kind: "bonus",
      amount: 300,
    });
    expect(messages.every((m) => typeof (m.body.text as { ru: string }).ru === "string")).toBe(true);
    expect(await states()).toEqual([{ state: "delivered", n: written.length }]);
    expect(await checkOutboxInSql(db())).toEqual([]);
  });

  it("a notification published again (a relay died before recording it) is stored once", async () => {
    const before = await stream.count();
    // As if the relay had published everything and died before marking it delivered.
    await sql`update notification_deliveries set state = 'pending', next_attempt_at = ${h.clock.now()}
      where target_id = 'nats'`.execute(db());
    const round = await relay.deliverPending();
    expect(round.delivered).toBe(before);
    expect(await stream.count()).toBe(before);
    const ids = (await stream.messages()).map((m) => m.msgId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("retries with back-off while the stream is gone, and publishes once it is back", async () => {
    await stream.deleteStream();
    await api(h).credit("nats-2", "bonus", 40);
    const failed = await relay.deliverPending();
    expect(failed).toMatchObject({ delivered: 0, failed: 1 });
    const [waiting] = (
      await sql<{ attempts: number; next_attempt_at: Date; last_error: string }>`
        select attempts, next_attempt_at, last_error from notification_deliveries
        where target_id = 'nats' and customer_id = 'nats-2'`.execute(db())
    ).rows;
    expect(waiting?.attempts).toBe(1);
    // The first retry waits half to all of the 1 s base.
    const delay = new Date(waiting?.next_attempt_at ?? 0).getTime() - h.clock.now().getTime();
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
    expect(await relay.deliverPending()).toMatchObject({ delivered: 0, failed: 0 });
    // The stream comes back (as an instance's start makes it); the retry publishes.
    await stream.recreate();
    h.clock.advanceSeconds(2);
    expect(await relay.deliverPending()).toMatchObject({ delivered: 1 });
    const messages = await stream.messages();
    expect(messages.map((m) => m.body.customerId)).toEqual(["nats-2"]);
  });
});
