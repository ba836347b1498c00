import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credit, type Harness } from "../http/routes-table.js";
import { httpHarness } from "../support/http.js";
import { refusingUrl, webhookReceiver } from "../support/webhook-receiver.js";

interface DeliveryRow {
  state: "pending" | "delivered" | "dead";
  attempts: number;
  next_attempt_at: Date;
  since: Date;
  last_error: string | null;
}

async function deliveryOf(h: Harness, targetId: string, notificationId: string): Promise<DeliveryRow> {
  const result = await sql<DeliveryRow>`
    select state, attempts, next_attempt_at, since, last_error from notification_deliveries
    where target_id = ${targetId} and notification_id = ${notificationId}`.execute(h.database.db);
  const row = result.rows[0];
  if (!row) throw new Error(`no delivery of ${notificationId} to ${targetId}`);
  return { ...row, next_attempt_at: new Date(row.next_attempt_at), since: new Date(row.since) };
}

async function notificationsOf(h: Harness, customerId: string): Promise<string[]> {
  const result = await sql<{ notification_id: string }>`
    select notification_id from notifications where customer_id = ${customerId} order by notification_id`.execute(
    h.database.db,
  );
  return result.rows.map((r) => r.notification_id);
}

async function subscribe(h: Harness, url: string): Promise<string> {
  const res = await h.send({ method: "POST", url: "/v1/webhooks", key: h.keys.operator, body: { url } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function patchWebhook(h: Harness, id: string, body: Record<string, unknown>) {
  const res = await h.send({ method: "PATCH", url: `/v1/webhooks/${id}`, key: h.keys.operator, body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The retry n's delay lies in [ceiling/2, ceiling], ceiling = min(max, base · 2^(n−1)) (relay.ts). */
function expectBackOff(row: DeliveryRow, now: Date, baseMs: number, maxMs: number) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (row.attempts - 1));
  const delay = row.next_attempt_at.getTime() - now.getTime();
  expect(delay, `attempt ${row.attempts}`).toBeGreaterThanOrEqual(ceiling / 2);
  expect(delay, `attempt ${row.attempts}`).toBeLessThanOrEqual(ceiling);
}

const BASE_MS = 10_000;
const MAX_MS = 80_000;
const MAX_AGE_SECONDS = 600;

/** R31: a receiver that fails on purpose — 500, no answer, connection refused — and what the relay does. */
describe("webhook retries, dead letters and their replay", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness({
      KOPILKA_WEBHOOK_TIMEOUT_MS: "200",
      KOPILKA_WEBHOOK_RETRY_BASE_MS: String(BASE_MS),
      KOPILKA_WEBHOOK_RETRY_MAX_MS: String(MAX_MS),
      KOPILKA_WEBHOOK_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
      KOPILKA_WEBHOOK_DISABLE_AFTER_SECONDS: "86400",
    });
  });
  afterAll(async () => {
    await h.close();
  });
  const relay = () => h.kopilka.webhookRelay.deliverPending();

  it("retries with exponential back-off, in order per customer, others not blocked; dead-letters; replays once", async () => {
    const receiver = await webhookReceiver((m) => (m.customerId === "rt-1" ? 500 : 200));
    try {
      const hook = await subscribe(h, receiver.url);
      const writtenAt = h.clock.now();
      await credit(h, "rt-1", 10);
      await credit(h, "rt-1", 20);
      await credit(h, "rt-2", 30);
      const [n1, n2] = await notificationsOf(h, "rt-1");
      const [n3] = await notificationsOf(h, "rt-2");
      if (!n1 || !n2 || !n3) throw new Error("notifications missing");
      const receivedIds = () => receiver.received.map((d) => d.message.id);

      // 1: 500. The customer's later notification is not tried; the other customer's is delivered.
      expect(await relay()).toMatchObject({ delivered: 1, failed: 1, dead: 0 });
      expect(receivedIds().sort()).toEqual([n1, n3].sort());
      let d1 = await deliveryOf(h, hook, n1);
      expect(d1).toMatchObject({ state: "pending", attempts: 1, last_error: "the endpoint answered 500" });
      expectBackOff(d1, h.clock.now(), BASE_MS, MAX_MS);
      expect(await deliveryOf(h, hook, n2)).toMatchObject({ state: "pending", attempts: 0 });
      expect(await deliveryOf(h, hook, n3)).toMatchObject({ state: "delivered", attempts: 1 });
      // Before the retry is due nothing is sent: n2 waits behind n1.
      h.clock.advanceSeconds(4);
      expect(await relay()).toMatchObject({ delivered: 0, failed: 0 });
      expect(receivedIds()).toHaveLength(2);

      // 2: no answer within KOPILKA_WEBHOOK_TIMEOUT_MS.
      receiver.answerWith((m) => (m.customerId === "rt-1" ? "hang" : 200));
      h.clock.set(d1.next_attempt_at);
      expect(await relay()).toMatchObject({ delivered: 0, failed: 1 });
      d1 = await deliveryOf(h, hook, n1);
      expect(d1).toMatchObject({
        attempts: 2,
        last_error: "the endpoint could not be reached: no answer within 200 ms",
      });
      expectBackOff(d1, h.clock.now(), BASE_MS, MAX_MS);

      // 3 and on: connection refused, until the delivery is older than the maximum age.
      await patchWebhook(h, hook, { url: await refusingUrl() });
      let attempts = 2;
      while (d1.state === "pending") {
        h.clock.set(d1.next_attempt_at);
        const round = await relay();
        attempts += 1;
        d1 = await deliveryOf(h, hook, n1);
        expect(d1.attempts).toBe(attempts);
        expect(d1.last_error).toMatch(/^the endpoint could not be reached: .*ECONNREFUSED/);
        const old = h.clock.now().getTime() - writtenAt.getTime() >= MAX_AGE_SECONDS * 1000;
        expect(round).toMatchObject(old ? { dead: 1, failed: 0 } : { dead: 0, failed: 1 });
        if (d1.state === "pending") expectBackOff(d1, h.clock.now(), BASE_MS, MAX_MS);
        expect(attempts).toBeLessThan(20);
      }
      expect(d1.state).toBe("dead");
      expect(attempts).toBeGreaterThanOrEqual(7); // 10 + 20 + 40 + 80 + 80 … s reach 600 s at the 7th at the soonest
      expect(receivedIds().filter((id) => id === n2)).toEqual([]);

      // The dead letter no longer holds the customer's chain: n2 goes out.
      await patchWebhook(h, hook, { url: receiver.url });
      receiver.answerWith(() => 200);
      expect(await relay()).toMatchObject({ delivered: 1 });
      expect(receiver.accepted().map((d) => d.message.id)).toEqual([n3, n2]);

      // Listed, counted, replayed through the API, then delivered once.
      const deadLetters = await h.send({
        method: "GET",
        url: `/v1/webhooks/${hook}/dead-letters`,
        key: h.keys.operator,
      });
      expect(deadLetters.json()).toEqual({
        items: [
          {
            notificationId: n1,
            customerId: "rt-1",
            type: "points.credited",
            attempts,
            since: writtenAt.toISOString(),
            lastError: d1.last_error,
          },
        ],
        next: null,
      });
      const detail = await h.send({ method: "GET", url: `/v1/webhooks/${hook}`, key: h.keys.operator });
      expect(detail.json().deliveries).toEqual({ pending: 0, dead: 1 });
      const unknown = "ntf_01KAAAAAAAAAAAAAAAAAAAAAAA";
      const replay = await h.send({
        method: "POST",
        url: `/v1/webhooks/${hook}/dead-letters/replay`,
        key: h.keys.operator,
        body: { notificationIds: [n1, unknown, n2] },
      });
      expect(replay.statusCode, replay.body).toBe(200);
      expect(replay.json()).toEqual({ webhookId: hook, replayed: 1, notReplayed: [unknown, n2] });
      expect(await deliveryOf(h, hook, n1)).toMatchObject({
        state: "pending",
        attempts: 0,
        since: h.clock.now(),
        next_attempt_at: h.clock.now(),
      });
      expect(await relay()).toMatchObject({ delivered: 1, failed: 0 });
      expect(receiver.accepted().filter((d) => d.message.id === n1)).toHaveLength(1);
      expect(await relay()).toMatchObject({ delivered: 0 });
      const after = await h.send({ method: "GET", url: `/v1/webhooks/${hook}`, key: h.keys.operator });
      expect(after.json().deliveries).toEqual({ pending: 0, dead: 0 });
    } finally {
      await receiver.close();
    }
  });

  it("replays every dead letter when none are named, in pages of the listing oldest first", async () => {
    const refused = await refusingUrl();
    const hook = await subscribe(h, refused);
    const customers = ["all-1", "all-2", "all-3"];
    for (const c of customers) {
      await credit(h, c, 1);
      await credit(h, c, 2);
    }
    // Every attempt fails until each is past the maximum age.
    for (let i = 0; i < 40; i++) {
      await h.kopilka.webhookRelay.deliverPending();
      h.clock.advanceSeconds(MAX_MS / 1000);
    }
    const dead: string[] = [];
    let after: string | undefined;
    do {
      const page = await h.send({
        method: "GET",
        url: `/v1/webhooks/${hook}/dead-letters?limit=2${after ? `&after=${after}` : ""}`,
        key: h.keys.operator,
      });
      expect(page.statusCode, page.body).toBe(200);
      dead.push(...page.json().items.map((d: { notificationId: string }) => d.notificationId));
      after = page.json().next ?? undefined;
    } while (after);
    const all = (await Promise.all(customers.map((c) => notificationsOf(h, c)))).flat().sort();
    expect(dead).toEqual(all);
    const receiver = await webhookReceiver();
    try {
      await patchWebhook(h, hook, { url: receiver.url });
      const replay = await h.send({
        method: "POST",
        url: `/v1/webhooks/${hook}/dead-letters/replay`,
        key: h.keys.operator,
        body: {},
      });
      expect(replay.json()).toEqual({ webhookId: hook, replayed: 6, notReplayed: [] });
      await h.kopilka.webhookRelay.deliverPending();
      for (const c of customers) {
        const mine = receiver.accepted().filter((d) => d.message.customerId === c);
        expect(mine.map((d) => d.message.id)).toEqual(await notificationsOf(h, c));
      }
      expect(receiver.received).toHaveLength(6);
    } finally {
      await receiver.close();
    }
  });
});

describe("a webhook endpoint failing for too long is disabled", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness({
      KOPILKA_WEBHOOK_RETRY_BASE_MS: "10000",
      KOPILKA_WEBHOOK_RETRY_MAX_MS: "20000",
      KOPILKA_WEBHOOK_MAX_AGE_SECONDS: "3600",
      KOPILKA_WEBHOOK_DISABLE_AFTER_SECONDS: "60",
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it("is disabled with a reason visible in GET, keeps its deliveries waiting, and resumes when enabled", async () => {
    const receiver = await webhookReceiver(() => 503);
    try {
      const hook = await subscribe(h, receiver.url);
      const get = async () =>
        (await h.send({ method: "GET", url: `/v1/webhooks/${hook}`, key: h.keys.operator })).json();
      await credit(h, "dis-1", 10);
      const failingFrom = h.clock.now();
      expect(await h.kopilka.webhookRelay.deliverPending()).toMatchObject({ failed: 1 });
      expect(await get()).toMatchObject({ state: "enabled", failingSince: failingFrom.toISOString() });

      h.clock.advanceSeconds(61);
      expect(await h.kopilka.webhookRelay.deliverPending()).toMatchObject({ failed: 1 });
      const disabled = await get();
      expect(disabled).toMatchObject({
        state: "disabled",
        failingSince: failingFrom.toISOString(),
        disabledReason: "every delivery failed for longer than 60 s; the last: the endpoint answered 503",
        deliveries: { pending: 1, dead: 0 },
      });

      // While disabled: notifications still get a delivery, and none is attempted.
      await credit(h, "dis-1", 20);
      await credit(h, "dis-2", 30);
      h.clock.advanceSeconds(60);
      const tried = receiver.received.length;
      expect(await h.kopilka.webhookRelay.deliverPending()).toMatchObject({ delivered: 0, failed: 0 });
      expect(receiver.received).toHaveLength(tried);
      expect((await get()).deliveries).toEqual({ pending: 3, dead: 0 });

      receiver.answerWith(() => 204);
      expect(await patchWebhook(h, hook, { enabled: true })).toMatchObject({
        state: "enabled",
        disabledReason: null,
        failingSince: null,
      });
      expect(await h.kopilka.webhookRelay.deliverPending()).toMatchObject({ delivered: 3, failed: 0 });
      const accepted = receiver.accepted().map((d) => `${d.message.customerId} ${d.message.amount}`);
      expect(accepted.filter((a) => a.startsWith("dis-1"))).toEqual(["dis-1 10", "dis-1 20"]);
      expect(accepted).toContain("dis-2 30");
      expect(await get()).toMatchObject({ failingSince: null, deliveries: { pending: 0, dead: 0 } });
    } finally {
      await receiver.close();
    }
  });
});
