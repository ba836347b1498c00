import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CampaignDefinition } from "../../../src/domain/campaigns/definition.js";
import {
  activeChangeProblems,
  type CampaignRecord,
  type CampaignVersion,
  campaignState,
  campaignsInForceAt,
  contradictingCampaign,
  endedDefinition,
  parseWindowInstant,
} from "../../../src/domain/campaigns/lifecycle.js";
import { assertProperty } from "../../support/property.js";
import { ANY_CONDITIONS } from "./fixtures.js";

/** R26, issue 11: versions, states, the version in force, contradictions, the window's time zone. */

const at = (iso: string) => new Date(iso);

const BLACK_FRIDAY: CampaignDefinition = {
  name: { ru: "Чёрная пятница: ×2 на электронику", en: "Black Friday: ×2 on electronics" },
  funder: { type: "marketplace" },
  conditions: {
    ...ANY_CONDITIONS,
    startsAt: at("2026-11-26T21:00:00Z"),
    endsAt: at("2026-11-30T21:00:00Z"),
    categories: ["electronics"],
  },
  effect: { type: "rate_multiplier", multiplierBp: 20_000 },
  combinable: false,
  budgetPoints: 1_000_000,
};

const withConditions = (d: CampaignDefinition, c: Partial<CampaignDefinition["conditions"]>) => ({
  ...d,
  conditions: { ...d.conditions, ...c },
});

const record = (partial: Partial<CampaignRecord> & { versions: CampaignVersion[] }): CampaignRecord => ({
  campaignId: "cmp_1",
  publishedAt: null,
  endedAt: null,
  ...partial,
});

const version = (n: number, createdAt: string, definition = BLACK_FRIDAY): CampaignVersion => ({
  version: n,
  createdAt: at(createdAt),
  createdBy: "key_1",
  definition,
});

describe("the window's instants", () => {
  it("reads a local date-time without offset on Moscow's wall clocks", () => {
    expect(parseWindowInstant("2026-11-27T00:00:00", "Europe/Moscow")).toEqual(at("2026-11-26T21:00:00Z"));
  });

  it("takes an offset or Z as given, whatever the zone", () => {
    expect(parseWindowInstant("2026-11-27T00:00:00+05:00", "Europe/Moscow")).toEqual(
      at("2026-11-26T19:00:00Z"),
    );
    expect(parseWindowInstant("2026-11-27T00:00:00Z", "Europe/Moscow")).toEqual(at("2026-11-27T00:00:00Z"));
    expect(parseWindowInstant("2026-11-27T00:00:00.1239-01:30", "UTC")).toEqual(
      at("2026-11-27T01:30:00.123Z"),
    );
  });

  it("follows a zone's change of offset (Berlin's summer time)", () => {
    expect(parseWindowInstant("2026-01-10T12:00:00", "Europe/Berlin")).toEqual(at("2026-01-10T11:00:00Z"));
    expect(parseWindowInstant("2026-07-10T12:00:00", "Europe/Berlin")).toEqual(at("2026-07-10T10:00:00Z"));
  });

  it.each([
    "2026-02-30T00:00:00",
    "2026-13-01T00:00:00",
    "2026-01-01T24:00:00",
    "2026-01-01",
    "tomorrow",
    "",
  ])("refuses %j", (text) => {
    expect(parseWindowInstant(text, "Europe/Moscow")).toBeUndefined();
  });
});

