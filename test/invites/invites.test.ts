import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../http/routes-table.js";
import { expectLedgerConsistent, type Harness, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { type InvitationAnswer, invites, orderOf } from "./helpers.js";

/** R23 friend invites through HTTP: W11, the tiers, who counts as a friend, clawback, bad input. */

let h: Harness;
let i: ReturnType<typeof invites>;
let n = 0;
const next = (prefix: string) => {
  n += 1;
  return `${prefix}-${n}`;
};

beforeAll(async () => {
  h = await httpHarness();
  i = invites(h);
});
afterAll(async () => {
  await h.close();
});

describe("W11 (R23)", () => {
  it("W11: an invited friend's first order of 3,500 ships: the inviter gets 300 points, pending (R13)", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    const code = await i.code(inviter);
    const registered = await i.register(friend, code);
    expect(registered.statusCode, registered.body).toBe(201);
    expect(registered.json()).toMatchObject({
      friendId: friend,
      inviterId: inviter,
      status: "registered",
      points: 0,
    });
    expect((await i.friends(inviter)).friends).toEqual([
      expect.objectContaining({ friendId: friend, status: "registered", points: 0 }),
    ]);

    await i.shipOrder(friend, "first", [orderOf(350_000)]);
    const balance = await i.orders.balance(inviter);
    expect(balance.bonus).toMatchObject({ pending: 300, available: 0 });
    expect((await i.friends(inviter)).friends[0]).toMatchObject({ status: "rewarded", points: 300 });
    // R33: the inviter reads why.
    const [credit] = (await i.orders.history(inviter)).filter((m) => m.type === "credit");
    expect(credit?.explanation.ru).toContain("Начислено 300 баллов за приглашённого друга");
    expect(credit?.reference).toBe(`invite:${friend}`);
    expect(credit?.explanation.ru).toContain("3 500");
    expect(credit?.explanation.en).toContain("300 points credited for inviting a friend");

    // R13: available 24 hours after the shipment, like the purchase accrual.
    h.clock.advanceSeconds(24 * 3600);
    expect((await i.orders.balance(inviter)).bonus).toMatchObject({ pending: 0, available: 300 });
    await expectLedgerConsistent(h, inviter);
    await expectLedgerConsistent(h, friend);
  });
});

describe("R23 reward tiers (thresholds inclusive)", () => {
  for (const [totalKop, points] of [
    [299_999, 100],
    [300_000, 300],
    [999_999, 300],
    [1_000_000, 500],
    [100, 100],
  ] as const) {
    it(`a first order of ${totalKop} kopecks earns the inviter ${points}`, async () => {
      const [inviter, friend] = [next("inviter"), next("friend")];
      expect((await i.register(friend, await i.code(inviter))).statusCode).toBe(201);
      await i.shipOrder(friend, "o", [orderOf(totalKop)]);
      expect((await i.orders.balance(inviter)).bonus.pending).toBe(points);
    });
  }

  it("one reward per friend: the second order that ships earns nothing more", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    await i.register(friend, await i.code(inviter));
    await i.shipOrder(friend, "o-1", [orderOf(100_000)]);
    await i.shipOrder(friend, "o-2", [orderOf(2_000_000)]);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(100);
  });

  it("a first order cancelled before shipping does not count: the next one to ship does", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    await i.register(friend, await i.code(inviter));
    const first = orderEvents(friend, "cancelled", () => h.clock.now());
    await i.orders.apply(first.placed([orderOf(2_000_000)]));
    await i.orders.apply(first.cancelled());
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(0);
    await i.shipOrder(friend, "second", [orderOf(400_000)]);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(300);
    expect((await i.friends(inviter)).friends[0]).toMatchObject({ status: "rewarded", points: 300 });
  });

  it("the first order returned in full claws the reward back (R14: what is spent becomes debt)", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    await i.register(friend, await i.code(inviter));
    const e = await i.shipOrder(friend, "o", [orderOf(500_000)]);
    h.clock.advanceSeconds(25 * 3600);
    expect((await i.orders.balance(inviter)).bonus.available).toBe(300);
    // The inviter spends 200 of the 300 before the friend sends everything back.
    const spent = await h.send({
      method: "POST",
      url: `/v1/customers/${inviter}/spends`,
      key: h.keys.operator,
      body: { redemptionId: "r-1", kind: "bonus", amount: 200 },
    });
    expect(spent.statusCode, spent.body).toBe(201);
    await i.orders.apply(e.delivered());
    await i.orders.apply(e.returned([{ lineId: "line-1", quantity: 1 }]));
    const after = await i.orders.balance(inviter);
    expect(after.bonus).toMatchObject({ available: 0, pending: 0, debt: 200 });
    expect((await i.friends(inviter)).friends[0]).toMatchObject({ status: "clawed_back" });
    await expectLedgerConsistent(h, inviter);
  });

  it("the first order returned in full before the reward is available cancels it", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    await i.register(friend, await i.code(inviter));
    const e = await i.shipOrder(friend, "o", [orderOf(50_000)]);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(100);
    await i.orders.apply(e.returned([{ lineId: "line-1", quantity: 1 }]));
    expect((await i.orders.balance(inviter)).bonus).toMatchObject({ available: 0, pending: 0, debt: 0 });
  });

  it("a partial return of the first order keeps the reward", async () => {
    const [inviter, friend] = [next("inviter"), next("friend")];
    await i.register(friend, await i.code(inviter));
    const e = await i.shipOrder(friend, "o", [{ ...orderOf(200_000), quantity: 2 }]);
    await i.orders.apply(e.returned([{ lineId: "line-1", quantity: 1 }]));
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(300);
  });
});

