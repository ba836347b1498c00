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
