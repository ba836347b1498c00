import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, fieldsOf, type Harness } from "../http/routes-table.js";
import { REFERENCE_INSTANT } from "../support/clock.js";
import { httpHarness } from "../support/http.js";

/** R26, issue 11: campaign definitions through the API, their versions and states. */

const at = (iso: string) => new Date(iso);
/** Black Friday 2026 in Moscow: from Friday 27 November 00:00 to Tuesday 1 December 00:00 (exclusive). */
const FRIDAY_MOSCOW = "2026-11-26T21:00:00.000Z";
const TUESDAY_MOSCOW = "2026-11-30T21:00:00.000Z";

let scopes = 0;
/** A category of its own per campaign, so that no two tests' campaigns contradict each other. */
const freshCategory = () => {
  scopes += 1;
  return `electronics-${scopes}`;
};

/** "×2 on electronics on Black Friday", with the window in Moscow's local time. */
const blackFriday = (category = freshCategory()) => ({
  name: { ru: "Чёрная пятница: ×2 на электронику", en: "Black Friday: ×2 on electronics" },
  conditions: { startsAt: "2026-11-27T00:00:00", endsAt: "2026-12-01T00:00:00", categories: [category] },
  effect: { type: "rate_multiplier", multiplierBp: 20_000 },
  combinable: false,
  budgetPoints: 1_000_000,
});

