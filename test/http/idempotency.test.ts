import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  bonusBalance,
  credit,
  customerIds,
  expectError,
  fieldsOf,
  fullHistory,
  type Harness,
  rowCount,
  sendRoute,
  WRITE_ROUTES,
} from "./routes-table.js";

/** Cross-cutting: every write is idempotent by its Idempotency-Key (R20 "every step is idempotent"). */
describe("idempotency of writes", () => {
  let h: Harness;
  const nextCustomer = customerIds("idem");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  describe.each(WRITE_ROUTES)("$method $path ($operationId)", (route) => {
    it("replays the same key and body: same status, byte-identical body, flagged, ledger unchanged", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const first = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "retry-1" });
      expect(first.statusCode, first.body).toBe(route.success);
      expect(first.headers["idempotent-replayed"]).toBeUndefined();
      const movements = await rowCount(h, "movements", id);
      const history = await fullHistory(h, id);
      const balance = await bonusBalance(h, id);

      const second = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "retry-1" });
      expect(second.statusCode).toBe(first.statusCode);
      expect(second.body).toBe(first.body);
      expect(second.headers["idempotent-replayed"]).toBe("true");
      expect(second.headers["x-request-id"]).not.toBe(first.headers["x-request-id"]);
      expect(await rowCount(h, "movements", id)).toBe(movements);
      expect(await fullHistory(h, id)).toEqual(history);
      expect(await bonusBalance(h, id)).toEqual(balance);
    });

    it("replays even when the body's fields come in another order", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const { body } = route.request(id);
      const first = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "reordered" });
      expect(first.statusCode, first.body).toBe(route.success);
      const reversed = body ? Object.fromEntries(Object.entries(body).reverse()) : undefined;
      const second = await sendRoute(h, route, id, {
        key: h.keys.operator,
        idempotencyKey: "reordered",
        ...(reversed ? { body: reversed } : {}),
      });
      expect(second.headers["idempotent-replayed"]).toBe("true");
      expect(second.body).toBe(first.body);
    });

    it.skipIf(route.otherSubject)(
      "refuses the same key with a different request with 409 IDEMPOTENCY_CONFLICT and writes nothing",
      async () => {
        const id = nextCustomer();
        await route.prepare?.(h, id);
        const first = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "dup" });
        expect(first.statusCode, first.body).toBe(route.success);
        const movements = await rowCount(h, "movements", id);
        const keys = await rowCount(h, "idempotency", id);
        const balance = await bonusBalance(h, id);

        const other = await sendRoute(h, route, id, {
          key: h.keys.operator,
          idempotencyKey: "dup",
          other: true,
        });
        const error = expectError(other, "IDEMPOTENCY_CONFLICT");
        expect(error.details).toMatchObject({
          idempotencyKey: "dup",
          originalRequestId: first.headers["x-request-id"],
        });
        expect(other.headers["idempotent-replayed"]).toBeUndefined();
        expect(await rowCount(h, "movements", id)).toBe(movements);
        expect(await rowCount(h, "idempotency", id)).toBe(keys);
        expect(await bonusBalance(h, id)).toEqual(balance);

        // The other request goes through under a key of its own: the conflict was about the key only.
        const fresh = await sendRoute(h, route, id, {
          key: h.keys.operator,
          idempotencyKey: "dup-2",
          other: true,
        });
        expect(fresh.statusCode, fresh.body).toBe(route.otherSuccess ?? route.success);
      },
    );

    it("refuses a write without Idempotency-Key with 400 naming headers.idempotency-key, writing nothing", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const movements = await rowCount(h, "movements", id);
      const res = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: null });
      expect(fieldsOf(res)).toEqual(["headers.idempotency-key"]);
      expect(await rowCount(h, "movements", id)).toBe(movements);
    });

    it("refuses a malformed Idempotency-Key with 400 naming headers.idempotency-key, writing nothing", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const movements = await rowCount(h, "movements", id);
      const keys = await rowCount(h, "idempotency", id);
      const malformed = {
        "with spaces": "my key",
        "of 300 characters": "k".repeat(300),
        "of 256 characters": "k".repeat(256),
        empty: "",
        "with a slash": "order/1",
        "non-ASCII": "ключ",
      };
      for (const [why, idempotencyKey] of Object.entries(malformed)) {
        const res = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey });
        expect(res.statusCode, why).toBe(400);
        expect(fieldsOf(res), why).toEqual(["headers.idempotency-key"]);
      }
      expect(await rowCount(h, "movements", id)).toBe(movements);
      expect(await rowCount(h, "idempotency", id)).toBe(keys);
    });

    if (route.otherSubject) {
      it("answers the same key on another subject as a new request (keys are stored per subject)", async () => {
        const id = nextCustomer();
        await route.prepare?.(h, id);
        const first = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "per-subject" });
        expect(first.statusCode, first.body).toBe(route.success);
        const other = await sendRoute(h, route, id, {
          key: h.keys.operator,
          idempotencyKey: "per-subject",
          other: true,
        });
        expect(other.statusCode, other.body).toBe(route.otherSuccess ?? route.success);
        expect(other.headers["idempotent-replayed"]).toBeUndefined();
        expect(other.body).not.toBe(first.body);
      });
    }

    it("accepts an Idempotency-Key of exactly 255 allowed characters", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const res = await sendRoute(h, route, id, {
        key: h.keys.operator,
        idempotencyKey: `A-z_0.9:${"k".repeat(247)}`,
      });
      expect(res.statusCode, res.body).toBe(route.success);
    });

    it("does not burn the key on a request refused before the ledger (validation, authorization)", async () => {
      const id = nextCustomer();
      await route.prepare?.(h, id);
      const { body } = route.request(id);
      if (body) {
        const invalid = await sendRoute(h, route, id, {
          key: h.keys.operator,
          idempotencyKey: "edge",
          body: { ...body, unknownField: 1 },
        });
        expectError(invalid, "VALIDATION_FAILED");
      }
      expectError(
        await sendRoute(h, route, id, { key: h.keys.readonly, idempotencyKey: "edge" }),
        "FORBIDDEN",
      );
      const ok = await sendRoute(h, route, id, { key: h.keys.operator, idempotencyKey: "edge" });
      expect(ok.statusCode, ok.body).toBe(route.success);
      expect(ok.headers["idempotent-replayed"]).toBeUndefined();
    });
  });

  describe("concurrent requests (PostgreSQL runs them in parallel)", () => {
    it("five simultaneous copies of one spend: one applies, four replay it, one movement", async () => {
      const id = nextCustomer();
      await credit(h, id, 100);
      const movements = await rowCount(h, "movements", id);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          h.send({
            method: "POST",
            url: `/v1/customers/${id}/spends`,
            key: h.keys.operator,
            body: { redemptionId: "order-1", kind: "bonus", amount: 60 },
            idempotencyKey: "same-spend",
          }),
        ),
      );
      expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(answers.map((r) => r.body)).size).toBe(1);
      expect(answers.filter((r) => r.headers["idempotent-replayed"] === "true")).toHaveLength(4);
      expect(await rowCount(h, "movements", id)).toBe(movements + 1);
      expect((await bonusBalance(h, id)).available).toBe(40);
    });

    it("simultaneous spends under different keys never overspend", async () => {
      const id = nextCustomer();
      await credit(h, id, 100);
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          h.send({
            method: "POST",
            url: `/v1/customers/${id}/spends`,
            key: h.keys.operator,
            body: { redemptionId: `order-${i}`, kind: "bonus", amount: 30 },
          }),
        ),
      );
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 201, 201, 422, 422]);
      expect((await bonusBalance(h, id)).available).toBe(10);
    });
  });

  describe("refusals replay too", () => {
    const spendBody = { redemptionId: "order-9", kind: "bonus", amount: 50 };
    const spendOnce = (id: string) =>
      h.send({
        method: "POST",
        url: `/v1/customers/${id}/spends`,
        key: h.keys.operator,
        body: spendBody,
        idempotencyKey: "spend-order-9",
      });

    it("an INSUFFICIENT_POINTS spend retried after the customer got more points is still refused, with the original requestId", async () => {
      const id = nextCustomer();
      await credit(h, id, 20);
      const first = await spendOnce(id);
      const refusal = expectError(first, "INSUFFICIENT_POINTS");
      expect(refusal.details).toEqual({ kind: "bonus", requested: 50, available: 20 });

      await credit(h, id, 100);
      const movements = await rowCount(h, "movements", id);
      const retry = await spendOnce(id);
      expect(retry.statusCode).toBe(422);
      expect(retry.headers["idempotent-replayed"]).toBe("true");
      // The body is the original one, requestId included; the header names this request.
      expectError(retry, "INSUFFICIENT_POINTS", { requestId: refusal.requestId });
      expect(retry.json()).toEqual(first.json());
      expect(retry.headers["x-request-id"]).not.toBe(refusal.requestId);
      expect(await rowCount(h, "movements", id)).toBe(movements);
      expect((await bonusBalance(h, id)).available).toBe(120);
    });

    it("a replayed refusal is byte-identical to the original response", async () => {
      const id = nextCustomer();
      await credit(h, id, 20);
      const first = await spendOnce(id);
      expect(first.statusCode).toBe(422);
      const retry = await spendOnce(id);
      expect(retry.headers["idempotent-replayed"]).toBe("true");
      expect(retry.body).toBe(first.body);
    });

    it("a replayed HOLD_NOT_FOUND keeps answering 404 after the hold is created", async () => {
      const id = nextCustomer();
      await credit(h, id, 100);
      const capture = () =>
        h.send({
          method: "POST",
          url: `/v1/customers/${id}/holds/late/capture`,
          key: h.keys.operator,
          idempotencyKey: "capture-late",
        });
      const first = await capture();
      const refusal = expectError(first, "HOLD_NOT_FOUND");
      const created = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/holds`,
        key: h.keys.operator,
        body: { holdId: "late", kind: "bonus", amount: 10 },
      });
      expect(created.statusCode).toBe(201);
      const retry = await capture();
      expectError(retry, "HOLD_NOT_FOUND", { requestId: refusal.requestId });
      expect(retry.body).toBe(first.body);
      expect((await bonusBalance(h, id)).held).toBe(10);
    });
  });

  describe("a key belongs to its caller and to one operation (issue 8.3)", () => {
    const creditBody = (amount: number) => ({
      kind: "bonus",
      amount,
      source: "purchase",
      funder: "marketplace",
    });
    const post = (url: string, key: string, idempotencyKey: string, body: unknown) =>
      h.send({ method: "POST", url, key, idempotencyKey, body });

    it("another caller's same key is a new request: applied for it, never the first caller's answer, nothing revealed", async () => {
      const id = nextCustomer();
      const other = (
        await h.kopilka.access.createKey({ name: "second integration", role: "operator", sellerId: null })
      ).secret;
      const first = await post(`/v1/customers/${id}/credits`, h.keys.operator, "shared-key", creditBody(10));
      expect(first.statusCode).toBe(201);
      // The same body: not a replay for another caller, but its own write.
      const same = await post(`/v1/customers/${id}/credits`, other, "shared-key", creditBody(10));
      expect(same.statusCode).toBe(201);
      expect(same.headers["idempotent-replayed"]).toBeUndefined();
      expect(same.json().lotId).not.toBe(first.json().lotId);
      // Another body: not a conflict either (that would tell the key exists).
      const different = await post(`/v1/customers/${id}/credits`, other, "shared-key-2", creditBody(1));
      expect(different.statusCode).toBe(201);
      const otherBody = await post(
        `/v1/customers/${id}/credits`,
        h.keys.support,
        "shared-key",
        creditBody(7),
      );
      expect(otherBody.statusCode).toBe(403); // support may not credit: refused before any key is looked at
      const adjust = await h.send({
        method: "POST",
        url: `/v1/customers/${id}/adjustments`,
        key: h.keys.support,
        idempotencyKey: "shared-key",
        body: { kind: "bonus", amount: 5, reason: "goodwill gesture" },
      });
      expect(adjust.statusCode, adjust.body).toBe(201);
      expect(adjust.headers["idempotent-replayed"]).toBeUndefined();
      expect((await bonusBalance(h, id)).available).toBe(10 + 10 + 1 + 5);
      // Each caller's retry replays its own answer.
      const retry = await post(`/v1/customers/${id}/credits`, other, "shared-key", creditBody(10));
      expect(retry.headers["idempotent-replayed"]).toBe("true");
      expect(retry.body).toBe(same.body);
    });

    it("the same caller's key on another operation is refused with IDEMPOTENCY_KEY_REUSED and writes nothing", async () => {
      const id = nextCustomer();
      expect(
        (await post(`/v1/customers/${id}/credits`, h.keys.operator, "one-op", creditBody(50))).statusCode,
      ).toBe(201);
      const movements = await rowCount(h, "movements", id);
      const reused = await post(`/v1/customers/${id}/spends`, h.keys.operator, "one-op", {
        redemptionId: "r-1",
        kind: "bonus",
        amount: 5,
      });
      const error = expectError(reused, "IDEMPOTENCY_KEY_REUSED");
      expect(error.details).toMatchObject({
        idempotencyKey: "one-op",
        firstUsedFor: "credit",
        operation: "spend",
      });
      expect(await rowCount(h, "movements", id)).toBe(movements);
      expect((await bonusBalance(h, id)).available).toBe(50);
    });
  });
});
