import type { Logger } from "pino";
import type { Clock } from "../app/ports.js";
import type { SavingsService } from "../app/savings/savings-service.js";
import type { ScheduledWork } from "../app/scheduled-work.js";

/**
 * Runs the scheduled work every `intervalSeconds`. The slot is the interval number since the epoch,
 * so every instance computes the same slot and only one of them claims it.
 */
export function startScheduler(
  work: ScheduledWork,
  clock: Clock,
  intervalSeconds: number,
  claimer: string,
  log: Logger,
  /** R25: pays last month's savings interest once it is over (claimed once per month). */
  savings?: Pick<SavingsService, "payDueMonth">,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const slot = Math.floor(clock.now().getTime() / (intervalSeconds * 1000));
    running = work
      .run(slot, claimer)
      .then((r) => {
        if (r.claimed && r.customersSettled > 0)
          log.info({ slot, customersSettled: r.customersSettled }, "settled due work");
      })
      .catch((err: unknown) => log.error({ err, slot }, "scheduled work failed; the next slot retries"))
      .then(() => savings?.payDueMonth(claimer))
      .then((r) => {
        if (r?.claimed) log.info({ accounts: r.accounts, points: r.points }, "paid savings interest (R25)");
      })
      // A failed month's claim is taken over an hour later by a later round (each account pays once).
      .catch((err: unknown) => log.error({ err }, "savings interest run failed"));
  };
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  setImmediate(tick);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
