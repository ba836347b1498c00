import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { API_ROLES, type ApiRole, CUSTOMER_ID, customerTokenLifetimeRefusal } from "../app/access.js";
import { demoCustomerId } from "../app/demo.js";
import { type Config, loadConfig } from "../config.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import { isInMemory } from "../infra/data-folder.js";
import { openDatabase } from "../infra/db.js";
import { configuredCustomerTokens, createKopilka } from "../main.js";
import {
  type CliCommand,
  type CommandOutput,
  type CommandTarget,
  hasCustomers,
  loadDemoData,
  runReportingFailure,
} from "./commands.js";
import { controlSocketPath, runInService, serveCommands } from "./control.js";
import { printFailure } from "./failures.js";
import { exitGracefullyOnSignals } from "./shutdown.js";

/** How many customers `serve --demo` and `demo` load unless told otherwise. */
const DEMO_CUSTOMERS = 2000;
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

function wholeNumber(name: string, min: number, max: number) {
  return (raw: string) => {
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };
}

function customerId(raw: string) {
  if (!CUSTOMER_ID.test(raw)) throw new InvalidArgumentError("a customer id is 1-64 of A-Z a-z 0-9 _ . : -");
  return raw;
}

function monthOf(raw: string) {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(raw))
    throw new InvalidArgumentError("a month is YYYY-MM, e.g. 2026-11");
  return raw;
}

function reasonOf(raw: string) {
  if (raw.trim().length < 3) throw new InvalidArgumentError("--reason must say why (3 characters or more)");
  return raw;
}

/**
 * The configuration, with only errors logged unless KOPILKA_LOG_LEVEL says otherwise, and to stderr:
 * stdout is the command's output (`--json` included). The service's warnings (a random JWT secret on
 * PostgreSQL, say) are about serving, not about a command.
 */
const commandConfig = () => loadConfig({ KOPILKA_LOG_LEVEL: "error", ...process.env });
const commandLogger = (config: Config) => pino({ level: config.logLevel }, pino.destination(2));

/** Who runs the command, and a request id: what every write records (R34 audit). */
const cliRequest = () => ({ requestId: `cli-${Date.now()}`, actor: `cli:${process.env.USER ?? "unknown"}` });

const terminalOutput: CommandOutput = { console, progress: process.stderr };

/** Opens Kopilka (or only the database) for one command and closes it whatever happens. */
function openedHere(config: Config): CommandTarget {
  return {
    async withKopilka(work) {
      const kopilka = await createKopilka(config, { logger: commandLogger(config) });
      try {
        return await work(kopilka);
      } finally {
        await kopilka.close();
      }
    },
    async withDatabase(work) {
      const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      try {
        return await work(database);
      } finally {
        await database.close();
      }
    },
  };
}

/**
 * Runs a command that needs the database: in the service running on the embedded data folder when
 * there is one (PGlite lets one process open the folder), else in this process. Same output either way.
 */
async function execute(command: CliCommand) {
  const config = commandConfig();
  const socketPath =
    config.databaseUrl || isInMemory(config.dataDir) ? undefined : controlSocketPath(config.dataDir);
  const inService = socketPath === undefined ? undefined : await runInService(socketPath, command);
  process.exitCode = inService ?? (await runReportingFailure(command, openedHere(config), terminalOutput));
}

const program = new Command()
  .name("kopilka")
  .description(
    "Kopilka: a loyalty-points engine for marketplaces. Configuration comes from the environment (see README).",
  )
  .version(version)
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
    const embedded = kopilka.database.kind === "pglite" && !isInMemory(config.dataDir);
    // Up before the demo loads, so that CLI commands run here from the start rather than fail on the lock.
    const socketPath = embedded ? controlSocketPath(config.dataDir) : undefined;
    const control = socketPath
      ? await serveCommands(socketPath, kopilka).catch((err: unknown) => {
          kopilka.log.warn(
            { err },
            "no control socket: CLI commands cannot reach this service while it runs",
          );
          return undefined;
        })
      : undefined;
    if (embedded && !socketPath) {
      kopilka.log.warn(
        "no control socket on Windows or for a data folder path this long: CLI commands cannot reach this service while it runs",
      );
    }
    const server = await kopilka.buildServer();
    // From here on a signal shuts down cleanly (PGlite closed), also while the demo loads; closing
    // stops both ways in, HTTP and the control socket, and waits for what each has in flight.
    exitGracefullyOnSignals(kopilka, { close: () => Promise.all([server.close(), control?.close()]) });
    let tryIt: string[] = [];
    if (options.demo && !(await hasCustomers(kopilka))) {
      await loadDemoData(kopilka, options.demoCustomers, 1, terminalOutput);
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
        `  curl -H "Authorization: Bearer ${token}" "${base}/v1/customers/${customer}/savings"`,
        `  curl -H "Authorization: Bearer ${operator.secret}" "${base}/v1/reviews/unmoderated"`,
      ];
    }
    // The demo prints an operator key: it listens on this machine only unless HOST says otherwise.
    const host = options.demo && process.env.HOST === undefined ? "127.0.0.1" : config.host;
    await server.listen({ port: config.port, host });
    kopilka.startScheduler();
    await kopilka.startNotificationsToNats();
    await kopilka.startOrderEventsFromNats();
    const base = `http://localhost:${config.port}`;
    console.log(
      [
        "",
        `Kopilka is listening on ${base} (${kopilka.database.kind === "pglite" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL"})`,
        `  API docs:  ${base}/docs`,
        `  OpenAPI:   ${base}/openapi.json`,
        `  Health:    ${base}/health, ${base}/ready`,
        ...(control ? ["  CLI:       kopilka commands run in this service while it runs"] : []),
        ...tryIt,
        "",
      ].join("\n"),
    );
  });

