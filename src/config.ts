/**
 * Every setting, its environment variable, unit and default. The README's table is made from this.
 * The programme's own numbers (R3 expiry, R13 pending delay, R15 grace, R20 hold time-out, rates and
 * caps) are not settings: they are versioned configuration, changed through the API (R7-R20).
 */
export const SETTINGS = {
  port: { env: "PORT", default: "3000", description: "HTTP port" },
  host: {
    env: "HOST",
    default: "0.0.0.0",
    description:
      "Address to listen on; `serve --demo` listens on 127.0.0.1 unless HOST is set (it prints an operator key)",
  },
  databaseUrl: {
    env: "KOPILKA_DATABASE_URL",
    default: "",
    description: "PostgreSQL URL; empty means the embedded PGlite database",
  },
  dataDir: { env: "KOPILKA_DATA_DIR", default: ".kopilka-data", description: "PGlite data folder" },
  poolSize: {
    env: "KOPILKA_DB_POOL_SIZE",
    default: "10",
    description: "PostgreSQL connections (PGlite: always 1)",
  },
  databaseTimeoutMs: {
    env: "KOPILKA_DATABASE_TIMEOUT_MS",
    default: "5000",
    description:
      "PostgreSQL: the longest a request waits on the database (queued for a connection or a group commit, connecting, or one statement) before it answers 503 SERVICE_UNAVAILABLE",
  },
  jwtSecret: {
    env: "KOPILKA_JWT_SECRET",
    default: "",
    description:
      "Secret for customer tokens (HS256), at least 32 characters; empty: the embedded database keeps one it generates in its data folder (`jwt-secret`, mode 0600), PostgreSQL uses a random one per process, with a warning",
  },
  customerTokenMaxTtlSeconds: {
    env: "KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS",
    default: "86400",
    description:
      "Longest lifetime (exp − iat) of a customer token, seconds: longer ones are not issued, and refused with 401 like tokens without exp or iat",
  },
  shutdownDelayMs: {
    env: "KOPILKA_SHUTDOWN_DELAY_MS",
    default: "1000",
    description:
      "On SIGTERM or SIGINT, how long /ready answers 503 while requests are still served, so load balancers stop sending new ones",
  },
  shutdownGraceMs: {
    env: "KOPILKA_SHUTDOWN_GRACE_MS",
    default: "10000",
    description:
      "On SIGTERM or SIGINT, the longest the whole shutdown (the delay, in-flight requests, the scheduler's round) may take before the process exits anyway; a second signal exits at once",
  },
  logLevel: { env: "KOPILKA_LOG_LEVEL", default: "info", description: "pino log level" },
  metricsToken: {
    env: "KOPILKA_METRICS_TOKEN",
    default: "",
    description:
      "When set, `GET /metrics` answers only `Authorization: Bearer <this>` (401 otherwise); empty: open, so keep the port off the public internet",
  },
  bodyLimitBytes: {
    env: "KOPILKA_BODY_LIMIT_BYTES",
    default: "4194304",
    description: "Largest request body, bytes",
  },
  schedulerIntervalSeconds: {
    env: "KOPILKA_SCHEDULER_INTERVAL_SECONDS",
    default: "30",
    description:
      "How often due work (pending → available, expiry, hold time-outs) is run, seconds; 0 turns it off",
  },
  customersPerTransaction: {
    env: "KOPILKA_CUSTOMERS_PER_TRANSACTION",
    default: "500",
    description:
      "Most customers whose writes (requests and batch events alike) one group commit shares; 1 keeps every transaction on one customer (for a database distributed by customer)",
  },
  writeLanes: {
    env: "KOPILKA_WRITE_LANES",
    default: "4",
    description:
      "Group-commit lanes on PostgreSQL: ranges of customer-id hashes, each with one write transaction in flight; at most the pool size (PGlite: always 1)",
  },
  supportAdjustmentLimit: {
    env: "KOPILKA_SUPPORT_ADJUSTMENT_LIMIT",
    default: "10000",
    description:
      "R34: the most points one support adjustment may add or remove; above it an operator key is needed",
  },
  idempotencyRetentionHours: {
    env: "KOPILKA_IDEMPOTENCY_RETENTION_HOURS",
    default: "24",
    description:
      "How long the answer to an Idempotency-Key is kept (a retry within it is replayed, after it is a new request); the scheduler sweeps older ones. Order events stay idempotent by eventId for as long as the order lives",
  },
  expiringWithinDays: {
    env: "KOPILKA_EXPIRING_WITHIN_DAYS",
    default: "30",
    description: "R6: the balance reports points expiring within this many days",
  },
  notificationRelayIntervalMs: {
    env: "KOPILKA_NOTIFICATION_RELAY_INTERVAL_MS",
    default: "1000",
    description:
      "R31: how often each relay (webhooks, the broker) looks for notifications to deliver while serving, milliseconds; a full batch is followed at once by the next; 0 turns the relays off",
  },
  notificationRetentionHours: {
    env: "KOPILKA_NOTIFICATION_RETENTION_HOURS",
    default: "720",
    description:
      "R31: how long notifications, their deliveries and dead letters are kept, hours; must exceed the webhook maximum age (an expiry notice stays until its lot expires)",
  },
  webhookTimeoutMs: {
    env: "KOPILKA_WEBHOOK_TIMEOUT_MS",
    default: "10000",
    description: "R31: how long a webhook endpoint has to answer a delivery with a 2xx, milliseconds",
  },
  webhookRetryBaseMs: {
    env: "KOPILKA_WEBHOOK_RETRY_BASE_MS",
    default: "10000",
    description:
      "R31: the first retry's delay after a failed webhook delivery, milliseconds; each next doubles (with jitter: half to all of it), up to KOPILKA_WEBHOOK_RETRY_MAX_MS",
  },
  webhookRetryMaxMs: {
    env: "KOPILKA_WEBHOOK_RETRY_MAX_MS",
    default: "3600000",
    description: "R31: the longest delay between two attempts of a webhook delivery, milliseconds",
  },
  webhookMaxAgeSeconds: {
    env: "KOPILKA_WEBHOOK_MAX_AGE_SECONDS",
    default: "259200",
    description:
      "R31: a webhook delivery still failing this long after its notification (or its replay) is dead-lettered, seconds; dead letters are listed and replayed through the API",
  },
  webhookDisableAfterSeconds: {
    env: "KOPILKA_WEBHOOK_DISABLE_AFTER_SECONDS",
    default: "259200",
    description:
      "R31: a webhook endpoint whose every delivery has failed for this long is disabled with the reason (enable it again through the API), seconds",
  },
  timeZone: {
    env: "KOPILKA_TIME_ZONE",
    default: "Europe/Moscow",
    description:
      "IANA time zone of the dates and times in customer-facing texts (R33 explanations); JSON timestamps stay UTC",
  },
  natsUrl: {
    env: "KOPILKA_NATS_URL",
    default: "",
    description:
      "NATS servers, `nats://host:4222` (several separated by commas); empty: no NATS. Used by what is turned on below",
  },
  natsOrderEvents: {
    env: "KOPILKA_NATS_ORDER_EVENTS",
    default: "off",
    description:
      "`on`: apply order events from the JetStream stream below (needs KOPILKA_NATS_URL), beside `POST /v1/orders/events`; `off`: not",
  },
  natsOrderEventsStream: {
    env: "KOPILKA_NATS_ORDER_EVENTS_STREAM",
    default: "KOPILKA_ORDER_EVENTS",
    description: "JetStream stream of the order events, created if missing",
  },
  natsOrderEventsSubjectPrefix: {
    env: "KOPILKA_NATS_ORDER_EVENTS_SUBJECT_PREFIX",
    default: "kopilka.order-events",
    description: "Order events of partition N are published on `<prefix>.N`",
  },
  natsOrderEventsPartitions: {
    env: "KOPILKA_NATS_ORDER_EVENTS_PARTITIONS",
    default: "8",
    description:
      "Partitions of the order-event stream (a customer's is FNV-1a of its id mod this); publishers must use the same number",
  },
  natsOrderEventsBatch: {
    env: "KOPILKA_NATS_ORDER_EVENTS_BATCH",
    default: "500",
    description: "Most order-event messages of a partition fetched and applied in one batch",
  },
  natsOrderEventsLeaseSeconds: {
    env: "KOPILKA_NATS_ORDER_EVENTS_LEASE_SECONDS",
    default: "15",
    description:
      "How long an instance holds an order-event partition without renewing it, seconds: a dead instance's partitions are taken over after it; renewed every third of it",
  },
  natsOrderEventsMaxAgeHours: {
    env: "KOPILKA_NATS_ORDER_EVENTS_MAX_AGE_HOURS",
    default: "168",
    description:
      "How long the stream keeps an order event, applied or not, hours: an event not applied within it is lost",
  },
  natsNotifications: {
    env: "KOPILKA_NATS_NOTIFICATIONS",
    default: "off",
    description:
      "R31 `on`: publish every notification to JetStream (needs KOPILKA_NATS_URL), to `<prefix>.<type>` with the notification id as `Nats-Msg-Id`; the broker receives the notifications written from its first start on",
  },
  natsNotificationsStream: {
    env: "KOPILKA_NATS_NOTIFICATIONS_STREAM",
    default: "KOPILKA_NOTIFICATIONS",
    description: "R31: the JetStream stream notifications are published to, created if missing",
  },
  natsNotificationsSubjectPrefix: {
    env: "KOPILKA_NATS_NOTIFICATIONS_SUBJECT_PREFIX",
    default: "kopilka",
    description:
      "R31: notification subjects are `<prefix>.<type>` (`kopilka.points.expired`); the stream takes `<prefix>.points.>`, `<prefix>.review.>` and the other families",
  },
  natsNotificationsMaxAgeHours: {
    env: "KOPILKA_NATS_NOTIFICATIONS_MAX_AGE_HOURS",
    default: "168",
    description: "R31: how long the stream keeps a notification, hours (its retention)",
  },
  natsNotificationsDuplicateWindowSeconds: {
    env: "KOPILKA_NATS_NOTIFICATIONS_DUPLICATE_WINDOW_SECONDS",
    default: "120",
    description:
      "R31: how long the server remembers a notification id to drop it when published again, seconds; longer than the relay's lease (30 s), so a relay that died after publishing is not seen twice",
  },
  natsNotificationsDeadAfterSeconds: {
    env: "KOPILKA_NATS_NOTIFICATIONS_DEAD_AFTER_SECONDS",
    default: "259200",
    description:
      "R31: a notification the broker has not taken for this long is dead-lettered, seconds (the relay retries with back-off up to a minute until then)",
  },
} as const;

