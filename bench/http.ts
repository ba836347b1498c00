import { performance } from "node:perf_hooks";

/**
 * The load side: Node's built-in fetch (undici), whose global dispatcher keeps connections alive, so a
 * bounded number of requests in flight means a bounded number of connections, each reused.
 */

export interface ApiResponse {
  /** 0 when the request failed before an answer (connection refused or reset). */
  status: number;
  text: string;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly key: string,
  ) {}

  /** `json` is a body already serialised (made before a timed phase, to keep the load side light). */
  async call(
    method: "GET" | "POST" | "PUT",
    path: string,
    options: { body?: unknown; json?: string; idempotencyKey?: string } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    const json = options.json ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (json !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    try {
      const response = await fetch(`${this.base}${path}`, { method, headers, body: json });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      return { status: 0, text: String((error as Error).cause ?? error) };
    }
  }
}

export type Tick = (elapsedMs: number, durationMs: number) => void;

function ticker(start: number, durationMs: number, onTick: Tick | undefined) {
  if (!onTick) return () => {};
  const timer = setInterval(() => onTick(Math.min(performance.now() - start, durationMs), durationMs), 250);
  return () => {
    clearInterval(timer);
    onTick(durationMs, durationMs);
  };
}

/**
 * Closed loop: `concurrency` workers each send, wait for the answer and send again, until the time is up
 * or `task` says there is nothing left (returns false). Measures the most the service sustains.
 */
export async function closedLoop(options: {
  concurrency: number;
  durationMs: number;
  task: () => Promise<boolean>;
  onTick?: Tick;
}): Promise<{ elapsedMs: number }> {
  const start = performance.now();
  const deadline = start + options.durationMs;
  const stop = ticker(start, options.durationMs, options.onTick);
  const worker = async () => {
    while (performance.now() < deadline) {
      if (!(await options.task())) return;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  stop();
  return { elapsedMs: performance.now() - start };
}

export interface OpenLoopResult {
  elapsedMs: number;
  /** Requests the schedule asked for during the run. */
  offered: number;
  sent: number;
  completed: number;
  /** Scheduled but not sent by the end, because `maxInFlight` requests were waiting: the service fell behind. */
  notSent: number;
}

/**
 * Open loop: request i is due at start + i / rate whatever happened to the earlier ones (the way real
 * users arrive). `send` gets the due time, so latency is measured from when the request should have
 * left: a service that falls behind shows it in the percentiles (no coordinated omission). At most
 * `maxInFlight` requests wait at once; what is still unsent at the end is reported, not sent.
 */
export function openLoop(options: {
  ratePerSec: number;
  durationMs: number;
  maxInFlight: number;
  send: (index: number, dueAt: number) => Promise<void>;
  onTick?: Tick;
}): Promise<OpenLoopResult> {
  const { ratePerSec, durationMs, maxInFlight } = options;
  const total = Math.max(1, Math.floor((ratePerSec * durationMs) / 1000));
  const interval = 1000 / ratePerSec;
  const start = performance.now();
  const stop = ticker(start, durationMs, options.onTick);
  let sent = 0;
  let inFlight = 0;
  let completed = 0;
  let closed = false;
  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (closed && inFlight === 0) {
        stop();
        resolve({
          elapsedMs: performance.now() - start,
          offered: total,
          sent,
          completed,
          notSent: total - sent,
        });
      }
    };
    const pump = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      while (sent < due && inFlight < maxInFlight) {
        const index = sent;
        sent += 1;
        inFlight += 1;
        options.send(index, start + index * interval).finally(() => {
          inFlight -= 1;
          completed += 1;
          finishIfDone();
        });
      }
      if (sent < total && now - start < durationMs) {
        setTimeout(pump, Math.max(0, Math.min(1, start + sent * interval - now)));
      } else {
        closed = true;
        finishIfDone();
      }
    };
    pump();
  });
}
