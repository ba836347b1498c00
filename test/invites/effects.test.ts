import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Harness } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { invites } from "./helpers.js";

/**
 * The relay of cross-customer effects (R23, R24): an effect a dead relay still holds waits for its
 * lease to run out, shows in /metrics meanwhile, and is then applied once by the next round.
 */

let h: Harness;
let i: ReturnType<typeof invites>;
beforeAll(async () => {
  h = await httpHarness();
  i = invites(h);
});
afterAll(async () => {
  await h.close();
});

async function metric(name: string): Promise<number> {
  const res = await h.send({ method: "GET", url: "/metrics" });
  return Number(new RegExp(`^${name} ([\\d.]+)$`, "m").exec(res.body)?.[1]);
}

describe("cross-customer effects", () => {
  it("an effect held by a relay that died is applied once its lease runs out, and /metrics shows it waiting", async () => {
    const [inviter, friend] = ["fx-inviter", "fx-friend"];
    expect((await i.register(friend, await i.code(inviter))).statusCode).toBe(201);
    expect(await metric("kopilka_effects_undelivered")).toBe(0);
    // The friend's work recorded the reward; a relay took it and died before applying it.
    const now = h.clock.now();
    const payload = {
      type: "invite",
      seq: 2,
      friendId: friend,
      registeredAt: now.toISOString(),
      status: "rewarded",
      orderId: "o-1",
      orderTotalKop: 350_000,
      points: 300,
      availableFrom: new Date(now.getTime() + 86_400_000).toISOString(),
      expiresAt: new Date(now.getTime() + 366 * 86_400_000).toISOString(),
    };
    await h.database.pool.query(
      `insert into customer_effects (customer_id, effect_id, target_customer_id, type, payload, created_at, lease_until, attempts)
       values ($1, $2, $3, 'invite', $4, $5, $6, 1)`,
      [friend, `invite:${friend}:2`, inviter, JSON.stringify(payload), now, new Date(now.getTime() + 60_000)],
    );
    h.clock.advanceSeconds(30);
    expect(await metric("kopilka_effects_undelivered")).toBe(1);
    expect(await metric("kopilka_effects_undelivered_oldest_seconds")).toBe(30);
    expect(await h.kopilka.effects.deliverPending()).toBe(0);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(0);

    h.clock.advanceSeconds(31);
    expect(await h.kopilka.effects.deliverPending()).toBe(1);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(300);
    expect(await metric("kopilka_effects_undelivered")).toBe(0);
    expect(await h.kopilka.effects.deliverPending()).toBe(0);
    expect((await i.orders.balance(inviter)).bonus.pending).toBe(300);
  });
});