export type SettingName = keyof typeof SETTINGS;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  /** The longest a request waits on PostgreSQL before it answers 503. */
  databaseTimeoutMs: number;
  jwtSecret: string | undefined;
  metricsToken: string | undefined;
  /** The longest lifetime a customer token may have, seconds. */
  customerTokenMaxTtlSeconds: number;
  logLevel: string;
  /** How long /ready answers 503 before the server stops taking requests. */
  shutdownDelayMs: number;
  /** The longest a graceful shutdown may take. */
  shutdownGraceMs: number;
  bodyLimitBytes: number;
  schedulerIntervalSeconds: number;
  customersPerTransaction: number;
  /** Group-commit lanes (PostgreSQL); each holds one connection while it commits. */
  writeLanes: number;
  /** R34: the most points one support adjustment may add or remove. */
  supportAdjustmentLimit: number;
  /** How long the answer to an Idempotency-Key is kept. */
  idempotencyRetentionHours: number;
  /** R6: the balance reports points expiring within this many days. */
  expiringWithinDays: number;
  /** R31: the outbox's relays and retention. */
  notificationRelayIntervalMs: number;
  notificationRetentionHours: number;
  webhookTimeoutMs: number;
  webhookRetryBaseMs: number;
  webhookRetryMaxMs: number;
  webhookMaxAgeSeconds: number;
  webhookDisableAfterSeconds: number;
  /** The IANA time zone customers read dates and times in (R33 explanations). */
  timeZone: string;
  /** NATS servers (comma-separated URLs); undefined: no NATS. */
  natsUrl: string | undefined;
  /** Order events applied from JetStream; undefined: turned off. */
  natsOrderEvents: NatsOrderEventsConfig | undefined;
  natsNotifications: NatsNotificationsConfig | undefined;
}

