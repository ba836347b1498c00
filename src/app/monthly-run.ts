import { monthSlot } from "../domain/savings/index.js";
import type { RunClaims } from "./scheduled-work.js";

/** How long a month's unfinished run is left to its claimer before another instance takes it over. */
const STALE_CLAIM_MS = 3_600_000;

/**
 * Runs a month's task (R24 manager months, R25 savings interest) once across instances: claimed in
 * `scheduled_runs` per (task, month). A run whose instance died keeps its claim unfinished; an hour
 * later another instance takes it over and does what is left — each customer's part is keyed once
 * per (customer, month) in that customer's own work, so what was done is not done again.
 */
export async function runMonthOnce<T>(
  claims: RunClaims,
  task: string,
  month: string,
  claimer: string,
  now: () => Date,
  run: () => Promise<T>,
  /** How many customers the run did, recorded with its claim. */
  customersOf: (done: T) => number,
): Promise<({ claimed: true } & T) | { claimed: false }> {
  const slot = monthSlot(month);
  const at = now();
  const claimed =
    (await claims.claim(task, slot, claimer, at)) ||
    (await claims.reclaim(task, slot, claimer, at, new Date(at.getTime() - STALE_CLAIM_MS)));
  if (!claimed) return { claimed: false };
  const done = await run();
  await claims.finish(task, slot, customersOf(done), now());
  return { claimed: true, ...done };
}
