import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import pino from "pino";
import { AccessService, type CustomerTokens } from "./app/access.js";
import { CampaignService } from "./app/campaigns/campaign-service.js";
import { CampaignsInForce } from "./app/campaigns/campaigns-in-force.js";
import { EffectRelay, type StoredEffect } from "./app/effects/effect-relay.js";
import { FinanceService } from "./app/finance/finance-service.js";
import { GroupCommitter } from "./app/group-commit.js";
import { InviteService } from "./app/invites/invite-service.js";
import { LedgerService } from "./app/ledger-service.js";
import { ManagerService } from "./app/managers/manager-service.js";
import { NotificationHousekeepingRun } from "./app/notifications/housekeeping.js";
import { NotificationRelay } from "./app/notifications/relay.js";
import { WebhookSubscriptions } from "./app/notifications/webhook-subscriptions.js";
import { OrderEventsConsumer } from "./app/order-events-consumer/consumer.js";
import { OrderService } from "./app/order-service.js";
import type { Clock } from "./app/ports.js";
import { PremiumService } from "./app/premium/premium-service.js";
import { ProgrammeRules } from "./app/programme-rules.js";
import { ReviewService } from "./app/reviews/review-service.js";
import { SavingsService } from "./app/savings/savings-service.js";
import { ScheduledWork } from "./app/scheduled-work.js";
import { SegmentService } from "./app/segments/segment-service.js";
import { SellerDiscountService } from "./app/seller-discounts/seller-discount-service.js";
import type { Config, NatsOrderEventsConfig } from "./config.js";
import { decodeOrderEventMessage } from "./http/order-event-body.js";
import { buildServer } from "./http/server.js";
import { PostgresApiKeyStore } from "./infra/api-key-store.js";
import { PostgresCampaignStore } from "./infra/campaign-store.js";
import { PostgresCustomerTokenRevocations } from "./infra/customer-token-revocations.js";
import { JwtCustomerTokens } from "./infra/customer-tokens.js";
import { dataFolderJwtSecret, isInMemory } from "./infra/data-folder.js";
import { type DatabaseHandle, openDatabase } from "./infra/db.js";
import { PostgresEffectStore } from "./infra/effect-store.js";
import { PostgresFinanceStore } from "./infra/finance-store.js";
import { MonotonicIds } from "./infra/ids.js";
import { PostgresInviteStore, randomCode } from "./infra/invite-store.js";
import { PostgresLedgerStore } from "./infra/ledger-store.js";
import { PostgresManagerStore } from "./infra/manager-store.js";
import { createMetrics, type Metrics } from "./infra/metrics.js";
import { migrate } from "./infra/migrations/migrate.js";
import { connectNats } from "./infra/nats/connection.js";
import { JetStreamNotificationTransport, PUBLISH_TIMEOUT_MS } from "./infra/nats/notification-publisher.js";
import { JetStreamOrderEventSource } from "./infra/nats/order-event-source.js";
import { PostgresNotificationStore } from "./infra/notification-store.js";
import { PostgresNotificationTargetStore } from "./infra/notification-target-store.js";
import { PostgresPartitionLeases } from "./infra/order-event-partition-leases.js";
import { PostgresOrderStore } from "./infra/order-store.js";
import { PostgresPremiumStore } from "./infra/premium-store.js";
import { PostgresReviewStore } from "./infra/review-store.js";
import { PostgresRunClaims } from "./infra/run-claims.js";
import { PostgresSavingsStore } from "./infra/savings-store.js";
import { startPoller, startScheduler } from "./infra/scheduler.js";
import { PostgresSegmentStore } from "./infra/segment-store.js";
import { PostgresSellerDiscountStore } from "./infra/seller-discount-store.js";
import { WebhookTransport } from "./infra/webhooks/webhook-transport.js";

export const systemClock: Clock = { now: () => new Date() };

/**
 * Order events applied from JetStream (README "Order events from JetStream"): the stream, its
 * partitions' consumers and lease rows made if missing, then this instance's share consumed.
 */