export interface NatsNotificationsConfig {
  stream: string;
  subjectPrefix: string;
  /** How long the stream keeps a message, seconds. */
  maxAgeSeconds: number;
  duplicateWindowSeconds: number;
  /** A delivery failing this long is dead-lettered, seconds. */
  deadAfterSeconds: number;
}

export interface NatsOrderEventsConfig {
  stream: string;
  subjectPrefix: string;
  partitions: number;
  batchSize: number;
  leaseSeconds: number;
  /** How long the stream keeps a message, seconds. */
  maxAgeSeconds: number;
}

export class ConfigError extends Error {}

function read(env: NodeJS.ProcessEnv, name: SettingName): string {
  const setting = SETTINGS[name];
  return env[setting.env] ?? setting.default;
}

function integer(env: NodeJS.ProcessEnv, name: SettingName, min: number, max: number): number {
  const raw = read(env, name);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${SETTINGS[name].env} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function ianaTimeZone(env: NodeJS.ProcessEnv): string {
  const raw = read(env, "timeZone");
  // Intl knows the IANA zones and throws a RangeError for any other name: that is the check.
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: raw });
  } catch {
    throw new ConfigError(`KOPILKA_TIME_ZONE must be an IANA time zone such as Europe/Moscow, got "${raw}"`);
  }
  return raw;
}

