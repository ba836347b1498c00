import { performance } from "node:perf_hooks";
import { progressBar } from "../src/cli/progress.js";
import { type ApiClient, closedLoop, openLoop, type Tick } from "./http.js";
import { backendPids, sampleSessions } from "./postgres.js";
import { hash32, Rng } from "./random.js";
import { cpuSecondsOf, machineCpuSeconds, postgresCpuSeconds, type RunningService } from "./service.js";
import { Latencies, type LatencySummary, round, Tally } from "./stats.js";
import type { OrderEvent, Workload } from "./workload.js";

/** The phases that drive the service over HTTP, and what each measures. */

/**
 * Cores busy during a phase: the service process; PostgreSQL — the backends serving the service's
 * database, and every PostgreSQL process (other databases and background writers included); this load
 * generator; the whole machine.
 */
export interface CpuShare {
  serviceCores: number;
  /** Backends connected to the service's database (those alive at the end; NaN on PGlite). */
  postgresBackendCores: number;
  postgresCores: number;
  loadGeneratorCores: number;
  machineBusyCores: number;
  /** The service's database sessions on average, by state (see sampleSessions); empty on PGlite. */
  sessions: Record<string, number>;
}

export async function cpuMeter(service: RunningService | undefined) {
  const url = service?.databaseUrl;
  const stopSampling = url ? await sampleSessions(url) : async () => ({});
  const b0 = cpuSecondsOf(await backendPids(url));
  const s0 = service?.cpuSeconds() ?? Number.NaN;
  const p0 = postgresCpuSeconds();
  const c0 = process.cpuUsage();
  const m0 = machineCpuSeconds();
  const t0 = performance.now();
  // A counter that went down means the process restarted (PostgreSQL restarted by someone): unknown.
  const share = (now: number, before: number, wall: number) =>
    now >= before ? round((now - before) / wall, 2) : Number.NaN;
  return async (): Promise<CpuShare> => {
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const m = machineCpuSeconds();
    const s1 = service?.cpuSeconds() ?? Number.NaN;
    const p1 = postgresCpuSeconds();
    let backends = 0;
    // A backend that started during the phase counts from its start.
    for (const [pid, cpu] of cpuSecondsOf(await backendPids(url))) backends += cpu - (b0.get(pid) ?? 0);
    return {
      serviceCores: share(s1, s0, wall),
      postgresBackendCores: url ? round(backends / wall, 2) : Number.NaN,
      postgresCores: share(p1, p0, wall),
      loadGeneratorCores: round((c.user + c.system) / 1e6 / wall, 2),
      machineBusyCores: round((m.busy - m0.busy) / wall, 2),
      sessions: await stopSampling(),
    };
  };
}

/** A progress bar over the seconds of a timed phase. */
export function timedBar(label: string): Tick {
  const bar = progressBar(label);
  return (elapsedMs, durationMs) => bar(Math.round(elapsedMs / 1000), Math.round(durationMs / 1000));
}

function errorCode(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "?";
  } catch {
    return text.slice(0, 60);
  }
}

export interface SeedResult {
  customers: number;
  /** Credited over HTTP (measured), the rest written set-based in SQL. */
  httpCustomers: number;
  sqlCustomers: number;
  sqlSeconds: number;
  sellerProducts: number;
  seconds: number;
  creditsPerSecond: number;
  latency: LatencySummary;
  failures: Record<string, number>;
}

/**
 * Credits every customer with its bonus points (one lot each) and sets the sellers' R11 points. The
 * `httpCustomers` most active customers are credited through POST /credits (one request each, measured);
 * the others, if `sqlSeed` is given, in one set-based write.
 */
