import { randomUUID } from "node:crypto";
import { Command, InvalidArgumentError, Option } from "commander";
import { API_ROLES, type ApiRole, customerTokenLifetimeRefusal } from "../app/access.js";
import { demoCustomerId, loadDemo } from "../app/demo.js";
import { ConfigError, loadConfig } from "../config.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import { migrate } from "../infra/migrations/migrate.js";
import { configuredCustomerTokens, createKopilka, type Kopilka } from "../main.js";
import { progressBar } from "./progress.js";
import { exitGracefullyOnSignals } from "./shutdown.js";

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
/** How many customers `serve --demo` and `demo` load unless told otherwise. */
const DEMO_CUSTOMERS = 2000;

function wholeNumber(name: string, min: number, max: number) {
  return (raw: string) => {
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };
}

function customerId(raw: string) {
  if (!ID.test(raw)) throw new InvalidArgumentError("a customer id is 1-64 of A-Z a-z 0-9 _ . : -");
  return raw;
}

/** Opens Kopilka with quiet logs, runs `work`, closes it whatever happens. */
async function withKopilka<T>(work: (k: Kopilka) => Promise<T>, logLevel = "warn"): Promise<T> {
  const config = loadConfig({ KOPILKA_LOG_LEVEL: logLevel, ...process.env });
  const kopilka = await createKopilka(config);
  try {
    return await work(kopilka);
  } finally {
    await kopilka.close();
  }
}

async function hasCustomers(k: Kopilka): Promise<boolean> {
  const row = await k.database.db.selectFrom("customers").select("customer_id").limit(1).executeTakeFirst();
  return row !== undefined;
}

async function runDemo(k: Kopilka, customers: number, seed: number) {
  const result = await loadDemo(k.ledger, {
    customers,
    seed,
    now: k.clock.now(),
    onProgress: progressBar("loading demo customers"),
  });
  console.log(
    `Loaded ${result.customers} demo customers with ${result.steps} ledger operations over the past year.`,
  );
}

const program = new Command()
  .name("kopilka")
  .description(
    "Kopilka: a loyalty-points engine for marketplaces. Configuration comes from the environment (see README).",
  )
  .showHelpAfterError();

program
  .command("serve")
  .description("Start the HTTP API and the scheduled work (migrates the database first)")
  .option("--demo", "if the database has no customers yet, load demo data and print keys to try the API with")
  .option(
    "--demo-customers <n>",
    "how many demo customers",
    wholeNumber("--demo-customers", 1, 1_000_000),
    DEMO_CUSTOMERS,
  )
  .action(async (options: { demo?: boolean; demoCustomers: number }) => {
    const config = loadConfig();
    const kopilka = await createKopilka(config);
    let tryIt: string[] = [];
    if (options.demo && !(await hasCustomers(kopilka))) {
      await runDemo(kopilka, options.demoCustomers, 1);
      const operator = await kopilka.access.createKey({
        name: "demo operator",
        role: "operator",
        sellerId: null,
      });
      const customer = demoCustomerId(0);
      const ttlSeconds = Math.min(86_400, config.customerTokenMaxTtlSeconds);
      const token = await kopilka.access.issueCustomerToken(customer, ttlSeconds);
      const base = `http://localhost:${config.port}`;
      tryIt = [
        `Operator API key (shown once): ${operator.secret}`,
        `Customer token for ${customer} (${Math.round(ttlSeconds / 360) / 10} h): ${token}`,
        `  curl -H "Authorization: Bearer ${operator.secret}" "${base}/v1/customers/${customer}/balance"`,
        `  curl -H "Authorization: Bearer ${token}" "${base}/v1/customers/${customer}/history?limit=5"`,
      ];
    }
    const server = await kopilka.buildServer();
    // The demo prints an operator key: it listens on this machine only unless HOST says otherwise.
    const host = options.demo && process.env.HOST === undefined ? "127.0.0.1" : config.host;
    await server.listen({ port: config.port, host });
    kopilka.startScheduler();
    const base = `http://localhost:${config.port}`;
    console.log(
      [
        "",
        `Kopilka is listening on ${base} (${kopilka.database.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL"})`,
        `  API docs:  ${base}/docs`,
        `  OpenAPI:   ${base}/openapi.json`,
        `  Health:    ${base}/health, ${base}/ready`,
        ...tryIt,
        "",
      ].join("\n"),
    );
    exitGracefullyOnSignals(kopilka, server);
  });

program
  .command("migrate")
  .description("Apply the database migrations this build carries, and stop")
  .action(async () => {
    const config = loadConfig({ KOPILKA_LOG_LEVEL: "warn", ...process.env });
    const { openDatabase } = await import("../infra/db.js");
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      const { applied } = await migrate(database.db);
      console.log(applied.length > 0 ? `Applied: ${applied.join(", ")}` : "The database is up to date.");
    } finally {
      await database.close();
    }
  });

program
  .command("demo")
  .description("Load demo data: customers with a year of purchases, spends, returns, reviews and expiry")
  .option("--customers <n>", "how many customers", wholeNumber("--customers", 1, 1_000_000), DEMO_CUSTOMERS)
  .option(
    "--seed <n>",
    "random seed; the same seed loads the same data",
    wholeNumber("--seed", 0, 2 ** 31),
    1,
  )
  .action(async (options: { customers: number; seed: number }) => {
    await withKopilka(async (k) => {
      if (await hasCustomers(k)) {
        console.error("The database already has customers; demo data goes into an empty database only.");
        process.exitCode = 1;
        return;
      }
      await runDemo(k, options.customers, options.seed);
    });
  });