describe("states, derived from the clock", () => {
  const published = record({
    publishedAt: at("2026-11-01T00:00:00Z"),
    versions: [version(1, "2026-10-01T00:00:00Z")],
  });

  it("draft until published, then scheduled, active within the window, ended from its end", () => {
    const draft = record({ versions: [version(1, "2026-10-01T00:00:00Z")] });
    expect(campaignState(draft, at("2026-11-28T00:00:00Z"))).toBe("draft");
    expect(campaignState(published, at("2026-11-26T20:59:59.999Z"))).toBe("scheduled");
    expect(campaignState(published, at("2026-11-26T21:00:00Z"))).toBe("active");
    expect(campaignState(published, at("2026-11-30T20:59:59.999Z"))).toBe("active");
    expect(campaignState(published, at("2026-11-30T21:00:00Z"))).toBe("ended");
  });

  it("ended from the moment it was ended, even before its window (final)", () => {
    const ended = { ...published, endedAt: at("2026-11-10T00:00:00Z") };
    expect(campaignState(ended, at("2026-11-09T00:00:00Z"))).toBe("scheduled");
    expect(campaignState(ended, at("2026-11-10T00:00:00Z"))).toBe("ended");
    expect(campaignState(ended, at("2026-11-28T00:00:00Z"))).toBe("ended");
  });

  it("ending closes the window now, or at its start when it has not started", () => {
    expect(endedDefinition(BLACK_FRIDAY, at("2026-11-28T00:00:00Z")).conditions.endsAt).toEqual(
      at("2026-11-28T00:00:00Z"),
    );
    expect(endedDefinition(BLACK_FRIDAY, at("2026-11-01T00:00:00Z")).conditions.endsAt).toEqual(
      BLACK_FRIDAY.conditions.startsAt,
    );
  });
});