export async function seed(options: {
  api: ApiClient;
  workload: Workload;
  concurrency: number;
  withSellerPoints: boolean;
  httpCustomers: number;
  sqlSeed?: (credits: { customerId: string; amount: number }[]) => Promise<number>;
}): Promise<SeedResult> {
  const { api, workload, concurrency, withSellerPoints } = options;
  const failures = new Tally();
  const sellerProducts = withSellerPoints ? workload.sellerProductPoints() : [];
  let nextProduct = 0;
  await closedLoop({
    concurrency,
    durationMs: 3_600_000,
    task: async () => {
      const p = sellerProducts[nextProduct++];
      if (!p) return false;
      const res = await api.call("PUT", `/v1/sellers/${p.sellerId}/products/${p.sku}/points`, {
        body: { pointsPerUnit: p.pointsPerUnit },
      });
      if (res.status !== 200) failures.add(`seller points ${res.status} ${errorCode(res.text)}`);
      return true;
    },
  });
  const all = workload.options.customers;
  const n = options.sqlSeed ? Math.min(all, options.httpCustomers) : all;
  let sqlSeconds = 0;
  if (options.sqlSeed && n < all) {
    const credits = [];
    for (let rank = n; rank < all; rank++) {
      credits.push({ customerId: workload.customerId(rank), amount: workload.initialCredit(rank) });
    }
    sqlSeconds = await options.sqlSeed(credits);
  }
  const bar = progressBar("seed: credit customers over HTTP");
  const latency = new Latencies();
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await closedLoop({
    concurrency,
    durationMs: 3_600_000,
    task: async () => {
      const rank = next++;
      if (rank >= n) return false;
      const start = performance.now();
      const res = await api.call("POST", `/v1/customers/${workload.customerId(rank)}/credits`, {
        body: {
          kind: "bonus",
          amount: workload.initialCredit(rank),
          source: "campaign",
          funder: "campaign:welcome",
          reference: "bench welcome points",
        },
        idempotencyKey: `seed-${rank}`,
      });
      latency.add(performance.now() - start);
      if (res.status !== 201) failures.add(`credit ${res.status} ${errorCode(res.text)}`);
      done += 1;
      if (done % 200 === 0 || done === n) bar(done, n);
      return true;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    customers: all,
    httpCustomers: n,
    sqlCustomers: all - n,
    sqlSeconds: round(sqlSeconds, 2),
    sellerProducts: sellerProducts.length,
    seconds: round(seconds, 2),
    creditsPerSecond: round(n / seconds, 1),
    latency: latency.summary(),
    failures: failures.counts,
  };
}

/**
 * The stream as a producer that keeps each order's events in order (as a partitioned queue would): an
 * order whose earlier event is still in a request that has not been answered waits, with its later
 * events, for a later request. The service would park such an event and apply it when its predecessor
 * arrives; holding it back here keeps "applied" in the answers equal to what was applied.
 */
export class OrderedFeed {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, OrderEvent[]>();

  constructor(private readonly workload: Workload) {}

  /** Up to `n` events no other unanswered request carries an order of. */
  take(n: number): OrderEvent[] {
    const out: OrderEvent[] = [];
    for (const [orderId, events] of this.waiting) {
      if (out.length >= n) break;
      if (this.inFlight.has(orderId)) continue;
      while (events.length > 0 && out.length < n) out.push(events.shift() as OrderEvent);
      if (events.length === 0) this.waiting.delete(orderId);
    }
    while (out.length < n) {
      const event = this.workload.nextEvent();
      const queue = this.waiting.get(event.orderId);
      if (queue) queue.push(event);
      else if (this.inFlight.has(event.orderId)) this.waiting.set(event.orderId, [event]);
      else out.push(event);
    }
    for (const orderId of new Set(out.map((e) => e.orderId))) {
      this.inFlight.set(orderId, (this.inFlight.get(orderId) ?? 0) + 1);
    }
    return out;
  }

  /** The request carrying `events` was answered (whatever the answer). */
  done(events: readonly OrderEvent[]): void {
    for (const orderId of new Set(events.map((e) => e.orderId))) {
      const left = (this.inFlight.get(orderId) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(orderId);
      else this.inFlight.set(orderId, left);
    }
  }

  /** Events held back right now. */
  get held(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }
}

export interface EventsResult {
  mode: "batch" | "single";
  seconds: number;
  concurrency: number;
  eventsPerRequest: number;
  requests: number;
  /** Events sent, in requests answered 200 (accepted) or not. */
  sent: number;
  accepted: number;
  applied: number;
  parked: number;
  refused: number;
  acceptedPerSecond: number;
  appliedPerSecond: number;
  httpStatuses: Record<string, number>;
  refusalCodes: Record<string, number>;
  /** From sending a request to its answer: per batch request in (a), per event in (b), ms. */
  latency: LatencySummary;
  /** The same figures under their earlier name. */
  requestLatency: LatencySummary;
  cpu: CpuShare;
}

/**
 * (a) and (b): the order event stream through POST /v1/orders/events, `eventsPerRequest` events a
 * request (a batch `{events}` above 1, the bare event at 1), `concurrency` requests in flight (closed loop).
 * Accepted: events in requests answered 200. Applied: events whose own status is "applied".
 */
export async function driveEvents(options: {
  api: ApiClient;
  feed: OrderedFeed;
  service: RunningService | undefined;
  eventsPerRequest: number;
  concurrency: number;
  seconds: number;
  label: string;
}): Promise<EventsResult> {
  const { api, feed, eventsPerRequest } = options;
  const single = eventsPerRequest === 1;
  const statuses = new Tally();
  const refusals = new Tally();
  const latency = new Latencies();
  let requests = 0;
  let sent = 0;
  let accepted = 0;
  let applied = 0;
  let parked = 0;
  let refused = 0;
  const meter = await cpuMeter(options.service);
  const { elapsedMs } = await closedLoop({
    concurrency: options.concurrency,
    durationMs: options.seconds * 1000,
    onTick: timedBar(options.label),
    task: async () => {
      const events: OrderEvent[] = feed.take(eventsPerRequest);
      const json = JSON.stringify(single ? events[0] : { events });
      const start = performance.now();
      const res = await api.call("POST", "/v1/orders/events", { json });
      latency.add(performance.now() - start);
      feed.done(events);
      requests += 1;
      sent += events.length;
      statuses.add(String(res.status));
      if (res.status !== 200) {
        // A single event that is refused answers with the error envelope.
        if (single && res.status >= 400 && res.status < 500) {
          refused += 1;
          refusals.add(errorCode(res.text));
        }
        return true;
      }
      accepted += events.length;
      if (single) {
        const status = (JSON.parse(res.text) as { status: string }).status;
        if (status === "applied") applied += 1;
        else if (status === "parked") parked += 1;
        return true;
      }
      const body = JSON.parse(res.text) as {
        applied: number;
        parked: number;
        refused: number;
        results: { status: string; error?: { code: string } }[];
      };
      applied += body.applied;
      parked += body.parked;
      refused += body.refused;
      if (body.refused > 0) {
        for (const r of body.results) if (r.status === "refused") refusals.add(r.error?.code ?? "?");
      }
      return true;
    },
  });
  const seconds = elapsedMs / 1000;
  const requestLatency = latency.summary();
  return {
    mode: single ? "single" : "batch",
    seconds: round(seconds, 2),
    concurrency: options.concurrency,
    eventsPerRequest,
    requests,
    sent,
    accepted,
    applied,
    parked,
    refused,
    acceptedPerSecond: round(accepted / seconds, 1),
    appliedPerSecond: round(applied / seconds, 1),
    httpStatuses: statuses.counts,
    refusalCodes: refusals.counts,
    latency: requestLatency,
    requestLatency,
    cpu: await meter(),
  };
}

export interface OpenLoopPhase {
  targetPerSecond: number;
  seconds: number;
  offered: number;
  sent: number;
  /** Sent but not answered 2xx (status → count; 0 = no answer). */
  failures: Record<string, number>;
  ok: number;
  achievedPerSecond: number;
  notSent: number;
  /** From when the request was due (includes any wait for a free slot): what a user would see. */
  latency: LatencySummary;
  /** From when it actually left. */
  serviceLatency: LatencySummary;
  cpu: CpuShare;
}

/** An open-loop phase of one request shape; `request(i)` says what request i is. */
async function openPhase(options: {
  api: ApiClient;
  service: RunningService | undefined;
  rate: number;
  seconds: number;
  maxInFlight: number;
  label: string;
  request: (i: number) => { method: "GET" | "POST"; path: string; json?: string; idempotencyKey?: string };
}): Promise<OpenLoopPhase> {
  const latency = new Latencies();
  const serviceLatency = new Latencies();
  const failures = new Tally();
  let ok = 0;
  const meter = await cpuMeter(options.service);
  const result = await openLoop({
    ratePerSec: options.rate,
    durationMs: options.seconds * 1000,
    maxInFlight: options.maxInFlight,
    onTick: timedBar(options.label),
    send: async (i, dueAt) => {
      const r = options.request(i);
      const start = performance.now();
      const res = await options.api.call(r.method, r.path, {
        ...(r.json !== undefined ? { json: r.json } : {}),
        ...(r.idempotencyKey !== undefined ? { idempotencyKey: r.idempotencyKey } : {}),
      });
      const end = performance.now();
      latency.add(end - dueAt);
      serviceLatency.add(end - start);
      if (res.status >= 200 && res.status < 300) ok += 1;
      else failures.add(`${res.status} ${errorCode(res.text)}`);
    },
  });
  const seconds = result.elapsedMs / 1000;
  return {
    targetPerSecond: options.rate,
    seconds: round(seconds, 2),
    offered: result.offered,
    sent: result.sent,
    ok,
    failures: failures.counts,
    achievedPerSecond: round(ok / seconds, 1),
    notSent: result.notSent,
    latency: latency.summary(),
    serviceLatency: serviceLatency.summary(),
    cpu: await meter(),
  };
}

/** (c) POST /v1/checkout/quote for fresh carts of active customers, bodies made before the clock starts. */
export async function driveQuotes(options: {
  api: ApiClient;
  workload: Workload;
  service: RunningService | undefined;
  rate: number;
  seconds: number;
  maxInFlight: number;
  label: string;
}): Promise<OpenLoopPhase> {
  const n = Math.max(1, Math.floor(options.rate * options.seconds));
  const bodies = Array.from({ length: n }, (_, i) => JSON.stringify(options.workload.quoteRequest(i)));
  return openPhase({
    ...options,
    request: (i) => ({ method: "POST", path: "/v1/checkout/quote", json: bodies[i] ?? bodies[0] ?? "{}" }),
  });
}

/** (d) GET /v1/customers/{id}/balance for customers drawn by activity. */
export async function driveBalances(options: {
  api: ApiClient;
  workload: Workload;
  service: RunningService | undefined;
  rate: number;
  seconds: number;
  maxInFlight: number;
  label: string;
}): Promise<OpenLoopPhase> {
  const { workload } = options;
  const n = Math.max(1, Math.floor(options.rate * options.seconds));
  const rng = new Rng(hash32(workload.options.seed, 0xba1));
  const paths = Array.from(
    { length: n },
    () => `/v1/customers/${workload.activeCustomer(rng).customerId}/balance`,
  );
  return openPhase({ ...options, request: (i) => ({ method: "GET", path: paths[i] ?? paths[0] ?? "/" }) });
}

export interface HoldsResult {
  targetPairsPerSecond: number;
  seconds: number;
  /** Pairs the schedule asked for. */
  offered: number;
  pairs: number;
  achievedPairsPerSecond: number;
  notSent: number;
  failures: Record<string, number>;
  /** Create, from when it was due. */
  create: LatencySummary;
  release: LatencySummary;
  /** Create then release, from when the create was due. */
  pair: LatencySummary;
  cpu: CpuShare;
}

/** (d) R20 holds: create a small hold for an active customer with points, then release it at once. */
export async function driveHolds(options: {
  api: ApiClient;
  workload: Workload;
  service: RunningService | undefined;
  rate: number;
  seconds: number;
  maxInFlight: number;
  label: string;
}): Promise<HoldsResult> {
  const { api, workload } = options;
  const create = new Latencies();
  const release = new Latencies();
  const pair = new Latencies();
  const failures = new Tally();
  let pairs = 0;
  const meter = await cpuMeter(options.service);
  const result = await openLoop({
    ratePerSec: options.rate,
    durationMs: options.seconds * 1000,
    maxInFlight: options.maxInFlight,
    onTick: timedBar(options.label),
    send: async (i, dueAt) => {
      const rng = new Rng(hash32(workload.options.seed, 0x401d, i));
      const customer = workload.customerWithPoints(rng, 5);
      if (!customer) {
        failures.add("no customer with points");
        return;
      }
      const amount = rng.int(1, 5);
      workload.reserve(customer.rank, amount);
      const holdId = `bench-hold-${i}`;
      const base = `/v1/customers/${customer.customerId}/holds`;
      try {
        const made = await api.call("POST", base, {
          body: { holdId, kind: "bonus", amount, timeoutSeconds: 600 },
          idempotencyKey: `hold-${i}`,
        });
        const created = performance.now();
        create.add(created - dueAt);
        if (made.status !== 201) {
          failures.add(`hold ${made.status} ${errorCode(made.text)}`);
          return;
        }
        const freed = await api.call("POST", `${base}/${holdId}/release`, { idempotencyKey: `release-${i}` });
        const end = performance.now();
        release.add(end - created);
        if (freed.status !== 200) {
          failures.add(`release ${freed.status} ${errorCode(freed.text)}`);
          return;
        }
        pair.add(end - dueAt);
        pairs += 1;
      } finally {
        workload.release(customer.rank, amount);
      }
    },
  });
  const seconds = result.elapsedMs / 1000;
  return {
    targetPairsPerSecond: options.rate,
    seconds: round(seconds, 2),
    offered: result.offered,
    pairs,
    achievedPairsPerSecond: round(pairs / seconds, 1),
    notSent: result.notSent,
    failures: failures.counts,
    create: create.summary(),
    release: release.summary(),
    pair: pair.summary(),
    cpu: await meter(),
  };
}