describe("R23 who counts as a friend", () => {
  it("a self-invite is refused: the same customer", async () => {
    const inviter = next("inviter");
    const res = await i.register(inviter, await i.code(inviter));
    expectError(res, "SELF_INVITE");
  });

  it("a self-invite is refused: the inviter's device or payment fingerprint", async () => {
    const inviter = next("inviter");
    const code = await i.code(inviter, { deviceFingerprint: "dev-1", paymentFingerprint: "card-1" });
    const device = await i.register(next("friend"), code, { deviceFingerprint: "dev-1" });
    expectError(device, "SELF_INVITE");
    expect(device.json().error.details).toMatchObject({
      reason: "same_device",
      field: "body.deviceFingerprint",
    });
    const payment = await i.register(next("friend"), code, { paymentFingerprint: "card-1" });
    expectError(payment, "SELF_INVITE");
    expect(payment.json().error.details).toMatchObject({ reason: "same_payment" });
    expect((await i.register(next("friend"), code, { deviceFingerprint: "dev-2" })).statusCode).toBe(201);
  });

  it("a customer with an order or points is not a new customer", async () => {
    const code = await i.code(next("inviter"));
    const buyer = next("friend");
    const e = orderEvents(buyer, "o", () => h.clock.now());
    await i.orders.apply(e.placed([orderOf(10_000)]));
    expectError(await i.register(buyer, code), "NOT_A_NEW_CUSTOMER");
    const credited = next("friend");
    await i.orders.credit(credited, "bonus", 5);
    expectError(await i.register(credited, code), "NOT_A_NEW_CUSTOMER");
  });

  it("a second inviter for the same friend is refused; the same code again answers the invitation", async () => {
    const friend = next("friend");
    const first = await i.code(next("inviter"));
    expect((await i.register(friend, first)).statusCode).toBe(201);
    const again = await i.register(friend, first);
    expect(again.statusCode).toBe(201);
    expect((again.json() as InvitationAnswer).code).toBe(first);
    const res = await i.register(friend, await i.code(next("inviter")));
    expectError(res, "ALREADY_INVITED");
  });

  it("a refusal is stored: a retry with the same Idempotency-Key answers the same", async () => {
    const inviter = next("inviter");
    const code = await i.code(inviter);
    const first = await i.register(inviter, code, {}, "self-1");
    const retry = await i.register(inviter, code, {}, "self-1");
    expect(retry.statusCode).toBe(422);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.json().error.requestId).toBe(first.json().error.requestId);
  });

  it("an invite code is made once per customer", async () => {
    const inviter = next("inviter");
    const res = await h.send({
      method: "POST",
      url: `/v1/customers/${inviter}/invite-code`,
      key: h.keys.operator,
      body: {},
    });
    expect(res.statusCode).toBe(201);
    const again = await h.send({
      method: "POST",
      url: `/v1/customers/${inviter}/invite-code`,
      key: h.keys.operator,
      body: {},
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().code).toBe(res.json().code);
    expect(res.json().code).toMatch(/^F[0-9A-Z]{10}$/);
  });
});

describe("R23 who may call what", () => {
  it("a customer makes its own code and reads its friends; only operators report registrations", async () => {
    const [inviter, other] = [next("inviter"), next("other")];
    const token = await h.customerToken(inviter);
    const own = await h.send({
      method: "POST",
      url: `/v1/customers/${inviter}/invite-code`,
      key: token,
      body: {},
    });
    expect(own.statusCode, own.body).toBe(201);
    expect(
      (await h.send({ method: "GET", url: `/v1/customers/${inviter}/invites`, key: token })).statusCode,
    ).toBe(200);
    expectError(
      await h.send({ method: "POST", url: `/v1/customers/${other}/invite-code`, key: token, body: {} }),
      "FORBIDDEN",
    );
    expectError(
      await h.send({ method: "GET", url: `/v1/customers/${other}/invites`, key: token }),
      "FORBIDDEN",
    );
    expect(
      (await h.send({ method: "GET", url: `/v1/customers/${inviter}/invites`, key: h.keys.readonly }))
        .statusCode,
    ).toBe(200);
    for (const key of [h.keys.support, h.keys.readonly, h.keys.seller, token]) {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${next("friend")}/invitation`,
        key,
        body: { code: own.json().code, registeredAt: h.clock.now().toISOString() },
      });
      expectError(res, "FORBIDDEN");
    }
  });
});

describe("R23 bad input changes nothing", () => {
  it("an unknown code names body.code", async () => {
    const friend = next("friend");
    const res = await i.register(friend, "NO-SUCH-CODE");
    expectError(res, "INVITE_CODE_NOT_FOUND");
    expect(res.json().error.details.field).toBe("body.code");
    // Nothing recorded: a real code still works.
    expect((await i.register(friend, await i.code(next("inviter")))).statusCode).toBe(201);
  });

  it("a malformed code or instant is a 400 naming the field", async () => {
    const res = await h.send({
      method: "POST",
      url: `/v1/customers/${next("friend")}/invitation`,
      key: h.keys.operator,
      body: { code: "a b", registeredAt: "yesterday" },
    });
    expectError(res, "VALIDATION_FAILED");
    expect(res.body).toContain("body.code");
  });
});
