import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotificationRelay, type RelayOptions } from "../../src/app/notifications/relay.js";
import { categoryNamesOf } from "../../src/domain/orders/config.js";
import { PostgresNotificationStore } from "../../src/infra/notification-store.js";
import { WebhookTransport } from "../../src/infra/webhooks/webhook-transport.js";
import { credit, type Harness } from "../http/routes-table.js";
import { ON_POSTGRES } from "../support/database.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import { type ReceiverAnswer, type WebhookReceiver, webhookReceiver } from "../support/webhook-receiver.js";

const OPTIONS: RelayOptions = {
  batchSize: 4,
  leaseMs: 60_000,
  attemptTimeoutMs: 2_000,
  retryBaseMs: 10_000,
  maxRetryDelayMs: 40_000,
  maxAgeMs: 120_000,
  disableAfterMs: null,
  maxBatchesPerRound: 3,
};

/** Another instance's webhook relay over the same database (its own store, transport and options). */
function extraRelay(h: Harness, options: Partial<RelayOptions> = {}) {
  return new NotificationRelay(
    "webhook",
    new PostgresNotificationStore(h.database.db),
    new WebhookTransport(2_000),
    h.clock,
    async () => ({ categoryNames: categoryNamesOf([]), timeZone: "Europe/Moscow" }),
    { ...OPTIONS, ...options },
  );
}

async function deliveryStates(h: Harness, targetId: string) {
  const result = await sql<{ customer_id: string; notification_id: string; state: string }>`
    select customer_id, notification_id, state from notification_deliveries where target_id = ${targetId}
    order by customer_id, notification_id`.execute(h.database.db);
  return result.rows;
}

/** Per customer, the ids it accepted in the order they arrived. */
function acceptedByCustomer(receiver: WebhookReceiver, from = 0): Map<string, string[]> {
  const byCustomer = new Map<string, string[]>();
  for (const d of receiver.accepted().slice(from)) {
    byCustomer.set(d.message.customerId, [...(byCustomer.get(d.message.customerId) ?? []), d.message.id]);
  }
  return byCustomer;
}

