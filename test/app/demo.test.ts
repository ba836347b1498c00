import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCustomerId, loadDemo } from "../../src/app/demo.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../support/alphabets.js";
import { ledgerHarness } from "../support/ledger.js";

describe("demo data", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h.database.drop();
  });

  it("reads in Russian only in the Russian explanations, and in English only in the English ones (R33)", async () => {
    const { service, clock } = h;
    await loadDemo(service, { customers: 20, seed: 1, now: clock.now() });
    const explanations = [];
    for (let i = 0; i < 20; i++) {
      const { items } = await service.history(demoCustomerId(i), { cursor: null, limit: 200 });
      // A support adjustment quotes its reason as support wrote it, in one language.
      explanations.push(...items.filter((m) => m.type !== "adjust").map((m) => m.explanation));
    }
    expect(explanations.length).toBeGreaterThan(100);
    expect(explanations.filter((e) => LATIN_LETTER.test(e.ru))).toEqual([]);
    expect(explanations.filter((e) => CYRILLIC_LETTER.test(e.en))).toEqual([]);
  });
});

describe("demo data of the invite and manager programmes (R23, R24)", () => {
  it("shows an invited friend's reward pending, a friend still to order, and a manager's referral points pending", async () => {
    const { httpHarness } = await import("../support/http.js");
    const { loadProgrammesDemo, DEMO_PROMO_CODE } = await import("../../src/app/demo-programmes.js");
    const h = await httpHarness();
    try {
      await loadDemo(h.kopilka.ledger, { customers: 1, seed: 1, now: h.clock.now() });
      await loadProgrammesDemo(h.kopilka, { firstFreeIndex: 1, now: h.clock.now() });
      const get = async (url: string) =>
        (await h.send({ method: "GET", url, key: h.keys.operator })).json() as Record<string, unknown>;
      const inviter = demoCustomerId(0);
      const invites = (await get(`/v1/customers/${inviter}/invites`)) as {
        friends: { status: string; points: number }[];
      };
      expect(invites.friends.map((f) => [f.status, f.points]).sort()).toEqual([
        ["registered", 0],
        ["rewarded", 300],
      ]);
      const manager = (await get(`/v1/customers/${inviter}/manager`)) as {
        promoCode: string;
        thisMonth: { referralPointsPending: number; purchasesKop: number };
      };
      expect(manager.promoCode).toBe(DEMO_PROMO_CODE);
      expect(manager.thisMonth.referralPointsPending).toBe(600);
      const { items } = (await get(`/v1/customers/${inviter}/history?limit=200`)) as {
        items: { type: string; explanation: { ru: string; en: string } }[];
      };
      const programme = items.filter((m) => /друга|промокод/.test(m.explanation.ru));
      expect(programme.length).toBe(2);
      expect(programme.filter((m) => LATIN_LETTER.test(m.explanation.ru))).toEqual([]);
      expect(programme.filter((m) => CYRILLIC_LETTER.test(m.explanation.en))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