program
  .command("migrate")
  .description("Apply the database migrations this build carries, and stop")
  .action(() => execute({ name: "migrate" }));

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
  .action((options: { customers: number; seed: number }) => execute({ name: "demo", ...options }));

program
  .command("balance")
  .description("Print a customer's balance per kind (R6)")
  .argument("<customerId>", "the customer id", customerId)
  .option("--json", "print JSON")
  .action((id: string, options: { json?: boolean }) =>
    execute({ name: "balance", customerId: id, json: options.json === true }),
  );

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
  .requiredOption("--reason <text>", "why (mandatory, audited)", reasonOf)
  .requiredOption(
    "--key <idempotencyKey>",
    "an idempotency key: running the same command again changes nothing",
  )
  .action((id: string, options: { kind: PointKind; amount: number; reason: string; key: string }) => {
    if (options.amount === 0) throw new InvalidArgumentError("--amount must not be 0");
    return execute({
      name: "adjust",
      customerId: id,
      kind: options.kind,
      amount: options.amount,
      reason: options.reason,
      idempotencyKey: options.key,
      ...cliRequest(),
    });
  });

const savings = program.command("savings").description("R25: the savings accounts' monthly interest");
savings
  .command("month")
  .description("What a month paid: in all, or to one account with --customer (reads only)")
  .argument("<month>", "the month, YYYY-MM in KOPILKA_TIME_ZONE", monthOf)
  .option("--customer <customerId>", "one account", customerId)
  .option("--json", "print JSON")
  .action((month: string, options: { customer?: string; json?: boolean }) =>
    execute({
      name: "savings month",
      month,
      customerId: options.customer ?? null,
      json: options.json === true,
    }),
  );
savings
  .command("pay")
  .description(
    "Pay a month that is over to every account not paid for it yet (as the scheduler does); paying twice pays once",
  )
  .argument("<month>", "the month, YYYY-MM in KOPILKA_TIME_ZONE", monthOf)
  .action((month: string) => execute({ name: "savings pay", month }));

const keys = program.command("keys").description("API keys");
keys
  .command("create")
  .description("Create an API key; the secret is printed once and stored only as a hash")
  .addOption(new Option("--role <role>", "what the key may do").choices(API_ROLES).makeOptionMandatory())
  .requiredOption("--name <name>", "who or what uses the key")
  .option("--seller <sellerId>", "for --role seller: the seller the key acts for")
  .action((options: { role: ApiRole; name: string; seller?: string }) => {
    if ((options.role === "seller") !== (options.seller !== undefined)) {
      throw new InvalidArgumentError("--seller is required with --role seller and only with it");
    }
    if (options.seller !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.seller)) {
      throw new InvalidArgumentError("--seller is 1-64 of A-Z a-z 0-9 _ . -");
    }
    return execute({
      name: "keys create",
      role: options.role,
      keyName: options.name,
      sellerId: options.seller ?? null,
    });
  });
keys
  .command("list")
  .description("List the API keys: id, name, role, seller, when created and revoked (never the secrets)")
  .option("--json", "print JSON")
  .action((options: { json?: boolean }) => execute({ name: "keys list", json: options.json === true }));
keys
  .command("revoke")
  .description("Revoke an API key: it is refused from then on (exit code 1 if there was nothing to revoke)")
  .argument("<keyId>", "the key id (key_…), as keys create and keys list print it")
  .action((keyId: string) => execute({ name: "keys revoke", keyId }));

const tokens = program.command("tokens").description("Customer tokens");
tokens
  .command("create")
  .description(
    "Issue a customer token that reads only that customer's balance and history; signed here with the secret alone (KOPILKA_JWT_SECRET, or the embedded database's in its data folder)",
  )
  .argument("<customerId>", "the customer id", customerId)
  .option(
    "--ttl <seconds>",
    "lifetime in seconds, at most KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS",
    wholeNumber("--ttl", 60, 31_536_000),
    3600,
  )
  .action(async (id: string, options: { ttl: number }) => {
    const customerTokens = configuredCustomerTokens(commandConfig());
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
  .requiredOption("--reason <text>", "why (mandatory, audited)", reasonOf)
  .action((id: string, options: { reason: string }) =>
    execute({
      name: "tokens revoke",
      customerId: id,
      reason: options.reason,
      // A revocation run again is a new revocation: it refuses the tokens issued in between too.
      idempotencyKey: `cli-${randomUUID()}`,
      ...cliRequest(),
    }),
  );

const managers = program.command("managers").description("R24 manager programme");
managers
  .command("settle")
  .description(
    "Settle a month now (the scheduler does it on its first round after the month ends): referral points become available where the manager's own purchases reached the threshold, cancelled elsewhere; once per month (exit code 1 if it was settled already)",
  )
  .argument("<month>", "YYYY-MM, over, in KOPILKA_TIME_ZONE", monthOf)
  .action((month: string) => execute({ name: "managers settle", month, claimer: cliRequest().actor }));

program
  .command("effects")
  .description("Cross-customer effects (R23, R24)")
  .command("deliver")
  .description(
    "Apply the effects still waiting (invite rewards, referral points) in their customers' own work now",
  )
  .action(() => execute({ name: "effects deliver" }));

program
  .command("verify")
  .description(
    "Reconcile the ledger (R32): every movement nets to zero, all accounts sum to zero, balances equal lots and holds, funders match their postings; exit code 1 with the violations printed (reads every movement)",
  )
  .action(() => execute({ name: "verify" }));

program.parseAsync(process.argv).catch((err: unknown) => {
  printFailure(err, console);
  process.exit(1);
});
