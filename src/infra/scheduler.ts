import type { Logger } from "pino";
import type { Clock } from "../app/ports.js";
import type { ScheduledWork } from "../app/scheduled-work.js";

/** A task every round runs after the settlement, whatever became of it: its outcome is logged. */
export interface RoundTask {
  name: string;
  run(claimer: string): Promise<Record<string, unknown> | undefined>;
}

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
  /**
   * R25 savings interest and R24 manager months (each claimed once per month), the relay of
   * cross-customer effects: each runs in turn; a failure is logged and the next round tries again.
   */
  tasks: RoundTask[] = [],
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
      .then(async () => {
        for (const task of tasks) {
          // A failed month's claim is taken over an hour later by a later round (each customer's
          // part is done once); undelivered effects are simply taken again.
          const done = await task.run(claimer).catch((err: unknown) => {
            log.error({ err, task: task.name }, "a scheduled task failed; a later round retries");
            return undefined;
          });
          if (done) log.info(done, task.name);
        }
      });
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