async function consumeOrderEventsFromNats(
  url: string,
  settings: NatsOrderEventsConfig,
  deps: {
    database: DatabaseHandle;
    orders: OrderService;
    ids: MonotonicIds;
    log: pino.Logger;
    metrics: Metrics;
  },
) {
  const log = deps.log.child({ stream: settings.stream });
  const connection = await connectNats(url, log);
  const { stream, partitions, leaseSeconds, batchSize } = settings;
  const leases = new PostgresPartitionLeases(deps.database.db, stream, partitions, leaseSeconds);
  const source = await Promise.all([
    JetStreamOrderEventSource.open(connection, settings),
    leases.ensurePartitions(),
  ])
    .then(([opened]) => opened)
    .catch(async (err: unknown) => {
      await connection.close();
      throw err;
    });
  const consumer = new OrderEventsConsumer(
    {
      source,
      leases,
      apply: (incoming, requestId) => deps.orders.handleEvents(incoming, `nats:${stream}`, requestId),
      decode: decodeOrderEventMessage,
      log,
      count: deps.metrics.countOrderEventMessages,
      newRequestId: () => deps.ids.newId("req"),
    },
    // A failed batch comes again after 2 s: soon after a database comes back, without hammering it.
    {
      owner: `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
      partitions,
      batchSize,
      leaseSeconds,
      retryDelayMs: 2000,
    },
  );
  await consumer.start();
  return {
    consumer,
    lag: () => source.lag(),
    async stop() {
      await consumer.stop();
      await connection.drain();
    },
  };
}

/**
 * Customer tokens from the configuration alone, without the database (all `kopilka tokens create`
 * needs): signed with KOPILKA_JWT_SECRET, else with the secret the embedded database keeps in its data
 * folder. Undefined without either: PostgreSQL, or an in-memory database, and no KOPILKA_JWT_SECRET.
 */
export function configuredCustomerTokens(config: Config): CustomerTokens | undefined {
  const embeddedInFolder = !config.databaseUrl && !isInMemory(config.dataDir);
  const secret = config.jwtSecret ?? (embeddedInFolder ? dataFolderJwtSecret(config.dataDir) : undefined);
  return secret === undefined ? undefined : new JwtCustomerTokens(secret, config.customerTokenMaxTtlSeconds);
}

/** The composition root: the one place that wires infrastructure to the use cases and the edges. */
export async function createKopilka(
  config: Config,
  options: { clock?: Clock; logger?: pino.Logger; database?: DatabaseHandle } = {},
) {
  const log = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const database =
    options.database ??
    (await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.poolSize,
      timeoutMs: config.databaseTimeoutMs,
      onIdleError: (err) => log.warn({ err }, "an idle database connection failed; the pool replaces it"),
    }));
  // A migration may rewrite large tables: it is not held to a request's bound.
  await database.bounded(Number.POSITIVE_INFINITY, () => migrate(database.db));
  const ids = new MonotonicIds();
  // Retries are counted in /metrics, made below (the store is needed first).
  const store = new PostgresLedgerStore(database.db, (sqlState) => metrics.countRetry(sqlState));
  const orderStore = new PostgresOrderStore(database.db, ids);
  const rules = new ProgrammeRules(() => orderStore.configVersions(), config.expiringWithinDays);
  const committer = new GroupCommitter(
    store,
    clock,
    async (now) => ({ now, newId: (prefix) => ids.newId(prefix), policy: await rules.ledgerPolicy(now) }),
    {
      lanes: database.kind === "pglite" ? 1 : config.writeLanes,
      customersPerTransaction: config.customersPerTransaction,
      // PGlite runs in this process and is never silent: its one lane's queue is bounded by nothing.
      databaseWaitMs: database.kind === "postgres" ? config.databaseTimeoutMs : undefined,
      bounded: database.bounded,
    },
  );
  const ledger = new LedgerService(store, committer, clock, rules, config.timeZone);
  let tokens = configuredCustomerTokens(config);
  if (!tokens) {
    log.warn(
      "KOPILKA_JWT_SECRET is not set: customer tokens are signed with a random secret and die with this process",
    );
    tokens = new JwtCustomerTokens(randomBytes(32).toString("hex"), config.customerTokenMaxTtlSeconds);
  }
  const access = new AccessService(
    new PostgresApiKeyStore(database.db, ids),
    tokens,
    new PostgresCustomerTokenRevocations(database.db, ids),
    config.supportAdjustmentLimit,
    // Credentials are checked against real time (jose reads the wall clock), whatever clock the ledger runs on.
    systemClock,
  );
  const managerStore = new PostgresManagerStore(database.db);
  const managers = new ManagerService(
    managerStore,
    committer,
    new PostgresRunClaims(database.db),
    clock,
    ids,
    rules,
    () => randomCode("M"),
    config.timeZone,
  );
  // Cross-customer effects (R23, R24): recorded in one customer's work, applied in the other's,
  // right after the recording commit and on every scheduler round.
  const deliver = (keys: { sourceCustomerId: string; effectId: string }[]) =>
    effects.deliver(keys).catch((err: unknown) => {
      log.warn({ err }, "effects not delivered after commit; the scheduler delivers them");
      return 0;
    });
  const invites = new InviteService(
    new PostgresInviteStore(database.db),
    committer,
    clock,
    () => randomCode("F"),
    deliver,
  );
  const effects: EffectRelay = new EffectRelay(
    new PostgresEffectStore(database.db),
    committer,
    (effect: StoredEffect) => {
      const { payload } = effect;
      if (payload.type === "invite") return invites.effectWork({ ...effect, payload });
      return managers.effectWork({ ...effect, payload });
    },
    clock,
    (effect, err) =>
      log.warn(
        { err, effectId: effect.effectId, target: effect.targetCustomerId },
        "an effect could not be applied; the scheduler retries",
      ),
  );
  // One backlog statement serves both kinds' gauges of a scrape (they are collected together).
  let backlogRead: ReturnType<typeof notificationStore.backlog> | undefined;
  const pendingDeliveries = async (kind: "webhook" | "nats") => {
    backlogRead ??= notificationStore.backlog().finally(() => {
      backlogRead = undefined;
    });
    const b = (await backlogRead).find((x) => x.kind === kind);
    return { count: b?.count ?? 0, oldest: b?.oldest ?? null };
  };
  const metrics = createMetrics(
    [
      {
        name: "order_events_waiting",
        help: "Order events that cannot apply yet and wait (for an earlier sequence, or an event that could make them valid)",
        read: async () => {
          const w = await orderStore.waitingSummary();
          return { count: w.count, oldest: w.oldestReceivedAt };
        },
      },
      {
        name: "webhook_deliveries_pending",
        help: "R31: notifications not yet delivered to an enabled webhook endpoint (waiting, or being retried)",
        read: async () => pendingDeliveries("webhook"),
      },
      {
        name: "broker_deliveries_pending",
        help: "R31: notifications not yet published to the NATS JetStream broker (waiting, or being retried)",
        read: async () => pendingDeliveries("nats"),
      },
      {
        name: "effects_undelivered",
        help: "Cross-customer effects (R23 invite rewards, R24 referral points) recorded and not yet applied to the other customer",
        read: async () => {
          const b = await effects.backlog();
          return { count: b.count, oldest: b.oldestCreatedAt };
        },
      },
    ],
    clock,
    () => committer.queueDepths(),
    config.natsOrderEvents ? async () => (await natsOrderEvents?.lag()) ?? [] : undefined,
  );
  // R28: subscription periods; orders and quotes ask whether a customer is Premium at an instant.
  const premium = new PremiumService(new PostgresPremiumStore(database.db), committer, clock, ids);
  // R29: segments over the customers' statistics; campaigns (R26) may be limited to one.
  const segments = new SegmentService(new PostgresSegmentStore(database.db, ids), clock, config.timeZone);
  // R26: campaign definitions; the order path reads `campaigns.campaignsInForce(at)` (cached).
  const campaignStore = new PostgresCampaignStore(database.db, ids);
  const campaigns = new CampaignService(
    campaignStore,
    new CampaignsInForce(campaignStore, clock),
    clock,
    ids,
    config.timeZone,
    async (segmentId) => (await segments.get(segmentId)).ok,
  );
  // R27: sellers' loyalty discounts; quotes take them off the prices before the caps.
  const sellerDiscounts = new SellerDiscountService(
    new PostgresSellerDiscountStore(database.db, ids),
    clock,
    config.timeZone,
  );
  const orders = new OrderService(orderStore, clock, rules, ledger, committer, {
    countEvents: metrics.countEvents,
    campaignsInForce: (at) => campaigns.campaignsInForce(at),
    campaignBudgets: (campaignIds) => campaignStore.budgets(campaignIds),
    segmentsOf: async (customerIds) =>
      new Map([...(await segments.membership(customerIds))].map(([id, m]) => [id, m.segments])),
    premiumAt: (asked) => premium.premiumAt(asked),
    sellerDiscounts: (customerId, lines, at) => sellerDiscounts.forQuote(customerId, lines, at),
    promoCodeOwners: (codes) => managerStore.codeOwners(codes),
    deliver,
    timeZone: config.timeZone,
  });
  const reviews = new ReviewService(new PostgresReviewStore(database.db), committer, clock, rules);
  // Reports and the reconciliation read across customers, set-based; they write nothing.
  const finance = new FinanceService(new PostgresFinanceStore(database), clock, config.timeZone);

  // R31: the outbox. Notifications are written with their movements; relays deliver them.
  const notificationStore = new PostgresNotificationStore(database.db);
  // Before anything can write: from here on every notification has its delivery to the broker,
  // published once the relay starts (startNotificationsToNats).
  if (config.natsNotifications) await notificationStore.registerBroker(clock.now());
  const explanationContext = async () => ({
    categoryNames: await rules.categoryNames(),
    timeZone: config.timeZone,
  });
  const webhookRelay = new NotificationRelay(
    "webhook",
    notificationStore,
    new WebhookTransport(config.webhookTimeoutMs),
    clock,
    explanationContext,
    {
      batchSize: 200,
      // Long enough for a customer's chain of a few slow deliveries; a chain stops before it ends.
      leaseMs: Math.max(60_000, 6 * config.webhookTimeoutMs),
      attemptTimeoutMs: config.webhookTimeoutMs,
      retryBaseMs: config.webhookRetryBaseMs,
      maxRetryDelayMs: config.webhookRetryMaxMs,
      maxAgeMs: config.webhookMaxAgeSeconds * 1000,
      disableAfterMs: config.webhookDisableAfterSeconds * 1000,
      maxBatchesPerRound: 10,
    },
    (kind, outcome) => metrics.countDelivery(kind, outcome),
    (targetId, reason) => log.warn({ targetId, reason }, "a webhook endpoint kept failing and is disabled"),
  );
  const webhooks = new WebhookSubscriptions(
    new PostgresNotificationTargetStore(database.db, ids),
    clock,
    ids,
    () => `whsec_${randomBytes(32).toString("base64url")}`,
    config.idempotencyRetentionHours,
  );
  const notificationHousekeeping = new NotificationHousekeepingRun(
    notificationStore,
    new PostgresRunClaims(database.db),
    committer,
    clock,
    ids,
    config.notificationRetentionHours,
  );

  const scheduledWork = new ScheduledWork(
    store,
    ledger,
    new PostgresRunClaims(database.db),
    clock,
    ids,
    committer,
    config.idempotencyRetentionHours,
  );
  const savings = new SavingsService(
    committer,
    store,
    new PostgresSavingsStore(database.db),
    new PostgresRunClaims(database.db),
    clock,
    ids,
    (at) => rules.savingsPolicy(at),
    config.timeZone,
  );
  let stopScheduler: (() => Promise<void>) | undefined;
  const stopRelays: (() => Promise<void>)[] = [];
  let natsOrderEvents: Awaited<ReturnType<typeof consumeOrderEventsFromNats>> | undefined;
  let brokerRelay: { relay: NotificationRelay; close(): Promise<void> } | undefined;
  /** Shutting down: /ready answers 503 (phase 1), then new requests are refused too (phase 2). */
  let shutdown: "serving" | "draining" | "closing" = "serving";

  const kopilka = {
    config,
    log,
    clock,
    database,
    ledger,
    orders,
    access,
    scheduledWork,
    savings,
    invites,
    managers,
    premium,
    effects,
    reviews,
    webhookRelay,
    webhooks,
    campaigns,
    sellerDiscounts,
    segments,
    finance,
    notificationHousekeeping,
    async buildServer() {
      return buildServer({
        deps: {
          ledger,
          orders,
          access,
          savings,
          reviews,
          invites,
          managers,
          premium,
          webhooks,
          campaigns,
          sellerDiscounts,
          segments,
          finance,
        },
        access,
        ids,
        bodyLimitBytes: config.bodyLimitBytes,
        logger: log,
        ready: async () => {
          if (shutdown !== "serving") return "the service is shutting down";
          try {
            await database.pool.query("select 1");
            return undefined;
          } catch {
            return "the database cannot be reached";
          }
        },
        closing: () => shutdown === "closing",
        metrics,
        metricsToken: config.metricsToken,
      });
    },
    /**
     * Graceful shutdown: /ready answers 503 while requests are still served for
     * `shutdownDelayMs` (load balancers stop sending), then the server stops taking requests and
     * waits for those in flight, the scheduler finishes its round, the lanes drain, the database
     * closes. The caller bounds it (`shutdownGraceMs`).
     */
    async shutdown(server: { close(): Promise<unknown> }) {
      shutdown = "draining";
      log.info({ delayMs: config.shutdownDelayMs }, "shutting down: /ready answers 503");
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      shutdown = "closing";
      await server.close();
      log.info("in-flight requests finished");
      await kopilka.close();
    },
    startScheduler() {
      if (config.schedulerIntervalSeconds > 0) {
        stopScheduler = startScheduler(
          scheduledWork,
          clock,
          config.schedulerIntervalSeconds,
          `${hostname()}:${process.pid}`,
          log,
          [
            {
              task: "savings_interest",
              name: "paid savings interest (R25)",
              run: async (claimer) => {
                const r = await savings.payDueMonth(claimer);
                return r.claimed ? { accounts: r.accounts, points: r.points } : undefined;
              },
            },
            {
              task: "manager_month",
              name: "settled manager months (R24)",
              run: async (claimer) => {
                const r = await managers.settleDueMonth(claimer);
                return r.claimed ? { ...r } : undefined;
              },
            },
            {
              task: "effects",
              name: "delivered cross-customer effects (R23, R24)",
              run: async () => {
                const delivered = await effects.deliverPending();
                return delivered > 0 ? { delivered } : undefined;
              },
            },
            {
              task: "expiry_notices",
              name: "wrote expiry notices and swept old notifications (R31)",
              run: async (claimer) => {
                const r = await notificationHousekeeping.runDueHour(claimer);
                return r.claimed && r.notices + r.swept > 0
                  ? { notices: r.notices, swept: r.swept }
                  : undefined;
              },
            },
            {
              task: "webhook_answers",
              name: "swept stored answers of writes that name no customer (R31 webhooks, R26 campaigns)",
              run: async () => {
                const swept = await webhooks.sweepStoredAnswers();
                return swept > 0 ? { swept } : undefined;
              },
            },
          ],
          metrics.countRun,
        );
      }
      if (config.notificationRelayIntervalMs > 0) {
        stopRelays.push(
          startPoller(
            "webhooks",
            config.notificationRelayIntervalMs,
            () => webhookRelay.deliverPending(),
            log,
          ),
        );
      }
    },
    /** With KOPILKA_NATS_ORDER_EVENTS=on, starts applying order events from JetStream. */
    async startOrderEventsFromNats() {
      if (!config.natsUrl || !config.natsOrderEvents || natsOrderEvents) return;
      natsOrderEvents = await consumeOrderEventsFromNats(config.natsUrl, config.natsOrderEvents, {
        database,
        orders,
        ids,
        log,
        metrics,
      });
    },
    /**
     * With KOPILKA_NATS_NOTIFICATIONS=on, publishes notifications to JetStream (R31): the stream made
     * if missing, and the broker's relay (the target was registered at start) polling like the
     * webhooks' one.
     */
    async startNotificationsToNats(): Promise<NotificationRelay | undefined> {
      if (!config.natsUrl || !config.natsNotifications) return undefined;
      if (brokerRelay) return brokerRelay.relay;
      const settings = config.natsNotifications;
      const connection = await connectNats(config.natsUrl, log.child({ stream: settings.stream }));
      try {
        const transport = await JetStreamNotificationTransport.open(connection, settings);
        const relay = new NotificationRelay(
          "nats",
          notificationStore,
          transport,
          clock,
          explanationContext,
          {
            batchSize: 500,
            // Shorter than the stream's duplicate window: what a dead relay published and did not
            // record is published again while the server still drops it.
            leaseMs: 30_000,
            attemptTimeoutMs: PUBLISH_TIMEOUT_MS,
            retryBaseMs: 1000,
            maxRetryDelayMs: 60_000,
            maxAgeMs: settings.deadAfterSeconds * 1000,
            disableAfterMs: null,
            maxBatchesPerRound: 20,
          },
          (kind, outcome) => metrics.countDelivery(kind, outcome),
        );
        const stop =
          config.notificationRelayIntervalMs > 0
            ? startPoller("broker", config.notificationRelayIntervalMs, () => relay.deliverPending(), log)
            : async () => {};
        brokerRelay = {
          relay,
          async close() {
            await stop();
            await connection.drain();
          },
        };
        return relay;
      } catch (err) {
        await connection.close();
        throw err;
      }
    },
    /** The partitions this instance applies from JetStream (none when not consuming). */
    orderEventPartitions: () => natsOrderEvents?.consumer.owned() ?? [],
    async close() {
      // First: its last batches need the lanes and the database.
      await natsOrderEvents?.stop();
      await brokerRelay?.close();
      await stopScheduler?.();
      await Promise.all(stopRelays.map((stop) => stop()));
      await committer.drained();
      await database.close();
    },
  };
  return kopilka;
}

export type Kopilka = Awaited<ReturnType<typeof createKopilka>>;
