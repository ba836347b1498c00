import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotificationHousekeepingRun } from "../../src/app/notifications/housekeeping.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { PostgresNotificationStore } from "../../src/infra/notification-store.js";
import { PostgresRunClaims } from "../../src/infra/run-claims.js";
import { api, type Harness, line, orderEvents } from "../orders/helpers.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../support/alphabets.js";
import { httpHarness } from "../support/http.js";
import { checkOutboxInSql } from "../support/invariants.js";

/**
 * R31: the outbox. Each movement that tells the customer something writes its notification in its
 * own statement, with a pending delivery per target; the scheduler adds expiry notices (once per lot
 * and threshold) and sweeps after the retention.
 */

interface Row {
  notification_id: string;
  customer_id: string;
  type: string;
  amount: number;
  movement_id: string | null;
  threshold_days: number | null;
}

describe("the outbox (R31)", () => {
  let h: Harness;
  const db = () => h.kopilka.database.db;
  const notifications = async (customerId: string) =>
    (
      await sql<Row>`select notification_id, customer_id, type, amount, movement_id, threshold_days
        from notifications where customer_id = ${customerId} order by notification_id`.execute(db())
    ).rows;
  const deliveries = async (customerId: string) =>
    (
      await sql<{ notification_id: string; target_id: string; state: string }>`
        select notification_id, target_id, state from notification_deliveries
        where customer_id = ${customerId} order by notification_id, target_id`.execute(db())
    ).rows;

  beforeAll(async () => {
    h = await httpHarness();
    // Two targets: one takes everything, one only expiries.
    await sql`insert into notification_targets (target_id, kind, url, event_types, secret, state, created_at, updated_at)
      values ('whk_all', 'webhook', 'http://127.0.0.1:9/all', null, 'secret-1', 'enabled', now(), now()),
             ('whk_expiry', 'webhook', 'http://127.0.0.1:9/expiry', array['points.expired', 'points.expiring'],
              'secret-2', 'enabled', now(), now()),
             ('whk_gone', 'webhook', 'http://127.0.0.1:9/gone', null, 'secret-3', 'deleted', now(), now())`.execute(
      db(),
    );
  });
  afterAll(async () => {
    await h.close();
  });

  it("writes one notification per movement that tells the customer something, none for a refused or replayed request", async () => {
    const k = api(h);
    await k.credit("out-1", "bonus", 500);
    // The same request twice under one Idempotency-Key: the second is answered from the stored outcome.
    const creditOnce = () =>
      h.send({
        method: "POST",
        url: "/v1/customers/out-1/credits",
        key: h.keys.operator,
        idempotencyKey: "credit-once",
        body: { kind: "bonus", amount: 70, source: "campaign", funder: "campaign:tests" },
      });
    expect((await creditOnce()).statusCode).toBe(201);
    expect((await creditOnce()).statusCode).toBe(201);
    const refused = await h.send({
      method: "POST",
      url: "/v1/customers/out-1/spends",
      key: h.keys.operator,
      body: { redemptionId: "too-much", kind: "bonus", amount: 10_000 },
    });
    expect(refused.statusCode).toBe(422);
    const rows = await notifications("out-1");
    expect(rows.map((r) => [r.type, r.amount])).toEqual([
      ["points.credited", 500],
      ["points.credited", 70],
    ]);
    // The id is the movement's digits.
    for (const r of rows) expect(r.notification_id.slice(4)).toBe(r.movement_id?.slice(4));
    // A delivery to each target not deleted that takes the type: here only the one taking everything.
    expect(await deliveries("out-1")).toEqual(
      rows.map((r) => ({ notification_id: r.notification_id, target_id: "whk_all", state: "pending" })),
    );
    expect(await checkOutboxInSql(db())).toEqual([]);
  });

  it("follows an order: points spent, credited on shipment, clawed back and refunded on a return", async () => {
    const k = api(h);
    await k.credit("out-2", "bonus", 300);
    const e = orderEvents("out-2", "out-2-o", () => h.clock.now());
    const book = line("books", 200_000, 2);
    await k.batch([e.placed([book], { bonus: 200 }), e.paid(), e.shipped()]);
    await k.apply(e.returned([{ lineId: book.lineId, quantity: 1 }]));
    const types = (await notifications("out-2")).map((r) => r.type);
    expect(types).toEqual([
      "points.credited",
      "points.spent",
      "points.credited",
      "points.clawed_back",
      "points.refunded",
    ]);
    expect(await checkOutboxInSql(db(), "out-2")).toEqual([]);
  });

  it("the scheduler's bulk settlement notifies what became available and what expired", async () => {
    const k = api(h);
    const start = h.clock.now();
    const soon = new Date(start.getTime() + 86_400_000).toISOString();
    await k.credit("out-3", "bonus", 40, { availableFrom: soon });
    await k.credit("out-4", "bonus", 25, { expiresAt: soon });
    h.clock.advanceDays(2);
    const slot = Math.floor(h.clock.now().getTime() / 1000);
    expect((await h.kopilka.scheduledWork.run(slot, "test")).claimed).toBe(true);
    expect((await notifications("out-3")).map((r) => [r.type, r.amount])).toEqual([
      ["points.credited", 40],
      ["points.available", 40],
    ]);
    expect((await notifications("out-4")).map((r) => [r.type, r.amount])).toEqual([
      ["points.credited", 25],
      ["points.expired", 25],
    ]);
    // The expiry also goes to the target that takes only expiries.
    const expired = (await notifications("out-4"))[1];
    expect((await deliveries("out-4")).filter((d) => d.notification_id === expired?.notification_id)).toEqual(
      [
        { notification_id: expired?.notification_id, target_id: "whk_all", state: "pending" },
        { notification_id: expired?.notification_id, target_id: "whk_expiry", state: "pending" },
      ],
    );
    expect(await checkOutboxInSql(db())).toEqual([]);
  });

  it("announces a lot expiring within 30 and then 7 days once each, and only the nearer one to a lot first seen within 7", async () => {
    const k = api(h);
    const inDays = (days: number) => new Date(h.clock.now().getTime() + days * 86_400_000).toISOString();
    await k.credit("out-5", "bonus", 90, { expiresAt: inDays(40) });
    await k.credit("out-6", "bonus", 15, { expiresAt: inDays(5) });
    const expiring = async (customerId: string) =>
      (await notifications(customerId)).filter((r) => r.type === "points.expiring");
    const run = () => h.kopilka.notificationHousekeeping.noticeExpiringLots();
    await run();
    expect(await expiring("out-5")).toEqual([]);
    expect((await expiring("out-6")).map((r) => [r.threshold_days, r.amount])).toEqual([[7, 15]]);
    h.clock.advanceDays(11); // 29 days left
    await run();
    await run();
    expect((await expiring("out-5")).map((r) => [r.threshold_days, r.amount])).toEqual([[30, 90]]);
    // out-6's lot has expired since: nothing more.
    expect(await expiring("out-6")).toHaveLength(1);
    h.clock.advanceDays(22); // 7 days left, to the millisecond
    await run();
    expect((await expiring("out-5")).map((r) => r.threshold_days)).toEqual([30, 7]);
    expect((await expiring("out-6")).map((r) => r.threshold_days)).toEqual([7]);
    await run();
    expect(await expiring("out-5")).toHaveLength(2);
    // Both kinds of target that take expiry notices get a delivery.
    const notice = (await expiring("out-5"))[1];
    expect(
      (await deliveries("out-5"))
        .filter((d) => d.notification_id === notice?.notification_id)
        .map((d) => d.target_id),
    ).toEqual(["whk_all", "whk_expiry"]);
  });

  it("pages through the lots in expiry order: every lot of every customer gets its notice once, whatever the page size", async () => {
    const k = api(h);
    const inDays = (days: number) => new Date(h.clock.now().getTime() + days * 86_400_000).toISOString();
    const customers = ["page-a", "page-b", "page-c"];
    // Interleaved expiries, so that a page holds some of a customer's lots and not others.
    for (const [i, c] of customers.entries())
      for (const d of [3, 10, 20]) await k.credit(c, "bonus", 10 + i, { expiresAt: inDays(d + i) });
    const run = new NotificationHousekeepingRun(
      new PostgresNotificationStore(db()),
      new PostgresRunClaims(db()),
      // One customer a statement: several statements a page.
      { transactionGroups: (ids: readonly string[]) => ids.map((id) => [id]) },
      h.clock,
      new MonotonicIds(),
      720,
      2,
    );
    expect(await run.noticeExpiringLots()).toBe(9);
    expect(await run.noticeExpiringLots()).toBe(0);
    for (const c of customers)
      expect(
        (await notifications(c))
          .filter((r) => r.type === "points.expiring")
          .map((r) => r.threshold_days)
          .sort(),
      ).toEqual([30, 30, 7]);
  });

  it("renders the movement's explanation as the notification's text, in Russian and English", async () => {
    const k = api(h);
    await k.credit("out-7", "bonus", 21);
    const [history] = await k.history("out-7");
    const claimed = await h.kopilka.webhookRelay.deliverPending();
    // Nobody listens on port 9: the attempts fail, are counted, and the backlog shows on /metrics.
    expect(claimed.failed + claimed.dead).toBeGreaterThan(0);
    const metrics = (await h.send({ method: "GET", url: "/metrics" })).body;
    const series = (name: string) =>
      Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(
      series('kopilka_notification_deliveries_total{target="webhook",outcome="failed"}') +
        series('kopilka_notification_deliveries_total{target="webhook",outcome="dead"}'),
    ).toBe(claimed.failed + claimed.dead);
    expect(series("kopilka_webhook_deliveries_pending")).toBeGreaterThan(0);
    expect(series("kopilka_webhook_deliveries_pending_oldest_seconds")).toBeGreaterThan(0);
    const rows = await sql<{ explanation_code: number; explanation_params: unknown }>`
      select explanation_code, explanation_params from notifications where customer_id = 'out-7'`.execute(
      db(),
    );
    expect(rows.rows).toHaveLength(1);
    const { renderNotification } = await import("../../src/domain/notifications/index.js");
    const { notificationFromRow } = await import("../../src/infra/notification-rows.js");
    const stored = await sql<Parameters<typeof notificationFromRow>[0]>`
      select * from notifications where customer_id = 'out-7'`.execute(db());
    const row = stored.rows[0];
    if (!row) throw new Error("no notification");
    const message = renderNotification(notificationFromRow(row), {
      categoryNames: () => ({ ru: "", en: "" }),
      timeZone: "Europe/Moscow",
    });
    expect(message.text).toEqual((history as { explanation: unknown }).explanation);
    expect(message.text.ru).toMatch(CYRILLIC_LETTER);
    expect(message.text.ru).not.toMatch(LATIN_LETTER);
  });

  it("sweeps notifications past the retention, keeping what an enabled target still waits for and notices of lots not yet expired", async () => {
    const before = await sql<{ n: number }>`select count(*)::int as n from notifications`.execute(db());
    // Everything delivered, but out-1's: its first is a dead letter, its second still pending.
    await sql`update notification_deliveries set state = 'delivered' where customer_id <> 'out-1'`.execute(
      db(),
    );
    const [first, second] = await notifications("out-1");
    await sql`update notification_deliveries set state = 'dead' where notification_id = ${first?.notification_id}`.execute(
      db(),
    );
    await sql`update notification_deliveries set state = 'pending' where notification_id = ${second?.notification_id}`.execute(
      db(),
    );
    h.clock.advanceDays(31);
    const swept = await h.kopilka.notificationHousekeeping.sweep();
    const left = await sql<{ customer_id: string; type: string }>`
      select customer_id, type from notifications order by customer_id, notification_id`.execute(db());
    expect(swept).toBe((before.rows[0]?.n ?? 0) - left.rows.length);
    // The dead letter goes with its notification; what an enabled target still waits for stays.
    expect(left.rows).toEqual([{ customer_id: "out-1", type: "points.credited" }]);
    expect((await notifications("out-1")).map((r) => r.notification_id)).toEqual([second?.notification_id]);
    const orphans = await sql<{ n: number }>`
      select count(*)::int as n from notification_deliveries d
      where not exists (select 1 from notifications n where n.customer_id = d.customer_id and n.notification_id = d.notification_id)`.execute(
      db(),
    );
    expect(orphans.rows[0]?.n).toBe(0);
  });
});
