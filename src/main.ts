import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import pino from "pino";
import { AccessService } from "./app/access.js";
import { GroupCommitter } from "./app/group-commit.js";
import { LedgerService } from "./app/ledger-service.js";
import { OrderService } from "./app/order-service.js";
import type { Clock } from "./app/ports.js";
import { ProgrammeRules } from "./app/programme-rules.js";
import { ScheduledWork } from "./app/scheduled-work.js";
import type { Config } from "./config.js";
import { buildServer } from "./http/server.js";
import { PostgresApiKeyStore } from "./infra/api-key-store.js";
import { JwtCustomerTokens } from "./infra/customer-tokens.js";
import { type DatabaseHandle, openDatabase } from "./infra/db.js";
import { MonotonicIds } from "./infra/ids.js";
import { PostgresLedgerStore } from "./infra/ledger-store.js";
import { migrate } from "./infra/migrations/migrate.js";
import { PostgresOrderStore } from "./infra/order-store.js";
import { PostgresRunClaims } from "./infra/run-claims.js";
import { startScheduler } from "./infra/scheduler.js";

export const systemClock: Clock = { now: () => new Date() };

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
      onIdleError: (err) => log.warn({ err }, "an idle database connection failed; the pool replaces it"),
    }));
  await migrate(database.db);
  const ids = new MonotonicIds();
  const store = new PostgresLedgerStore(database.db);
  const orderStore = new PostgresOrderStore(database.db, ids);
  const rules = new ProgrammeRules(() => orderStore.configVersions(), config.expiringWithinDays);
  const committer = new GroupCommitter(
    store,
    clock,
    async (now) => ({ now, newId: (prefix) => ids.newId(prefix), policy: await rules.ledgerPolicy(now) }),
    {
      lanes: database.kind === "pglite" ? 1 : config.writeLanes,
      customersPerTransaction: config.customersPerTransaction,
    },
  );
  const ledger = new LedgerService(store, committer, clock, rules, config.timeZone);
  if (!config.jwtSecret)
    log.warn(
      "KOPILKA_JWT_SECRET is not set: customer tokens are signed with a random secret and die with this process",
    );
  const access = new AccessService(
    new PostgresApiKeyStore(database.db, ids),
    new JwtCustomerTokens(config.jwtSecret ?? randomBytes(32).toString("hex")),
    config.supportAdjustmentLimit,
  );
  const orders = new OrderService(orderStore, clock, rules, ledger, committer);
  const scheduledWork = new ScheduledWork(
    store,
    ledger,
    new PostgresRunClaims(database.db),
    clock,
    ids,
    committer,
  );
  let stopScheduler: (() => Promise<void>) | undefined;

  const kopilka = {
    config,
    log,
    clock,
    database,
    ledger,
    orders,
    access,
    scheduledWork,
    async buildServer() {
      return buildServer({
        deps: { ledger, orders, access },
        access,
        ids,
        bodyLimitBytes: config.bodyLimitBytes,
        logger: log,
        ready: async () => {
          try {
            await database.pool.query("select 1");
            return true;
          } catch {
            return false;
          }
        },
      });
    },
    startScheduler() {
      if (config.schedulerIntervalSeconds > 0) {
        stopScheduler = startScheduler(
          scheduledWork,
          clock,
          config.schedulerIntervalSeconds,
          `${hostname()}:${process.pid}`,
          log,
        );
      }
    },
    async close() {
      await stopScheduler?.();
      await committer.drained();
      await database.close();
    },
  };
  return kopilka;
}

export type Kopilka = Awaited<ReturnType<typeof createKopilka>>;