function lanesWithinPool(lanes: number, poolSize: number): number {
  if (lanes > poolSize) {
    throw new ConfigError(
      `KOPILKA_WRITE_LANES (${lanes}) must not exceed KOPILKA_DB_POOL_SIZE (${poolSize}): each lane holds a connection while it commits`,
    );
  }
  return lanes;
}

function notificationSettings(env: NodeJS.ProcessEnv) {
  const settings = {
    notificationRelayIntervalMs: integer(env, "notificationRelayIntervalMs", 0, 3_600_000),
    notificationRetentionHours: integer(env, "notificationRetentionHours", 1, 24 * 3660),
    webhookTimeoutMs: integer(env, "webhookTimeoutMs", 100, 120_000),
    webhookRetryBaseMs: integer(env, "webhookRetryBaseMs", 1, 86_400_000),
    webhookRetryMaxMs: integer(env, "webhookRetryMaxMs", 1, 86_400_000),
    webhookMaxAgeSeconds: integer(env, "webhookMaxAgeSeconds", 1, 31_536_000),
    webhookDisableAfterSeconds: integer(env, "webhookDisableAfterSeconds", 1, 31_536_000),
  };
  if (settings.webhookRetryMaxMs < settings.webhookRetryBaseMs)
    throw new ConfigError("KOPILKA_WEBHOOK_RETRY_MAX_MS must not be less than KOPILKA_WEBHOOK_RETRY_BASE_MS");
  // The sweep would remove notifications whose deliveries are still being retried.
  if (settings.notificationRetentionHours * 3600 <= settings.webhookMaxAgeSeconds)
    throw new ConfigError(
      "KOPILKA_NOTIFICATION_RETENTION_HOURS must exceed KOPILKA_WEBHOOK_MAX_AGE_SECONDS (in hours): deliveries still retried would be swept",
    );
  return settings;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = read(env, "logLevel");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    throw new ConfigError(`KOPILKA_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const jwtSecret = read(env, "jwtSecret");
  if (jwtSecret && jwtSecret.length < 32)
    throw new ConfigError("KOPILKA_JWT_SECRET must be at least 32 characters");
  return {
    port: integer(env, "port", 0, 65535),
    host: read(env, "host"),
    databaseUrl: read(env, "databaseUrl") || undefined,
    dataDir: read(env, "dataDir"),
    poolSize: integer(env, "poolSize", 1, 1000),
    databaseTimeoutMs: integer(env, "databaseTimeoutMs", 100, 600_000),
    jwtSecret: jwtSecret || undefined,
    metricsToken: read(env, "metricsToken") || undefined,
    customerTokenMaxTtlSeconds: integer(env, "customerTokenMaxTtlSeconds", 60, 31_536_000),
    logLevel,
    shutdownDelayMs: integer(env, "shutdownDelayMs", 0, 600_000),
    shutdownGraceMs: integer(env, "shutdownGraceMs", 100, 3_600_000),
    bodyLimitBytes: integer(env, "bodyLimitBytes", 1024, 256 * 1024 * 1024),
    schedulerIntervalSeconds: integer(env, "schedulerIntervalSeconds", 0, 86_400),
    customersPerTransaction: integer(env, "customersPerTransaction", 1, 10_000),
    writeLanes: lanesWithinPool(integer(env, "writeLanes", 1, 256), integer(env, "poolSize", 1, 1000)),
    supportAdjustmentLimit: integer(env, "supportAdjustmentLimit", 1, 1_000_000_000),
    idempotencyRetentionHours: integer(env, "idempotencyRetentionHours", 1, 24 * 366),
    expiringWithinDays: integer(env, "expiringWithinDays", 1, 365),
    ...notificationSettings(env),
    timeZone: ianaTimeZone(env),
    natsUrl: natsUrl(env),
    natsOrderEvents: natsOrderEvents(env),
    natsNotifications: natsNotifications(env),
  };
}

function natsUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = read(env, "natsUrl").trim();
  if (!raw) return undefined;
  for (const server of raw.split(",").map((s) => s.trim())) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server)) {
      throw new ConfigError(
        `KOPILKA_NATS_URL must be nats://host:port or tls://host:port, several separated by commas; got "${server}"`,
      );
    }
  }
  return raw;
}