async function subscribe(h: Harness, url: string): Promise<string> {
  const res = await h.send({ method: "POST", url: "/v1/webhooks", key: h.keys.operator, body: { url } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

/** R31: several relays (instances) at once over one outbox: at least once, in order per customer. */
describe(`webhook relays side by side (${ON_POSTGRES ? "PostgreSQL" : "PGlite"})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness({ KOPILKA_WEBHOOK_RETRY_BASE_MS: "10000", KOPILKA_WEBHOOK_RETRY_MAX_MS: "40000" });
  });
  afterAll(async () => {
    await h.close();
  });

  it("three relays delivering at once deliver every notification, each customer's in order", async () => {
    let n = 0;
    // Slow and sometimes failing answers, so that relays overlap and chains stop and resume.
    const receiver = await webhookReceiver(() => {
      n += 1;
      return n % 7 === 0 ? 500 : { status: 200, afterMs: n % 5 };
    });
    try {
      const hook = await subscribe(h, receiver.url);
      const customers = Array.from({ length: 12 }, (_, i) => `rel-${i}`);
      for (let round = 1; round <= 5; round++) for (const c of customers) await credit(h, c, round);
      const relays = [h.kopilka.webhookRelay, extraRelay(h), extraRelay(h, { batchSize: 3 })];
      for (let i = 0; i < 30; i++) {
        await Promise.all(
          relays.map(async (relay) => {
            for (let j = 0; j < 3; j++) await relay.deliverPending();
          }),
        );
        if ((await deliveryStates(h, hook)).every((d) => d.state === "delivered")) break;
        h.clock.advanceSeconds(40);
      }
      const states = await deliveryStates(h, hook);
      expect(states).toHaveLength(60);
      expect(states.filter((d) => d.state !== "delivered")).toEqual([]);
      const accepted = acceptedByCustomer(receiver);
      for (const c of customers) {
        const ids = states.filter((d) => d.customer_id === c).map((d) => d.notification_id);
        // Every one at least once, and in order: nothing of a customer overtook an earlier one.
        expect(accepted.get(c), c).toEqual(ids);
      }
    } finally {
      await receiver.close();
    }
  });
});

/**
 * R31, as a property: whatever the receiver answers (successes, 5xx, 4xx, cut connections), with two
 * relays at work, every notification ends delivered or dead-lettered, and the deliveries a customer
 * received are in the order its notifications were made.
 */
describe("webhook delivery under random failures (property)", () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    h = await httpHarness({
      KOPILKA_WEBHOOK_RETRY_BASE_MS: String(OPTIONS.retryBaseMs),
      KOPILKA_WEBHOOK_RETRY_MAX_MS: String(OPTIONS.maxRetryDelayMs),
      KOPILKA_WEBHOOK_MAX_AGE_SECONDS: String(OPTIONS.maxAgeMs / 1000),
      KOPILKA_WEBHOOK_DISABLE_AFTER_SECONDS: "86400",
    });
    receiver = await webhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await h.close();
  });

  let run = 0;
  const answers = fc.array(fc.constantFrom<ReceiverAnswer>(200, 200, 201, 500, 503, 404, "close"), {
    minLength: 1,
    maxLength: 12,
  });
  const workload = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

  it("every notification is delivered or dead; delivered ones arrive in order per customer", async () => {
    const second = extraRelay(h, { batchSize: 2 });
    let hook: string | undefined;
    await assertAsyncProperty(
      fc.asyncProperty(workload, answers, async (notificationsPerCustomer, pattern) => {
        run += 1;
        if (hook) await h.send({ method: "DELETE", url: `/v1/webhooks/${hook}`, key: h.keys.operator });
        let i = 0;
        receiver.answerWith(() => pattern[i++ % pattern.length] ?? 200);
        const from = receiver.accepted().length;
        hook = await subscribe(h, receiver.url);
        for (const [c, count] of notificationsPerCustomer.entries())
          for (let k = 1; k <= count; k++) await credit(h, `prop-${run}-${c}`, k);
        let rounds = 0;
        for (;;) {
          await Promise.all([h.kopilka.webhookRelay.deliverPending(), second.deliverPending()]);
          const states = await deliveryStates(h, hook);
          if (states.every((d) => d.state !== "pending")) break;
          h.clock.advanceSeconds(OPTIONS.maxRetryDelayMs / 1000);
          rounds += 1;
          expect(rounds, "rounds").toBeLessThan(200);
        }
        const states = await deliveryStates(h, hook);
        expect(states).toHaveLength(notificationsPerCustomer.reduce((a, b) => a + b, 0));
        const accepted = acceptedByCustomer(receiver, from);
        for (const [c] of notificationsPerCustomer.entries()) {
          const customer = `prop-${run}-${c}`;
          const delivered = states
            .filter((d) => d.customer_id === customer && d.state === "delivered")
            .map((d) => d.notification_id);
          expect(accepted.get(customer) ?? [], customer).toEqual(delivered);
        }
      }),
      { numRuns: 12 },
    );
  });
});

/**
 * A chain whose head failed must not fill claims: only chain heads are claimed (with the due
 * deliveries after them), and what waits behind a failed head is due when the head's retry is.
 * With claims of two chains, a customer with three deliveries behind a failing head is still retried.
 */
describe("a relay whose claim window fills with waiting deliveries", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("still retries the chain's head, and delivers the chain in order once the endpoint answers", async () => {
    const receiver = await webhookReceiver(() => 500);
    try {
      await subscribe(h, receiver.url);
      for (const amount of [1, 2, 3]) {
        await credit(h, "stall-1", amount);
        h.clock.advanceSeconds(1);
      }
      const relay = extraRelay(h, { batchSize: 2 });
      expect(await relay.deliverPending()).toMatchObject({ failed: 1 });
      receiver.answerWith(() => 200);
      for (let i = 0; i < 5; i++) {
        h.clock.advanceSeconds(60);
        await relay.deliverPending();
      }
      expect(receiver.accepted().map((d) => d.message.amount)).toEqual([1, 2, 3]);
    } finally {
      await receiver.close();
    }
  });
});