describe("campaigns: the API", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.clock.set(REFERENCE_INSTANT);
  });

  const create = (body: unknown, options: { key?: string; idempotencyKey?: string } = {}) =>
    h.send({ method: "POST", url: "/v1/campaigns", key: options.key ?? h.keys.operator, body, ...options });
  const replace = (id: string, body: unknown, key = h.keys.operator) =>
    h.send({ method: "PUT", url: `/v1/campaigns/${id}`, key, body });
  const act = (id: string, operation: "publish" | "end", key = h.keys.operator) =>
    h.send({ method: "POST", url: `/v1/campaigns/${id}/${operation}`, key });
  const get = (id: string, key = h.keys.operator) =>
    h.send({ method: "GET", url: `/v1/campaigns/${id}`, key });
  const versions = async (id: string) =>
    (await h.send({ method: "GET", url: `/v1/campaigns/${id}/versions`, key: h.keys.readonly })).json();
  const made = async (body: unknown, key = h.keys.operator) => {
    const res = await create(body, { key });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { campaignId: string; [field: string]: unknown };
  };
  const inForce = async (instant: string) =>
    (await h.kopilka.campaigns.campaignsInForce(at(instant))).map((c) => `${c.campaignId}@${c.version}`);

  it("creates «×2 on electronics on Black Friday»: a draft at version 1, the window read in Moscow time, audited", async () => {
    const body = blackFriday("electronics");
    const answer = await made(body);
    expect(answer).toEqual({
      campaignId: expect.stringMatching(/^cmp_[0-9A-HJKMNP-TV-Z]{26}$/),
      funder: "marketplace",
      state: "draft",
      version: 1,
      name: body.name,
      conditions: {
        // 2026-11-27T00:00:00 on Moscow's clocks (UTC+3) is 2026-11-26T21:00:00Z.
        startsAt: FRIDAY_MOSCOW,
        endsAt: TUESDAY_MOSCOW,
        categories: ["electronics"],
        sellers: null,
        skus: null,
        minOrderTotalKop: 0,
        paymentMethods: null,
        premiumOnly: false,
        segmentId: null,
      },
      effect: { type: "rate_multiplier", multiplierBp: 20_000 },
      combinable: false,
      budgetPoints: 1_000_000,
      publishedAt: null,
      endedAt: null,
      createdAt: REFERENCE_INSTANT.toISOString(),
      createdBy: expect.stringMatching(/^key_/),
      updatedAt: REFERENCE_INSTANT.toISOString(),
    });
    expect((await get(answer.campaignId)).json()).toEqual(answer);
    const audit = await sql<{ actor: string; action: string; at: Date }>`
      select actor, action, at from audit_log where subject = ${`campaign:${answer.campaignId}`}`.execute(
      h.database.db,
    );
    expect(audit.rows).toEqual([
      { actor: answer.createdBy, action: "campaigns.create", at: expect.any(Date) },
    ]);
    expect(new Date(audit.rows[0]?.at ?? 0).toISOString()).toBe(REFERENCE_INSTANT.toISOString());
  });

  it("creates «+200 points for orders from 5,000 RUB», offsets taken as given", async () => {
    const answer = await made({
      name: { ru: "+200 баллов за заказ от 5 000 ₽", en: "+200 points for orders from 5,000 RUB" },
      conditions: {
        startsAt: "2026-03-01T00:00:00+03:00",
        endsAt: "2026-04-01T00:00:00Z",
        minOrderTotalKop: 500_000,
        skus: ["sku-plus-200"],
      },
      effect: { type: "order_points", points: 200 },
      combinable: true,
    });
    expect(answer).toMatchObject({
      conditions: {
        startsAt: "2026-02-28T21:00:00.000Z",
        endsAt: "2026-04-01T00:00:00.000Z",
        minOrderTotalKop: 500_000,
      },
      effect: { type: "order_points", points: 200 },
      budgetPoints: null,
    });
  });

  it("states over time: draft, scheduled once published, active within the window, ended from its end", async () => {
    const { campaignId } = await made(blackFriday());
    const published = await act(campaignId, "publish");
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({
      state: "scheduled",
      version: 1,
      publishedAt: REFERENCE_INSTANT.toISOString(),
    });
    const stateAt = async (instant: string) => {
      h.clock.set(at(instant));
      return (await get(campaignId)).json().state;
    };
    expect(await stateAt("2026-11-26T20:59:59.999Z")).toBe("scheduled");
    expect(await stateAt(FRIDAY_MOSCOW)).toBe("active");
    expect(await stateAt("2026-11-30T20:59:59.999Z")).toBe("active");
    expect(await stateAt(TUESDAY_MOSCOW)).toBe("ended");
    // Ended is final: no change, no second end.
    expectError(await replace(campaignId, blackFriday()), "CAMPAIGN_NOT_EDITABLE");
    expectError(await act(campaignId, "end"), "CAMPAIGN_NOT_EDITABLE");
  });

  it("publishing a campaign whose window has begun makes it active at once; only a draft is published", async () => {
    const { campaignId } = await made(blackFriday());
    h.clock.set(at("2026-11-28T10:00:00Z"));
    expect((await act(campaignId, "publish")).json()).toMatchObject({ state: "active" });
    const again = expectError(await act(campaignId, "publish"), "CAMPAIGN_NOT_EDITABLE");
    expect(again.message).toContain("only a draft");
  });

  it("refuses to publish a campaign whose window is over, naming conditions.endsAt", async () => {
    const { campaignId } = await made(blackFriday());
    h.clock.set(at(TUESDAY_MOSCOW));
    const error = expectError(await act(campaignId, "publish"), "CAMPAIGN_WINDOW_OVER");
    expect(error.details).toMatchObject({ fields: [{ field: "conditions.endsAt" }] });
  });

  it("every change is a new version; a draft takes any valid definition", async () => {
    const body = blackFriday();
    const { campaignId, createdBy } = await made(body);
    h.clock.advanceSeconds(60);
    const x3 = { ...body, effect: { type: "rate_multiplier", multiplierBp: 30_000 } };
    const res = await replace(campaignId, x3);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, state: "draft", effect: x3.effect });
    const listed = await versions(campaignId);
    expect(
      listed.versions.map((v: { version: number; effect: unknown; createdAt: string }) => [
        v.version,
        v.effect,
        v.createdAt,
      ]),
    ).toEqual([
      [1, body.effect, REFERENCE_INSTANT.toISOString()],
      [2, x3.effect, new Date(REFERENCE_INSTANT.getTime() + 60_000).toISOString()],
    ]);
    expect(listed.versions[1].createdBy).toBe(createdBy);
    const audit = await sql<{ action: string }>`
      select action from audit_log where subject = ${`campaign:${campaignId}`} order by at`.execute(
      h.database.db,
    );
    expect(audit.rows.map((r) => r.action)).toEqual(["campaigns.create", "campaigns.replace"]);
  });

  it("a scheduled campaign may not be moved to start in the past", async () => {
    const body = blackFriday();
    const { campaignId } = await made(body);
    await act(campaignId, "publish");
    h.clock.set(at("2026-11-20T00:00:00Z"));
    const moved = { ...body, conditions: { ...body.conditions, startsAt: "2026-11-19T00:00:00" } };
    const error = expectError(await replace(campaignId, moved), "CAMPAIGN_NOT_EDITABLE");
    expect(error.details).toMatchObject({ fields: [{ field: "body.conditions.startsAt" }] });
    const later = { ...body, conditions: { ...body.conditions, startsAt: "2026-11-28T00:00:00" } };
    expect((await replace(campaignId, later)).json()).toMatchObject({ version: 2, state: "scheduled" });
  });

  it("an active campaign may be renamed, shortened, or have its budget raised; nothing else", async () => {
    const body = blackFriday();
    const { campaignId } = await made(body);
    await act(campaignId, "publish");
    h.clock.set(at("2026-11-28T12:00:00Z"));
    const shorter = {
      ...body,
      name: { ru: "Чёрная пятница", en: "Black Friday" },
      conditions: { ...body.conditions, endsAt: "2026-11-30T00:00:00" },
      budgetPoints: 2_000_000,
    };
    expect((await replace(campaignId, shorter)).json()).toMatchObject({
      version: 2,
      state: "active",
      conditions: { endsAt: "2026-11-29T21:00:00.000Z" },
      budgetPoints: 2_000_000,
    });
    const changed = {
      ...shorter,
      conditions: { ...shorter.conditions, endsAt: "2026-12-05T00:00:00", categories: ["books"] },
      effect: { type: "rate_multiplier", multiplierBp: 30_000 },
      budgetPoints: 10,
    };
    const error = expectError(await replace(campaignId, changed), "CAMPAIGN_NOT_EDITABLE");
    expect((error.details as { fields: { field: string }[] }).fields.map((f) => f.field)).toEqual([
      "body.conditions.endsAt",
      "body.conditions.categories",
      "body.effect",
      "body.budgetPoints",
    ]);
    expect((await versions(campaignId)).versions).toHaveLength(2);
  });

  it("ending: a new version whose window closes now; orders before keep the version they were placed under", async () => {
    const { campaignId } = await made(blackFriday());
    await act(campaignId, "publish");
    h.clock.set(at("2026-11-28T12:00:00Z"));
    const ended = await act(campaignId, "end");
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({
      state: "ended",
      version: 2,
      endedAt: "2026-11-28T12:00:00.000Z",
      conditions: { startsAt: FRIDAY_MOSCOW, endsAt: "2026-11-28T12:00:00.000Z" },
    });
    expect(await inForce("2026-11-28T11:59:59.999Z")).toContain(`${campaignId}@1`);
    expect((await inForce("2026-11-28T12:00:00Z")).filter((c) => c.startsWith(campaignId))).toEqual([]);
  });

  it("ending a campaign not started yet leaves a window covering nothing; a draft can be ended (discarded)", async () => {
    const scheduled = await made(blackFriday());
    await act(scheduled.campaignId, "publish");
    expect((await act(scheduled.campaignId, "end")).json()).toMatchObject({
      state: "ended",
      conditions: { startsAt: FRIDAY_MOSCOW, endsAt: FRIDAY_MOSCOW },
    });
    h.clock.set(at("2026-11-28T00:00:00Z"));
    expect((await get(scheduled.campaignId)).json().state).toBe("ended");
    expect((await inForce("2026-11-28T00:00:00Z")).filter((c) => c.startsWith(scheduled.campaignId))).toEqual(
      [],
    );
    const draft = await made(blackFriday());
    expect((await act(draft.campaignId, "end")).json()).toMatchObject({ state: "ended", publishedAt: null });
    expectError(await act(draft.campaignId, "publish"), "CAMPAIGN_NOT_EDITABLE");
  });

  it("campaignsInForce: the version current at the instant, from publication on, within the window", async () => {
    const body = blackFriday();
    const { campaignId } = await made(body);
    const mine = async (instant: string) => (await inForce(instant)).filter((c) => c.startsWith(campaignId));
    expect(await mine("2026-11-28T00:00:00Z")).toEqual([]); // a draft is never in force
    h.clock.set(at("2026-11-27T06:00:00Z"));
    await act(campaignId, "publish");
    expect(await mine("2026-11-27T05:59:59Z")).toEqual([]); // placed before publication
    h.clock.set(at("2026-11-28T00:00:00Z"));
    await replace(campaignId, { ...body, budgetPoints: 5_000_000 });
    expect(await mine("2026-11-27T23:59:59.999Z")).toEqual([`${campaignId}@1`]);
    expect(await mine("2026-11-28T00:00:00Z")).toEqual([`${campaignId}@2`]);
    expect(await mine(TUESDAY_MOSCOW)).toEqual([]);
  });

  describe("listing", () => {
    it("filters by state and pages by id", async () => {
      const a = await made(blackFriday());
      const b = await made(blackFriday());
      await act(b.campaignId, "publish");
      const page = async (query: string) =>
        (await h.send({ method: "GET", url: `/v1/campaigns?${query}`, key: h.keys.support })).json();
      const scheduledIds = (await page("state=scheduled&limit=500")).items.map(
        (c: { campaignId: string }) => c.campaignId,
      );
      expect(scheduledIds).toContain(b.campaignId);
      expect(scheduledIds).not.toContain(a.campaignId);
      const drafts = (await page("state=draft&limit=500")).items.map(
        (c: { campaignId: string }) => c.campaignId,
      );
      expect(drafts).toContain(a.campaignId);
      const seen: string[] = [];
      let after = "";
      for (;;) {
        const p = await page(`limit=2${after}`);
        seen.push(...p.items.map((c: { campaignId: string }) => c.campaignId));
        if (p.next === null) break;
        after = `&after=${p.next}`;
      }
      expect(seen).toEqual([...seen].sort());
      expect(seen).toEqual(expect.arrayContaining([a.campaignId, b.campaignId]));
    });
  });

  describe("seller campaigns: funded by the seller, on its own products only", () => {
    const sellerCampaign = (sellers?: string[]) => ({
      ...blackFriday(),
      conditions: { ...blackFriday().conditions, ...(sellers ? { sellers } : {}) },
    });

    it("a seller key makes a campaign on its products, funded by it", async () => {
      expect(await made(sellerCampaign(["s-1"]), h.keys.seller)).toMatchObject({
        funder: "seller:s-1",
        conditions: { sellers: ["s-1"] },
      });
    });

    it.each([
      ["another seller's products", ["s-2"]],
      ["its own and another's", ["s-1", "s-2"]],
      ["every seller's (sellers left out)", undefined],
    ])("refuses %s with 403 naming body.conditions.sellers", async (_why, sellers) => {
      const error = expectError(await create(sellerCampaign(sellers), { key: h.keys.seller }), "FORBIDDEN");
      expect(error.details).toMatchObject({ field: "body.conditions.sellers" });
    });

    it("another seller neither sees nor changes it; operators do", async () => {
      const { campaignId } = await made(sellerCampaign(["s-1"]), h.keys.seller);
      const other = h.keys.otherSeller;
      expectError(await get(campaignId, other), "CAMPAIGN_NOT_FOUND");
      expectError(
        await h.send({ method: "GET", url: `/v1/campaigns/${campaignId}/versions`, key: other }),
        "CAMPAIGN_NOT_FOUND",
      );
      const s2Body = { ...sellerCampaign(["s-2"]) };
      expectError(await replace(campaignId, s2Body, other), "CAMPAIGN_NOT_FOUND");
      expectError(await act(campaignId, "publish", other), "CAMPAIGN_NOT_FOUND");
      expectError(await act(campaignId, "end", other), "CAMPAIGN_NOT_FOUND");
      const listed = await h.send({ method: "GET", url: "/v1/campaigns?limit=500", key: other });
      expect(listed.json().items.map((c: { campaignId: string }) => c.campaignId)).not.toContain(campaignId);
      const ownList = await h.send({ method: "GET", url: "/v1/campaigns?limit=500", key: h.keys.seller });
      expect(new Set(ownList.json().items.map((c: { funder: string }) => c.funder))).toEqual(
        new Set(["seller:s-1"]),
      );
      expect((await get(campaignId)).statusCode).toBe(200);
      // An operator's change keeps the seller's funder, and its rule: only the seller's products.
      const widened = {
        ...sellerCampaign(),
        conditions: { ...sellerCampaign().conditions, sellers: ["s-1", "s-2"] },
      };
      expect(fieldsOf(await replace(campaignId, widened))).toEqual(["body.conditions.sellers"]);
    });
  });

  describe("bad input is refused naming the field", () => {
    const body = blackFriday();
    it.each<[string, unknown, string]>([
      [
        "a window ending before it starts",
        { ...body, conditions: { ...body.conditions, endsAt: "2026-11-26T00:00:00" } },
        "body.conditions.endsAt",
      ],
      [
        "a window ending when it starts",
        { ...body, conditions: { ...body.conditions, endsAt: body.conditions.startsAt } },
        "body.conditions.endsAt",
      ],
      ["a budget of 0", { ...body, budgetPoints: 0 }, "body.budgetPoints"],
      ["a negative budget", { ...body, budgetPoints: -100 }, "body.budgetPoints"],
      [
        "a multiplier of 1,000 (10,000,000 bp)",
        { ...body, effect: { type: "rate_multiplier", multiplierBp: 10_000_000 } },
        "body.effect.multiplierBp",
      ],
      [
        "a multiplier of 1 (no change)",
        { ...body, effect: { type: "rate_multiplier", multiplierBp: 10_000 } },
        "body.effect.multiplierBp",
      ],
      ["an unknown effect type", { ...body, effect: { type: "cashback", rateBp: 100 } }, "body.effect.type"],
      [
        "a field of another effect type",
        { ...body, effect: { type: "extra_rate", multiplierBp: 20_000, rateBp: 100 } },
        "body.effect.multiplierBp",
      ],
      [
        "an empty category list",
        { ...body, conditions: { ...body.conditions, categories: [] } },
        "body.conditions.categories",
      ],
      [
        "an empty payment method list",
        { ...body, conditions: { ...body.conditions, paymentMethods: [] } },
        "body.conditions.paymentMethods",
      ],
      [
        "a date that does not exist",
        { ...body, conditions: { ...body.conditions, startsAt: "2026-02-30T00:00:00" } },
        "body.conditions.startsAt",
      ],
      [
        "a negative minimum total",
        { ...body, conditions: { ...body.conditions, minOrderTotalKop: -1 } },
        "body.conditions.minOrderTotalKop",
      ],
      ["an empty Russian name", { ...body, name: { ru: "", en: "Black Friday" } }, "body.name.ru"],
    ])("%s", async (_why, bad, field) => {
      const res = await create(bad);
      expect(res.statusCode, res.body).toBe(400);
      expect([...new Set(fieldsOf(res))]).toEqual([field]);
    });
  });

  describe("contradictory overlapping definitions", () => {
    it("refuses a second non-combinable campaign of the funder with the same effect type and scope over an overlapping window", async () => {
      const category = freshCategory();
      const first = await made(blackFriday(category));
      const x3 = { ...blackFriday(category), effect: { type: "rate_multiplier", multiplierBp: 30_000 } };
      const refused = expectError(await create(x3), "CAMPAIGN_CONTRADICTS_ANOTHER");
      expect(refused.details).toMatchObject({
        campaignId: first.campaignId,
        fields: [{ field: "body.combinable" }],
      });
      // Combinable, it stacks instead; after the first one's window, it follows it.
      expect((await create({ ...x3, combinable: true })).statusCode).toBe(201);
      const after = {
        ...x3,
        conditions: { ...x3.conditions, startsAt: "2026-12-01T00:00:00", endsAt: "2026-12-02T00:00:00" },
      };
      const next = await made(after);
      // Moving it onto the first one's window is refused the same way.
      expectError(await replace(next.campaignId, x3), "CAMPAIGN_CONTRADICTS_ANOTHER");
      // An ended campaign contradicts nothing.
      await act(first.campaignId, "end");
      expect((await replace(next.campaignId, x3)).statusCode).toBe(200);
    });

    it("two contradicting campaigns sent at once: one is made, the other refused (a funder's writes queue)", async () => {
      const category = freshCategory();
      const x3 = { ...blackFriday(category), effect: { type: "rate_multiplier", multiplierBp: 30_000 } };
      const answers = await Promise.all([create(blackFriday(category)), create(x3)]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 422]);
    });

    it("the same definition from another funder is no contradiction", async () => {
      const category = freshCategory();
      const seller = (effect: unknown) => ({
        ...blackFriday(category),
        conditions: { ...blackFriday(category).conditions, sellers: ["s-1"] },
        effect,
      });
      await made(seller({ type: "rate_multiplier", multiplierBp: 20_000 }));
      expect(
        (await create(seller({ type: "rate_multiplier", multiplierBp: 30_000 }), { key: h.keys.seller }))
          .statusCode,
      ).toBe(201);
    });
  });

  describe("idempotency (the global idempotency of writes that name no customer)", () => {
    it("replays the same key and body, and refuses another body under it", async () => {
      const body = blackFriday();
      const first = await create(body, { idempotencyKey: "campaign-1" });
      const again = await create(body, { idempotencyKey: "campaign-1" });
      expect(again.statusCode).toBe(201);
      expect(again.body).toBe(first.body);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      const conflict = expectError(
        await create(blackFriday(), { idempotencyKey: "campaign-1" }),
        "IDEMPOTENCY_CONFLICT",
      );
      expect(conflict.details).toMatchObject({ idempotencyKey: "campaign-1" });
      const count = await sql<{ n: number }>`
        select count(*)::int as n from campaigns where campaign_id = ${first.json().campaignId}`.execute(
        h.database.db,
      );
      expect(count.rows[0]?.n).toBe(1);
      const { campaignId } = first.json();
      const published = await h.send({
        method: "POST",
        url: `/v1/campaigns/${campaignId}/publish`,
        key: h.keys.operator,
        idempotencyKey: "publish-1",
      });
      const replayed = await h.send({
        method: "POST",
        url: `/v1/campaigns/${campaignId}/publish`,
        key: h.keys.operator,
        idempotencyKey: "publish-1",
      });
      expect(replayed.body).toBe(published.body);
      expect(replayed.headers["idempotent-replayed"]).toBe("true");
    });
  });
});
