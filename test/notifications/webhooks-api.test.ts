import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES } from "../../src/domain/notifications/index.js";
import { expectError, expectSuccess, fieldsOf, type Harness } from "../http/routes-table.js";
import { httpHarness } from "../support/http.js";

/** The fields a VALIDATION_FAILED names, each once (a value can break two rules of one field). */
const uniqueFields = (res: Parameters<typeof fieldsOf>[0]) => [...new Set(fieldsOf(res))];

/** R31, issue 10: webhook subscriptions through the API (operators only). */
describe("webhook subscriptions: the API", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const create = (body: unknown, idempotencyKey?: string, key = h.keys.operator) =>
    h.send({ method: "POST", url: "/v1/webhooks", key, body, ...(idempotencyKey ? { idempotencyKey } : {}) });
  const get = (id: string) => h.send({ method: "GET", url: `/v1/webhooks/${id}`, key: h.keys.operator });
  const patch = (id: string, body: unknown, idempotencyKey?: string) =>
    h.send({
      method: "PATCH",
      url: `/v1/webhooks/${id}`,
      key: h.keys.operator,
      body,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  const remove = (id: string) =>
    h.send({ method: "DELETE", url: `/v1/webhooks/${id}`, key: h.keys.operator });
  const listAll = async () => {
    const items: { id: string }[] = [];
    let after: string | undefined;
    do {
      const page = expectSuccess(
        await h.client(h.keys.operator).GET("/v1/webhooks", { params: { query: { limit: "2", after } } }),
        200,
      );
      items.push(...page.items);
      after = page.next ?? undefined;
    } while (after);
    return items;
  };

  it("creates a subscription (201) with its secret in that answer only", async () => {
    const answer = expectSuccess(
      await h.client(h.keys.operator).POST("/v1/webhooks", {
        params: { header: h.idempotencyKeyHeader() },
        body: {
          url: "https://receiver.example/kopilka?tenant=7",
          eventTypes: ["points.credited", "points.spent"],
          description: "CRM sync",
        },
      }),
      201,
    );
    expect(answer).toEqual({
      id: expect.stringMatching(/^whk_[0-9A-HJKMNP-TV-Z]{26}$/),
      url: "https://receiver.example/kopilka?tenant=7",
      eventTypes: ["points.credited", "points.spent"],
      description: "CRM sync",
      state: "enabled",
      disabledReason: null,
      failingSince: null,
      createdAt: h.clock.now().toISOString(),
      updatedAt: h.clock.now().toISOString(),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    const read = await get(answer.id);
    expect(read.statusCode).toBe(200);
    const { secret, ...shown } = answer;
    expect(read.json()).toEqual({ ...shown, deliveries: { pending: 0, dead: 0 } });
    const listed = await h.send({ method: "GET", url: "/v1/webhooks", key: h.keys.operator });
    for (const body of [read.body, listed.body]) expect(body).not.toContain(secret);
    expect(listed.json().items).toContainEqual(shown);
    // The audit trail says who made it, never the secret.
    const audit = await sql<{ actor: string; action: string; after: unknown }>`
      select actor, action, after from audit_log where subject = ${`webhook:${answer.id}`}`.execute(
      h.database.db,
    );
    expect(audit.rows).toEqual([
      { actor: expect.stringMatching(/^key_/), action: "webhooks.create", after: shown },
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain(secret);
  });

  it("each subscription gets its own secret; eventTypes and description may be left out (all types, none)", async () => {
    const a = await create({ url: "http://127.0.0.1:9/a" });
    const b = await create({ url: "http://127.0.0.1:9/a", eventTypes: null, description: null });
    expect(a.statusCode, a.body).toBe(201);
    expect(b.statusCode, b.body).toBe(201);
    expect(a.json()).toMatchObject({ eventTypes: null, description: null });
    expect(a.json().secret).not.toBe(b.json().secret);
    expect(a.json().id < b.json().id).toBe(true);
  });

  it("lists subscriptions not deleted, oldest first, in pages", async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await create({ url: `https://list.example/${i}` })).json().id);
    const all = (await listAll()).map((w) => w.id);
    expect(all.filter((id) => made.includes(id))).toEqual(made);
    expect([...all].sort()).toEqual(all);
    expect((await remove(made[1] ?? "")).statusCode).toBe(200);
    expect((await listAll()).map((w) => w.id)).not.toContain(made[1]);
  });

  it("changes what is given, and enables and disables", async () => {
    const id = (await create({ url: "https://patch.example/a", description: "first" })).json().id;
    h.clock.advanceSeconds(60);
    const changed = await patch(id, { url: "https://patch.example/b", eventTypes: ["points.expiring"] });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      url: "https://patch.example/b",
      eventTypes: ["points.expiring"],
      description: "first",
      state: "enabled",
      updatedAt: h.clock.now().toISOString(),
    });
    expect(changed.json().createdAt).not.toBe(changed.json().updatedAt);
    expect((await patch(id, { eventTypes: null, description: null })).json()).toMatchObject({
      eventTypes: null,
      description: null,
    });
    const disabled = (await patch(id, { enabled: false })).json();
    expect(disabled).toMatchObject({ state: "disabled", disabledReason: expect.stringMatching(/by key_/) });
    // A disabled endpoint that had been failing: enabling it clears both.
    await sql`update notification_targets set failing_since = now(), disabled_reason = 'kept failing'
      where target_id = ${id}`.execute(h.database.db);
    const enabled = (await patch(id, { enabled: true })).json();
    expect(enabled).toMatchObject({ state: "enabled", disabledReason: null, failingSince: null });
    expect((await get(id)).json()).toMatchObject({
      state: "enabled",
      disabledReason: null,
      failingSince: null,
    });
  });

  it("a deleted subscription is shown as deleted, and is 404 to every write", async () => {
    const id = (await create({ url: "https://delete.example/" })).json().id;
    const deleted = await remove(id);
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toMatchObject({ id, state: "deleted" });
    expect((await get(id)).json()).toMatchObject({ id, state: "deleted" });
    const writes = [
      await patch(id, { enabled: true }),
      await remove(id),
      await h.send({
        method: "POST",
        url: `/v1/webhooks/${id}/dead-letters/replay`,
        key: h.keys.operator,
        body: {},
      }),
    ];
    for (const res of writes)
      expect(expectError(res, "WEBHOOK_NOT_FOUND").details).toEqual({ webhookId: id });
  });

  it("an unknown subscription is 404 WEBHOOK_NOT_FOUND; a malformed id is 400 naming it", async () => {
    const unknown = "whk_01KAAAAAAAAAAAAAAAAAAAAAAA";
    expectError(await get(unknown), "WEBHOOK_NOT_FOUND");
    expectError(await patch(unknown, { enabled: true }), "WEBHOOK_NOT_FOUND");
    expectError(
      await h.send({ method: "GET", url: `/v1/webhooks/${unknown}/dead-letters`, key: h.keys.operator }),
      "WEBHOOK_NOT_FOUND",
    );
    for (const bad of ["whk_1", "key_01KAAAAAAAAAAAAAAAAAAAAAAA", "whk_01KAAAAAAAAAAAAAAAAAAAAAAI"])
      expect(fieldsOf(await get(bad))).toEqual(["params.webhookId"]);
  });

  it("the broker's target is not a webhook: never listed, read or changed here", async () => {
    await sql`insert into notification_targets (target_id, kind, state, created_at, updated_at)
      values ('whk_01KBBBBBBBBBBBBBBBBBBBBBBB', 'nats', 'enabled', now(), now())`.execute(h.database.db);
    expectError(await get("whk_01KBBBBBBBBBBBBBBBBBBBBBBB"), "WEBHOOK_NOT_FOUND");
    expectError(await remove("whk_01KBBBBBBBBBBBBBBBBBBBBBBB"), "WEBHOOK_NOT_FOUND");
    expect((await listAll()).map((w) => w.id)).not.toContain("whk_01KBBBBBBBBBBBBBBBBBBBBBBB");
    await sql`delete from notification_targets where target_id = 'whk_01KBBBBBBBBBBBBBBBBBBBBBBB'`.execute(
      h.database.db,
    );
  });

  it.each(["support", "readonly", "seller"] as const)(
    "refuses the %s role with 403 on every route",
    async (role) => {
      const id = (await create({ url: "https://roles.example/" })).json().id;
      const key = h.keys[role];
      const answers = [
        await create({ url: "https://roles.example/" }, undefined, key),
        await h.send({ method: "GET", url: "/v1/webhooks", key }),
        await h.send({ method: "GET", url: `/v1/webhooks/${id}`, key }),
        await h.send({ method: "PATCH", url: `/v1/webhooks/${id}`, key, body: { enabled: false } }),
        await h.send({ method: "DELETE", url: `/v1/webhooks/${id}`, key }),
        await h.send({ method: "GET", url: `/v1/webhooks/${id}/dead-letters`, key }),
        await h.send({ method: "POST", url: `/v1/webhooks/${id}/dead-letters/replay`, key, body: {} }),
      ];
      for (const res of answers)
        expect(expectError(res, "FORBIDDEN").details).toEqual({ allowedRoles: ["operator"] });
      expectError(
        await h.send({ method: "GET", url: "/v1/webhooks", key: await h.customerToken("c-1") }),
        "FORBIDDEN",
      );
      expect((await get(id)).json()).toMatchObject({ state: "enabled" });
    },
  );

  describe("bad input is 400 naming its field", () => {
    const url = "https://valid.example/hook";
    it.each([
      [{}, "body.url"],
      [{ url: "" }, "body.url"],
      [{ url: "ftp://files.example/hook" }, "body.url"],
      [{ url: "/relative/hook" }, "body.url"],
      [{ url: "https://" }, "body.url"],
      [{ url: "https://exa mple.com/" }, "body.url"],
      [{ url: "https://user:password@receiver.example/" }, "body.url"],
      [{ url: "https://token@receiver.example/" }, "body.url"],
      [{ url: `https://receiver.example/${"x".repeat(2049 - 25)}` }, "body.url"],
      [{ url: 7 }, "body.url"],
      [{ url, eventTypes: [] }, "body.eventTypes"],
      [{ url, eventTypes: "points.spent" }, "body.eventTypes"],
      [{ url, eventTypes: ["points.spent", "points.spent"] }, "body.eventTypes"],
      [{ url, eventTypes: ["points.spent", "points.nope"] }, "body.eventTypes[1]"],
      [{ url, description: "x".repeat(201) }, "body.description"],
      [{ url, description: "" }, "body.description"],
      [{ url, secret: "mine" }, "body.secret"],
    ])("%j → %s", async (body, field) => {
      const res = await create(body);
      expect(uniqueFields(res), res.body).toEqual([field]);
    });

    it("a bad event type is named with the types allowed", async () => {
      const error = expectError(await create({ url, eventTypes: ["points.nope"] }), "VALIDATION_FAILED");
      expect(error.message).toContain("body.eventTypes[0]");
      expect(error.message).toContain(NOTIFICATION_TYPES.join(", "));
    });

    it("accepts a URL of 2,048 characters, a description of 200, and every type", async () => {
      const long = `https://receiver.example/${"x".repeat(2048 - 25)}`;
      expect(long).toHaveLength(2048);
      const res = await create({
        url: long,
        description: "d".repeat(200),
        eventTypes: [...NOTIFICATION_TYPES],
      });
      expect(res.statusCode, res.body).toBe(201);
    });

    it.each([
      [{}, "body"],
      [{ enabled: "yes" }, "body.enabled"],
      [{ url: "https://a:b@receiver.example/" }, "body.url"],
      [{ eventTypes: ["points.nope"] }, "body.eventTypes[0]"],
      [{ description: "x".repeat(201) }, "body.description"],
      [{ state: "enabled" }, "body.state"],
    ])("PATCH %j → %s", async (body, field) => {
      const id = (await create({ url })).json().id;
      const res = await patch(id, body);
      expect(uniqueFields(res), res.body).toEqual([field]);
    });

    it.each([
      ["no ids", { notificationIds: [] }, "body.notificationIds"],
      ["a malformed id", { notificationIds: ["ntf_1"] }, "body.notificationIds[0]"],
      [
        "1,001 ids",
        { notificationIds: Array.from({ length: 1001 }, () => "ntf_01KAAAAAAAAAAAAAAAAAAAAAAA") },
        "body.notificationIds",
      ],
    ])("replay with %s → %s", async (_label, body, field) => {
      const id = (await create({ url })).json().id;
      const res = await h.send({
        method: "POST",
        url: `/v1/webhooks/${id}/dead-letters/replay`,
        key: h.keys.operator,
        body,
      });
      expect(uniqueFields(res), res.body).toEqual([field]);
    });

    it("a listing's cursor it did not give is 400 naming query.after", async () => {
      const id = (await create({ url })).json().id;
      const res = await h.send({
        method: "GET",
        url: `/v1/webhooks/${id}/dead-letters?after=nope`,
        key: h.keys.operator,
      });
      expect(fieldsOf(res)).toEqual(["query.after"]);
    });
  });

  describe("idempotency", () => {
    it("a retry with the same key answers the same subscription, secret included, and makes no other", async () => {
      const before = (await listAll()).length;
      const body = { url: "https://idem.example/", eventTypes: ["points.spent"] };
      const first = await create(body, "make-crm-hook");
      const retry = await create(
        { eventTypes: ["points.spent"], url: "https://idem.example/" },
        "make-crm-hook",
      );
      expect(first.statusCode).toBe(201);
      expect(retry.statusCode).toBe(201);
      expect(retry.body).toBe(first.body);
      expect(retry.headers["idempotent-replayed"]).toBe("true");
      expect(first.headers["idempotent-replayed"]).toBeUndefined();
      expect((await listAll()).length).toBe(before + 1);
    });

    it("the same key with another body is 409 IDEMPOTENCY_CONFLICT; for another operation on a subscription IDEMPOTENCY_KEY_REUSED", async () => {
      const first = await create({ url: "https://idem.example/one" }, "conflicting");
      const before = (await listAll()).length;
      const conflict = expectError(
        await create({ url: "https://idem.example/two" }, "conflicting"),
        "IDEMPOTENCY_CONFLICT",
      );
      expect(conflict.details).toMatchObject({ originalRequestId: first.headers["x-request-id"] });
      // Keys are stored per subscription (as per customer): on a subscription, one key is one operation.
      const id = first.json().id;
      const patched = await patch(id, { description: "renamed" }, "conflicting");
      expect(patched.statusCode, patched.body).toBe(200);
      const reused = expectError(
        await h.send({
          method: "DELETE",
          url: `/v1/webhooks/${id}`,
          key: h.keys.operator,
          idempotencyKey: "conflicting",
        }),
        "IDEMPOTENCY_KEY_REUSED",
      );
      expect(reused.details).toMatchObject({ firstUsedFor: "webhooks.update", operation: "webhooks.delete" });
      expect((await listAll()).length).toBe(before);
      expect((await get(id)).json().state).toBe("enabled");
    });

    it("another caller's same key is its own request, never the first caller's answer (nor its secret)", async () => {
      const other = (
        await h.kopilka.access.createKey({ name: "second operator", role: "operator", sellerId: null })
      ).secret;
      const body = { url: "https://idem.example/shared" };
      const mine = await create(body, "shared-key");
      const theirs = await create(body, "shared-key", other);
      expect(theirs.statusCode).toBe(201);
      expect(theirs.headers["idempotent-replayed"]).toBeUndefined();
      expect(theirs.json().id).not.toBe(mine.json().id);
      expect(theirs.json().secret).not.toBe(mine.json().secret);
    });

    it("a refusal is replayed too: a PATCH of an unknown subscription stays 404 with its first request id", async () => {
      const unknown = "whk_01KCCCCCCCCCCCCCCCCCCCCCCC";
      const first = await patch(unknown, { enabled: true }, "patch-unknown");
      const refusal = expectError(first, "WEBHOOK_NOT_FOUND");
      const retry = await patch(unknown, { enabled: true }, "patch-unknown");
      expect(retry.body).toBe(first.body);
      expectError(retry, "WEBHOOK_NOT_FOUND", { requestId: refusal.requestId });
    });

    it("concurrent copies of one create make one subscription", async () => {
      const before = (await listAll()).length;
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => create({ url: "https://idem.example/race" }, "racing-create")),
      );
      expect(new Set(answers.map((r) => r.body)).size).toBe(1);
      expect(answers.filter((r) => r.headers["idempotent-replayed"] === "true")).toHaveLength(4);
      expect((await listAll()).length).toBe(before + 1);
    });

    it("stored answers are swept after the retention, then the key is a new request", async () => {
      const first = await create({ url: "https://idem.example/swept" }, "to-be-swept");
      h.clock.advanceSeconds(25 * 3600);
      expect(await h.kopilka.webhooks.sweepStoredAnswers()).toBeGreaterThan(0);
      const again = await create({ url: "https://idem.example/swept" }, "to-be-swept");
      expect(again.statusCode).toBe(201);
      expect(again.json().id).not.toBe(first.json().id);
    });
  });
});