program
  .command("balance")
  .description("Print a customer's balance per kind (R6)")
  .argument("<customerId>", "the customer id", customerId)
  .option("--json", "print JSON")
  .action(async (id: string, options: { json?: boolean }) => {
    await withKopilka(async (k) => {
      const balance = await k.ledger.balance(id);
      if (options.json) {
        console.log(JSON.stringify(balance, null, 2));
        return;
      }
      console.table(
        Object.fromEntries(
          Object.entries(balance.kinds).map(([kind, b]) => [
            kind,
            {
              available: b.available,
              pending: b.pending,
              held: b.held,
              debt: b.debt,
              [`expiring in ${b.expiringSoon.withinDays}d`]: b.expiringSoon.amount,
              nearest: b.expiringSoon.nearestDate?.slice(0, 10) ?? "",
            },
          ]),
        ),
      );
    });
  });

program
  .command("adjust")
  .description("R34: add (positive) or remove (negative) points by hand, with a reason")
  .argument("<customerId>", "the customer id", customerId)
  .addOption(new Option("--kind <kind>", "point kind").choices(POINT_KINDS).makeOptionMandatory())
  .requiredOption(
    "--amount <n>",
    "points; negative removes",
    wholeNumber("--amount", -1_000_000_000, 1_000_000_000),
  )
  .requiredOption("--reason <text>", "why (mandatory, audited)")
  .requiredOption(
    "--key <idempotencyKey>",
    "an idempotency key: running the same command again changes nothing",
  )
  .action(async (id: string, options: { kind: PointKind; amount: number; reason: string; key: string }) => {
    if (options.amount === 0) throw new InvalidArgumentError("--amount must not be 0");
    if (options.reason.trim().length < 3)
      throw new InvalidArgumentError("--reason must say why (3 characters or more)");
    await withKopilka(async (k) => {
      const result = await k.ledger.adjust(
        id,
        { kind: options.kind, amount: options.amount, reason: options.reason },
        {
          idempotencyKey: options.key,
          fingerprint: JSON.stringify(["cli-adjust", id, options.kind, options.amount, options.reason]),
          requestId: `cli-${Date.now()}`,
          actor: `cli:${process.env.USER ?? "unknown"}`,
        },
      );
      if (!result.ok) {
        console.error(`Refused: ${result.code}: ${result.message}`);
        process.exitCode = 1;
        return;
      }
      console.log(
        `${result.replayed ? "Already done" : "Done"}: ${options.amount} ${options.kind} points for ${id}.`,
      );
    });
  });

const keys = program.command("keys").description("API keys");
keys
  .command("create")
  .description("Create an API key; the secret is printed once and stored only as a hash")
  .addOption(new Option("--role <role>", "what the key may do").choices(API_ROLES).makeOptionMandatory())
  .requiredOption("--name <name>", "who or what uses the key")
  .option("--seller <sellerId>", "for --role seller: the seller the key acts for")
  .action(async (options: { role: ApiRole; name: string; seller?: string }) => {
    if ((options.role === "seller") !== (options.seller !== undefined)) {
      throw new InvalidArgumentError("--seller is required with --role seller and only with it");
    }
    if (options.seller !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.seller)) {
      throw new InvalidArgumentError("--seller is 1-64 of A-Z a-z 0-9 _ . -");
    }
    await withKopilka(async (k) => {
      const key = await k.access.createKey({
        name: options.name,
        role: options.role,
        sellerId: options.seller ?? null,
      });
      console.log(`Key id: ${key.keyId}\nSecret (shown once): ${key.secret}`);
    });
  });

const tokens = program.command("tokens").description("Customer tokens");
tokens
  .command("create")
  .description(
    "Issue a customer token that reads only that customer's balance and history (needs KOPILKA_JWT_SECRET)",
  )
  .argument("<customerId>", "the customer id", customerId)
  .option(
    "--ttl <seconds>",
    "lifetime in seconds, at most KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS",
    wholeNumber("--ttl", 60, 31_536_000),
    3600,
  )
  .action(async (id: string, options: { ttl: number }) => {
    const customerTokens = configuredCustomerTokens(loadConfig());
    if (!customerTokens) {
      throw new InvalidArgumentError(
        "set KOPILKA_JWT_SECRET to the server's secret, or the token will not verify",
      );
    }
    const refused = customerTokenLifetimeRefusal(customerTokens, options.ttl);
    if (refused) throw new InvalidArgumentError(refused.message);
    console.log(await customerTokens.issue(id, options.ttl));
  });
tokens
  .command("revoke")
  .description(
    "Refuse every token issued for the customer up to now (tokens issued later work); audited with --reason",
  )
  .argument("<customerId>", "the customer id", customerId)
  .requiredOption("--reason <text>", "why (mandatory, audited)")
  .action(async (id: string, options: { reason: string }) => {
    if (options.reason.trim().length < 3)
      throw new InvalidArgumentError("--reason must say why (3 characters or more)");
    await withKopilka(async (k) => {
      const result = await k.access.revokeCustomerTokens(id, options.reason, {
        idempotencyKey: `cli-${randomUUID()}`,
        fingerprint: JSON.stringify(["cli-tokens-revoke", id, options.reason]),
        requestId: `cli-${Date.now()}`,
        actor: `cli:${process.env.USER ?? "unknown"}`,
      });
      if (!result.ok) throw new Error(`revocation refused: ${result.message}`);
      console.log(`Tokens issued for ${id} up to ${result.value.revokedBefore} are refused from now on.`);
    });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof InvalidArgumentError) {
    console.error(`kopilka: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
