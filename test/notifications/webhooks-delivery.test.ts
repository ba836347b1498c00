import { verifyWebhookSignature } from "@kopilka/client/webhooks";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credit, fullHistory, type Harness, spend } from "../http/routes-table.js";
import { httpHarness } from "../support/http.js";
import { type WebhookReceiver, webhookReceiver } from "../support/webhook-receiver.js";

/** R31: what a subscription receives, and that receivers can trust it (a real HTTP endpoint each). */
describe("webhook deliveries", () => {
  let h: Harness;
  let everything: WebhookReceiver;
  let spendsOnly: WebhookReceiver;
  let all: { id: string; secret: string };
  let spends: { id: string; secret: string };

  const subscribe = async (body: Record<string, unknown>) => {
    const res = await h.send({ method: "POST", url: "/v1/webhooks", key: h.keys.operator, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; secret: string };
  };

  beforeAll(async () => {
    h = await httpHarness();
    everything = await webhookReceiver();
    spendsOnly = await webhookReceiver();
    all = await subscribe({ url: everything.url });
    spends = await subscribe({ url: spendsOnly.url, eventTypes: ["points.spent", "points.refunded"] });
    await credit(h, "dlv-1", 100);
    await spend(h, "dlv-1", "order-1", 30);
    await credit(h, "dlv-2", 5);
    const round = await h.kopilka.webhookRelay.deliverPending();
    expect(round).toMatchObject({ delivered: 4, failed: 0, dead: 0 });
  });
  afterAll(async () => {
    await everything.close();
    await spendsOnly.close();
    await h.close();
  });

  it("each subscription receives exactly the types it asked for, once, in order per customer", () => {
    const seen = (r: WebhookReceiver) => r.received.map((d) => `${d.message.customerId} ${d.message.type}`);
    expect(seen(everything).sort()).toEqual(
      ["dlv-1 points.credited", "dlv-1 points.spent", "dlv-2 points.credited"].sort(),
    );
    expect(seen(everything).filter((s) => s.startsWith("dlv-1"))).toEqual([
      "dlv-1 points.credited",
      "dlv-1 points.spent",
    ]);
    expect(seen(spendsOnly)).toEqual(["dlv-1 points.spent"]);
    // The same notification, by the same id, to both.
    const spent = (r: WebhookReceiver) =>
      r.received.find((d) => d.message.type === "points.spent")?.message.id;
    expect(spent(spendsOnly)).toBe(spent(everything));
  });

  it("every delivery's signature verifies with the subscription's secret, and with no other", () => {
    for (const [receiver, { secret }, other] of [
      [everything, all, spends],
      [spendsOnly, spends, all],
    ] as const) {
      for (const d of receiver.received) {
        const header = d.headers["kopilka-signature"];
        expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(verifyWebhookSignature({ secret, header, body: d.raw })).toEqual({
          ok: true,
          timestamp: expect.any(Number),
        });
        expect(verifyWebhookSignature({ secret: other.secret, header, body: d.raw })).toMatchObject({
          ok: false,
          reason: "signature_mismatch",
        });
      }
    }
  });

  it("the body is the NotificationMessage JSON, with its id and type in headers too", async () => {
    const history = await fullHistory(h, "dlv-1");
    const d = everything.received.find((r) => r.message.type === "points.spent");
    if (!d) throw new Error("no spend delivered");
    const movement = history.find((m) => m.type === "spend");
    expect(d.message).toEqual({
      id: expect.stringMatching(/^ntf_[0-9A-HJKMNP-TV-Z]{26}$/),
      type: "points.spent",
      customerId: "dlv-1",
      occurredAt: movement?.occurredAt,
      kind: "bonus",
      amount: 30,
      reference: "order-1",
      movementId: movement?.movementId,
      expiry: null,
      decision: null,
      text: movement?.explanation,
    });
    expect(d.message.id.slice(4)).toBe(movement?.movementId.slice(4));
    expect(d.message.text.ru.length).toBeGreaterThan(0);
    expect(d.message.text.en.length).toBeGreaterThan(0);
    expect(d.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Kopilka-Webhooks/1",
      "kopilka-notification-id": d.message.id,
      "kopilka-notification-type": "points.spent",
    });
    expect(JSON.parse(d.raw)).toEqual(d.message);
  });

  it("a captured delivery sent again later with its old timestamp is rejected; a tampered one always", () => {
    const d = everything.received[0];
    if (!d) throw new Error("nothing delivered");
    const header = d.headers["kopilka-signature"];
    const signedAt = verifyWebhookSignature({ secret: all.secret, header, body: d.raw });
    if (!signedAt.ok) throw new Error(signedAt.message);
    const at = (seconds: number) => new Date((signedAt.timestamp + seconds) * 1000);
    expect(verifyWebhookSignature({ secret: all.secret, header, body: d.raw, now: at(299) }).ok).toBe(true);
    expect(verifyWebhookSignature({ secret: all.secret, header, body: d.raw, now: at(301) })).toMatchObject({
      ok: false,
      reason: "timestamp_outside_tolerance",
    });
    expect(
      verifyWebhookSignature({
        secret: all.secret,
        header,
        body: d.raw,
        now: at(3600),
        toleranceSeconds: 7200,
      }).ok,
    ).toBe(true);
    const tampered = d.raw.replace(/"amount":\d+/, '"amount":100000');
    expect(tampered).not.toBe(d.raw);
    expect(verifyWebhookSignature({ secret: all.secret, header, body: tampered })).toMatchObject({
      ok: false,
      reason: "signature_mismatch",
    });
    // Another timestamp on the old signature does not help either: the timestamp is signed.
    const restamped = String(header).replace(/^t=\d+/, `t=${signedAt.timestamp + 1}`);
    expect(verifyWebhookSignature({ secret: all.secret, header: restamped, body: d.raw })).toMatchObject({
      ok: false,
      reason: "signature_mismatch",
    });
  });

  it("deliveries are recorded delivered, with nothing pending", async () => {
    const rows = await sql<{ state: string; attempts: number; last_error: string | null }>`
      select state, attempts, last_error from notification_deliveries where target_id = ${all.id}`.execute(
      h.database.db,
    );
    expect(rows.rows).toEqual(Array(3).fill({ state: "delivered", attempts: 1, last_error: null }));
    const detail = await h.send({ method: "GET", url: `/v1/webhooks/${all.id}`, key: h.keys.operator });
    expect(detail.json().deliveries).toEqual({ pending: 0, dead: 0 });
    expect(await h.kopilka.webhookRelay.deliverPending()).toMatchObject({ delivered: 0 });
  });

  it("a subscription made later gets only what is written after it; a deleted one gets nothing more", async () => {
    const late = await webhookReceiver();
    try {
      const made = await subscribe({ url: late.url });
      expect(
        (await h.send({ method: "DELETE", url: `/v1/webhooks/${spends.id}`, key: h.keys.operator }))
          .statusCode,
      ).toBe(200);
      await spend(h, "dlv-1", "order-2", 10);
      await h.kopilka.webhookRelay.deliverPending();
      expect(late.received.map((d) => `${d.message.customerId} ${d.message.type}`)).toEqual([
        "dlv-1 points.spent",
      ]);
      expect(spendsOnly.received).toHaveLength(1);
      const toDeleted = await sql<{ n: number }>`
        select count(*)::int as n from notification_deliveries where target_id = ${spends.id}`.execute(
        h.database.db,
      );
      expect(toDeleted.rows[0]?.n).toBe(1);
      expect(everything.received).toHaveLength(4);
      expect(made.id > all.id).toBe(true);
    } finally {
      await late.close();
    }
  });
});

describe("verifyWebhookSignature's refusals", () => {
  const secret = "whsec_test";
  it("says why: a missing or malformed header", () => {
    for (const header of [
      undefined,
      null,
      "",
      "v1=ab",
      "t=1",
      `t=abc,v1=${"a".repeat(64)}`,
      ["a", "b"],
      "t=1,v1=xyz",
    ])
      expect(verifyWebhookSignature({ secret, header, body: "{}" })).toMatchObject({
        ok: false,
        reason: "malformed_header",
      });
  });
});
