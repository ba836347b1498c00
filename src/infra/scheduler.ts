import type { Logger } from "pino";
import type { Clock } from "../app/ports.js";
import { type ScheduledWork, SETTLE_TASK } from "../app/scheduled-work.js";

/** A task every round runs after the settlement, whatever became of it: its outcome is logged. */
export interface RoundTask {
  /** Its label in `kopilka_scheduler_runs_total`. */
  task: string;
  /** What the log says when it did something. */
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
  /** Told of each round of each task (for /metrics). */
  onRun: (task: string, outcome: "done" | "skipped" | "failed") => void = () => {},
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const slot = Math.floor(clock.now().getTime() / (intervalSeconds * 1000));
    running = work
      .run(slot, claimer)
      .then((r) => {
        onRun(SETTLE_TASK, r.claimed ? "done" : "skipped");
        if (r.claimed && r.customersSettled > 0)
          log.info({ slot, customersSettled: r.customersSettled }, "settled due work");
      })
      .catch((err: unknown) => {
        onRun(SETTLE_TASK, "failed");
        log.error({ err, slot }, "scheduled work failed; the next slot retries");
      })
      .then(async () => {
        for (const task of tasks) {
          // A failed month's claim is taken over an hour later by a later round (each customer's
          // part is done once); undelivered effects are simply taken again.
          try {
            const done = await task.run(claimer);
            onRun(task.task, "done");
            if (done) log.info(done, task.name);
          } catch (err) {
            onRun(task.task, "failed");
            log.error({ err, task: task.task }, "a scheduled task failed; a later round retries");
          }
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

/**
 * Runs `round` every `intervalMs`, and again at once while it reports more to do (a full batch):
 * the relays' loop. A failed round is logged; the next one tries again. The stop function waits for
 * the round in flight.
 */
export function startPoller(
  name: string,
  intervalMs: number,
  round: () => Promise<{ more: boolean }>,
  log: Logger,
): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = round()
      .then(
        (r) => r.more,
        (err: unknown) => {
          log.error({ err, poller: name }, "a relay round failed; the next one retries");
          return false;
        },
      )
      .then((more) => {
        if (stopped) return;
        timer = setTimeout(tick, more ? 0 : intervalMs);
        timer.unref();
      });
  };
  tick();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