/** A JetStream stream's name: JetStream refuses names with dots, wildcards, spaces or path separators. */
function streamName(env: NodeJS.ProcessEnv, name: SettingName): string {
  const raw = read(env, name);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw))
    throw new ConfigError(`${SETTINGS[name].env} must be 1-64 characters of A-Z a-z 0-9 _ -, got "${raw}"`);
  return raw;
}

/** Subject tokens separated by dots, without wildcards. */
function subjectTokens(env: NodeJS.ProcessEnv, name: SettingName): string {
  const raw = read(env, name);
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(raw) || raw.length > 200) {
    throw new ConfigError(
      `${SETTINGS[name].env} must be subject tokens of A-Z a-z 0-9 _ - separated by dots (no wildcards), got "${raw}"`,
    );
  }
  return raw;
}

function onOff(env: NodeJS.ProcessEnv, name: SettingName): boolean {
  const raw = read(env, name);
  if (raw !== "on" && raw !== "off")
    throw new ConfigError(`${SETTINGS[name].env} must be on or off, got "${raw}"`);
  return raw === "on";
}

function natsNotifications(env: NodeJS.ProcessEnv): NatsNotificationsConfig | undefined {
  if (!onOff(env, "natsNotifications")) return undefined;
  if (!natsUrl(env)) throw new ConfigError("KOPILKA_NATS_NOTIFICATIONS=on needs KOPILKA_NATS_URL");
  const settings = {
    stream: streamName(env, "natsNotificationsStream"),
    subjectPrefix: subjectTokens(env, "natsNotificationsSubjectPrefix"),
    maxAgeSeconds: integer(env, "natsNotificationsMaxAgeHours", 1, 24 * 366) * 3600,
    duplicateWindowSeconds: integer(env, "natsNotificationsDuplicateWindowSeconds", 31, 86_400),
    deadAfterSeconds: integer(env, "natsNotificationsDeadAfterSeconds", 60, 31_536_000),
  };
  const orderEvents = natsOrderEvents(env);
  if (orderEvents && orderEvents.stream === settings.stream)
    throw new ConfigError(
      "KOPILKA_NATS_NOTIFICATIONS_STREAM must differ from KOPILKA_NATS_ORDER_EVENTS_STREAM",
    );
  return settings;
}

function natsOrderEvents(env: NodeJS.ProcessEnv): NatsOrderEventsConfig | undefined {
  if (!onOff(env, "natsOrderEvents")) return undefined;
  if (!natsUrl(env)) throw new ConfigError("KOPILKA_NATS_ORDER_EVENTS=on needs KOPILKA_NATS_URL");
  const stream = streamName(env, "natsOrderEventsStream");
  const subjectPrefix = subjectTokens(env, "natsOrderEventsSubjectPrefix");
  return {
    stream,
    subjectPrefix,
    partitions: integer(env, "natsOrderEventsPartitions", 1, 1024),
    // A batch is one handleEvents call, as one POST of up to 1,000 events is.
    batchSize: integer(env, "natsOrderEventsBatch", 1, 1000),
    leaseSeconds: integer(env, "natsOrderEventsLeaseSeconds", 2, 3600),
    maxAgeSeconds: integer(env, "natsOrderEventsMaxAgeHours", 1, 24 * 366) * 3600,
  };
}