describe("the version in force at an instant", () => {
  it("an order placed at T gets the version current at T, and nothing before publication", () => {
    const x3 = { ...BLACK_FRIDAY, effect: { type: "rate_multiplier" as const, multiplierBp: 30_000 } };
    const c = record({
      publishedAt: at("2026-11-27T00:00:00Z"),
      versions: [version(1, "2026-11-20T00:00:00Z"), version(2, "2026-11-28T12:00:00Z", x3)],
    });
    expect(campaignsInForceAt([c], at("2026-11-26T23:00:00Z"))).toEqual([]);
    expect(campaignsInForceAt([c], at("2026-11-28T11:59:59Z"))).toMatchObject([{ version: 1 }]);
    expect(campaignsInForceAt([c], at("2026-11-28T12:00:00Z"))).toMatchObject([
      { version: 2, definition: x3 },
    ]);
    expect(campaignsInForceAt([c], at("2026-11-30T21:00:00Z"))).toEqual([]);
  });

  it("property: the latest version created at or before the instant, only when its window covers it", () => {
    const DAY = 86_400_000;
    const base = at("2026-11-01T00:00:00Z").getTime();
    const versionArb = fc.record({
      createdOffset: fc.integer({ min: 0, max: 60 * DAY }),
      startOffset: fc.integer({ min: 0, max: 60 * DAY }),
      length: fc.integer({ min: 1, max: 20 * DAY }),
    });
    const campaignArb = fc.record({
      published: fc.option(fc.integer({ min: 0, max: 60 * DAY }), { nil: null }),
      versions: fc.array(versionArb, { minLength: 1, maxLength: 6 }),
    });
    assertProperty(
      fc.property(
        fc.array(campaignArb, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: -DAY, max: 70 * DAY }),
        (campaigns, instantOffset) => {
          const instant = new Date(base + instantOffset);
          const records = campaigns.map((c, i): CampaignRecord => {
            // Versions are made in time order: sorted creation instants, numbered from 1.
            const made = [...c.versions].sort((a, b) => a.createdOffset - b.createdOffset);
            return record({
              campaignId: `cmp_${i}`,
              publishedAt: c.published === null ? null : new Date(base + c.published),
              versions: made.map((v, n) =>
                version(
                  n + 1,
                  new Date(base + v.createdOffset).toISOString(),
                  withConditions(BLACK_FRIDAY, {
                    startsAt: new Date(base + v.startOffset),
                    endsAt: new Date(base + v.startOffset + v.length),
                  }),
                ),
              ),
            });
          });
          const chosen = campaignsInForceAt(records, instant);
          const expected = records.flatMap((r) => {
            if (r.publishedAt === null || r.publishedAt > instant) return [];
            const made = r.versions.filter((v) => v.createdAt <= instant);
            const latest = made.reduce<CampaignVersion | undefined>(
              (best, v) => (best === undefined || v.version > best.version ? v : best),
              undefined,
            );
            if (!latest) return [];
            const { startsAt, endsAt } = latest.definition.conditions;
            return startsAt <= instant && instant < endsAt ? [`${r.campaignId}@${latest.version}`] : [];
          });
          expect(chosen.map((c) => `${c.campaignId}@${c.version}`)).toEqual(expected);
          for (const c of chosen) {
            const { startsAt, endsAt } = c.definition.conditions;
            expect(startsAt <= instant && instant < endsAt).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("contradictory overlapping definitions", () => {
  const other = (definition: CampaignDefinition) => [{ campaignId: "cmp_old", definition }];
  const x3 = { ...BLACK_FRIDAY, effect: { type: "rate_multiplier" as const, multiplierBp: 30_000 } };

  it("refuses a second non-combinable campaign of the funder, same effect type and scope, overlapping", () => {
    expect(contradictingCampaign(x3, other(BLACK_FRIDAY))).toBe("cmp_old");
    // The same scope listed in another order is the same scope.
    const reordered = withConditions(x3, { categories: ["electronics"] });
    expect(
      contradictingCampaign(reordered, other(withConditions(BLACK_FRIDAY, { categories: ["electronics"] }))),
    ).toBe("cmp_old");
  });

  it.each<[string, CampaignDefinition]>([
    ["combinable", { ...x3, combinable: true }],
    [
      "windows that only touch (endsAt exclusive)",
      withConditions(x3, { startsAt: BLACK_FRIDAY.conditions.endsAt, endsAt: at("2026-12-05T00:00:00Z") }),
    ],
    ["another scope", withConditions(x3, { categories: ["books"] })],
    ["another threshold", withConditions(x3, { minOrderTotalKop: 500_000 })],
    ["another effect type", { ...x3, effect: { type: "extra_rate", rateBp: 500 } }],
    ["another funder", { ...x3, funder: { type: "seller", sellerId: "s-1" } }],
  ])("allows it when %s", (_why, candidate) => {
    expect(contradictingCampaign(candidate, other(BLACK_FRIDAY))).toBeUndefined();
  });
});

describe("changes while active", () => {
  const now = at("2026-11-28T00:00:00Z");

  it("allows shortening, raising or removing the budget, and renaming", () => {
    const after = {
      ...withConditions(BLACK_FRIDAY, { endsAt: at("2026-11-29T00:00:00Z") }),
      budgetPoints: 2_000_000,
      name: { ru: "Чёрная пятница", en: "Black Friday" },
    };
    expect(activeChangeProblems(BLACK_FRIDAY, after, now)).toEqual([]);
    expect(activeChangeProblems(BLACK_FRIDAY, { ...BLACK_FRIDAY, budgetPoints: null }, now)).toEqual([]);
  });

  it("names every field that may not change", () => {
    const after: CampaignDefinition = {
      ...withConditions(BLACK_FRIDAY, {
        startsAt: at("2026-11-27T00:00:00Z"),
        endsAt: at("2026-12-31T00:00:00Z"),
        categories: ["books"],
        premiumOnly: true,
      }),
      effect: { type: "rate_multiplier", multiplierBp: 30_000 },
      combinable: true,
      budgetPoints: 10,
    };
    expect(activeChangeProblems(BLACK_FRIDAY, after, now).map((p) => p.field)).toEqual([
      "conditions.startsAt",
      "conditions.endsAt",
      "conditions.categories",
      "conditions.premiumOnly",
      "effect",
      "combinable",
      "budgetPoints",
    ]);
  });

  it("refuses an end at or before now (that is the end operation)", () => {
    const after = withConditions(BLACK_FRIDAY, { endsAt: now });
    expect(activeChangeProblems(BLACK_FRIDAY, after, now).map((p) => p.field)).toEqual(["conditions.endsAt"]);
  });
});
