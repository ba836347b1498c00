import type { ApiClient } from "./http.js";

/**
 * R26 for the bench: campaigns created and published through the API, in force from now on for a
 * month, over the workload's categories — the first ten not combinable (each on a category of its
 * own), the rest combinable, with every effect type; `budgeted` of them (after the first ten) with
 * a budget, half large enough for the run and half small enough to run out during it.
 */

const CATEGORIES = [
  "groceries",
  "clothing_shoes",
  "electronics",
  "household_appliances",
  "books",
  "beauty",
  "toys",
  "sports",
  "pet_supplies",
  "auto_parts",
] as const;

function definition(i: number, budgeted: number, now: number) {
  const category = CATEGORIES[i % CATEGORIES.length] as string;
  const kinds = [
    { type: "extra_rate", rateBp: 50 + (i % 7) * 25 },
    { type: "rate_multiplier", multiplierBp: 15_000 + (i % 3) * 5_000 },
    { type: "unit_points", pointsPerUnit: 1 + (i % 5) },
    { type: "order_points", points: 50 + (i % 4) * 50 },
  ] as const;
  const alone = i < CATEGORIES.length;
  const withBudget = !alone && i < CATEGORIES.length + budgeted;
  return {
    name: { ru: `Акция ${i + 1}`, en: `Campaign ${i + 1}` },
    conditions: {
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 30 * 86_400_000).toISOString(),
      categories: [category],
      ...(kinds[i % kinds.length]?.type === "order_points" ? { minOrderTotalKop: 300_000 } : {}),
    },
    effect: alone ? { type: "extra_rate", rateBp: 100 + i * 10 } : kinds[i % kinds.length],
    combinable: !alone,
    budgetPoints: withBudget ? (i % 2 === 0 ? 100_000_000 : 20_000) : null,
  };
}

/** Creates and publishes `count` campaigns; their ids. Throws when the service refuses one. */
export async function publishBenchCampaigns(
  api: ApiClient,
  count: number,
  budgeted: number,
): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await api.call("POST", "/v1/campaigns", {
      body: definition(i, budgeted, now),
      idempotencyKey: `bench-campaign-${now}-${i}`,
    });
    if (created.status !== 201) throw new Error(`campaign ${i}: HTTP ${created.status} ${created.text}`);
    const { campaignId } = JSON.parse(created.text) as { campaignId: string };
    const published = await api.call("POST", `/v1/campaigns/${campaignId}/publish`, {
      idempotencyKey: `bench-publish-${now}-${i}`,
    });
    if (published.status !== 200) throw new Error(`publish ${i}: HTTP ${published.status} ${published.text}`);
    ids.push(campaignId);
  }
  return ids;
}

/** Points the campaigns have reserved from their budgets, and how many ran out. */
export async function budgetsBurnt(api: ApiClient, ids: readonly string[]) {
  let reserved = 0;
  let exhausted = 0;
  for (const id of ids) {
    const res = await api.call("GET", `/v1/campaigns/${id}/budget`);
    const b = JSON.parse(res.text) as {
      budgetPoints: number | null;
      reservedPoints: number;
      remainingPoints: number;
    };
    if (b.budgetPoints === null) continue;
    reserved += b.reservedPoints;
    if (b.remainingPoints === 0) exhausted += 1;
  }
  return { reserved, exhausted };
}
