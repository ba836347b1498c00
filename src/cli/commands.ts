import { type Static, Type } from "typebox";
import { API_ROLES } from "../app/access.js";
import { demoCustomerId, loadDemo, loadShowcase, SHOWCASE } from "../app/demo.js";
import { DEMO_PROMO_CODE, loadProgrammesDemo } from "../app/demo-programmes.js";
import { POINT_KINDS } from "../domain/kinds.js";
import type { DatabaseHandle } from "../infra/db.js";
import { migrate } from "../infra/migrations/migrate.js";
import type { Kopilka } from "../main.js";
import { CommandFailure, expectedFailureMessage, printFailure } from "./failures.js";
import { progressBar } from "./progress.js";

const oneOf = <T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values] });

/**
 * Every command that needs the database, as the CLI parsed it: run here, or sent to the service that
 * runs on the embedded data folder (src/cli/control.ts), which checks what it receives against this.
 */
export const CliCommandSchema = Type.Union([
  Type.Object({ name: Type.Literal("migrate") }),
  Type.Object({ name: Type.Literal("demo"), customers: Type.Integer(), seed: Type.Integer() }),
  Type.Object({ name: Type.Literal("balance"), customerId: Type.String(), json: Type.Boolean() }),
  Type.Object({
    name: Type.Literal("adjust"),
    customerId: Type.String(),
    kind: oneOf(POINT_KINDS),
    amount: Type.Integer(),
    reason: Type.String(),
    idempotencyKey: Type.String(),
    requestId: Type.String(),
    actor: Type.String(),
  }),
  Type.Object({
    name: Type.Literal("keys create"),
    role: oneOf(API_ROLES),
    keyName: Type.String(),
    sellerId: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Object({ name: Type.Literal("keys list"), json: Type.Boolean() }),
  Type.Object({ name: Type.Literal("keys revoke"), keyId: Type.String() }),
  Type.Object({
    name: Type.Literal("savings month"),
    month: Type.String(),
    customerId: Type.Union([Type.String(), Type.Null()]),
    json: Type.Boolean(),
  }),
  Type.Object({ name: Type.Literal("savings pay"), month: Type.String() }),
  Type.Object({
    name: Type.Literal("tokens revoke"),
    customerId: Type.String(),
    reason: Type.String(),
    idempotencyKey: Type.String(),
    requestId: Type.String(),
    actor: Type.String(),
  }),
  Type.Object({ name: Type.Literal("managers settle"), month: Type.String(), claimer: Type.String() }),
  Type.Object({ name: Type.Literal("effects deliver") }),
  Type.Object({ name: Type.Literal("verify") }),
]);
export type CliCommand = Static<typeof CliCommandSchema>;

/** What a command runs against: a Kopilka this process opens for it, or the running service's own. */
export interface CommandTarget {
  withKopilka<T>(work: (kopilka: Kopilka) => Promise<T>): Promise<T>;
  /** The database alone: `migrate` must see what is applied before Kopilka would apply it. */
  withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T>;
}

/** Where a command writes: this process's terminal, or the connection of the CLI a service runs it for. */
export interface CommandOutput {
  console: Console;
  /** Where the progress bar goes: redrawn in place on a terminal, a line every 10% elsewhere. */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function hasCustomers(k: Kopilka): Promise<boolean> {
  const row = await k.database.db.selectFrom("customers").select("customer_id").limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function loadDemoData(k: Kopilka, customers: number, seed: number, out: CommandOutput) {
  const result = await loadDemo(k.ledger, {
    customers,
    seed,
    now: k.clock.now(),
    onProgress: progressBar("loading demo customers", out.progress),
  });
  await loadShowcase(k, k.config.timeZone);
  const programmes = await loadProgrammesDemo(k, { firstFreeIndex: result.customers, now: k.clock.now() });
  out.console.log(
    `Loaded ${result.customers} demo customers with ${result.steps} ledger operations over the past year.\n` +
      `Savings: ${SHOWCASE.interestCustomer} earns interest, ${SHOWCASE.cashbackCustomer} cashback on order ${SHOWCASE.orderId}, ` +
      `whose reviews are approved (${SHOWCASE.approvedReviewId}) and awaiting moderation (${SHOWCASE.awaitingReviewId}).\n` +
      `Invites and managers: ${demoCustomerId(0)} invited ${programmes.customers - 1} friends and is a manager with promo code ${DEMO_PROMO_CODE}.`,
  );
}

const day = (at: Date | null) => at?.toISOString().slice(0, 10) ?? "";
const count = (n: number | bigint) => n.toLocaleString("en-US");
const accounts = (n: number) => `${count(n)} account${n === 1 ? "" : "s"}`;
const roubles = (kop: number) => `${count(Math.floor(kop / 100))}.${String(kop % 100).padStart(2, "0")} RUB`;

/** Runs one command; a failure the person can act on is a CommandFailure. */
export async function runCommand(
  command: CliCommand,
  target: CommandTarget,
  out: CommandOutput,
): Promise<void> {
  const { console } = out;
  switch (command.name) {
    case "migrate":
      return target.withDatabase(async (database) => {
        const { applied } = await migrate(database.db);
        console.log(applied.length > 0 ? `Applied: ${applied.join(", ")}` : "The database is up to date.");
      });
    case "demo":
      return target.withKopilka(async (k) => {
        if (await hasCustomers(k)) {
          throw new CommandFailure(
            "the database already has customers; demo data goes into an empty database only",
          );
        }
        await loadDemoData(k, command.customers, command.seed, out);
      });
    case "balance":
      return target.withKopilka(async (k) => {
        const balance = await k.ledger.balance(command.customerId);
        if (command.json) {
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
    case "adjust":
      return target.withKopilka(async (k) => {
        const { customerId, kind, amount, reason } = command;
        const result = await k.ledger.adjust(
          customerId,
          { kind, amount, reason },
          {
            idempotencyKey: command.idempotencyKey,
            fingerprint: JSON.stringify(["cli-adjust", customerId, kind, amount, reason]),
            requestId: command.requestId,
            actor: command.actor,
          },
        );
        if (!result.ok) throw new CommandFailure(`refused: ${result.code}: ${result.message}`);
        console.log(
          `${result.replayed ? "Already done" : "Done"}: ${amount} ${kind} points for ${customerId}.`,
        );
      });
    case "savings month":
      return target.withKopilka(async (k) => {
        const report = await k.savings.monthReport(command.month, command.customerId ?? undefined);
        if (command.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        const all = `${command.month}: ${count(report.points)} points paid to ${accounts(report.paidAccounts)} (${count(report.accounts)} with a balance that month)`;
        const one = "customer" in report ? report.customer : undefined;
        if (!one) return console.log(`${all}.`);
        console.log(
          one.paidAt === null
            ? `${command.month}, ${one.customerId}: nothing paid (no balance that month, a cashback account, or not paid yet); ${all}.`
            : `${command.month}, ${one.customerId}: ${count(one.points)} points, average balance ${roubles(one.averageBalance)} at ${(one.rateBp ?? 0) / 100}% a year over ${one.days} days, paid ${one.paidAt}; ${all}.`,
        );
      });
    case "savings pay":
      return target.withKopilka(async (k) => {
        const paid = await k.savings.payAgain(command.month);
        if (!paid.ok) throw new CommandFailure(paid.message);
        const report = await k.savings.monthReport(command.month);
        console.log(
          `${command.month}: paid ${count(paid.points)} points to ${accounts(paid.accounts)} now; ` +
            `${count(report.points)} points to ${accounts(report.paidAccounts)} in all (a month pays each account once).`,
        );
      });
    case "keys create":
      return target.withKopilka(async (k) => {
        const key = await k.access.createKey({
          name: command.keyName,
          role: command.role,
          sellerId: command.sellerId,
        });
        console.log(`Key id: ${key.keyId}\nSecret (shown once): ${key.secret}`);
      });
    case "keys list":
      return target.withKopilka(async (k) => {
        const keys = await k.access.listKeys();
        if (command.json) {
          console.log(JSON.stringify(keys, null, 2));
          return;
        }
        if (keys.length === 0) {
          console.log("No API keys yet: kopilka keys create --role … --name … makes one.");
          return;
        }
        console.table(
          Object.fromEntries(
            keys.map((key) => [
              key.keyId,
              {
                name: key.name,
                role: key.role,
                seller: key.sellerId ?? "",
                created: day(key.createdAt),
                revoked: day(key.revokedAt),
              },
            ]),
          ),
        );
      });
    case "keys revoke":
      return target.withKopilka(async (k) => {
        const revocation = await k.access.revokeKey(command.keyId);
        if (revocation.outcome === "unknown")
          throw new CommandFailure(`there is no API key ${command.keyId}`);
        if (revocation.outcome === "already revoked") {
          throw new CommandFailure(
            `API key ${command.keyId} was revoked already, at ${revocation.revokedAt.toISOString()}`,
          );
        }
        console.log(`Revoked API key ${command.keyId}: it is refused from now on.`);
      });
    case "tokens revoke":
      return target.withKopilka(async (k) => {
        const { customerId, reason } = command;
        const result = await k.access.revokeCustomerTokens(customerId, reason, {
          idempotencyKey: command.idempotencyKey,
          fingerprint: JSON.stringify(["cli-tokens-revoke", customerId, reason]),
          requestId: command.requestId,
          actor: command.actor,
        });
        if (!result.ok) throw new CommandFailure(`refused: ${result.code}: ${result.message}`);
        console.log(
          `Tokens issued for ${customerId} up to ${result.value.revokedBefore} are refused from now on.`,
        );
      });
    case "managers settle":
      return target.withKopilka(async (k) => {
        let run: Awaited<ReturnType<typeof k.managers.settleMonth>>;
        try {
          run = await k.managers.settleMonth(command.month, command.claimer);
        } catch (error) {
          if (error instanceof Error && /not over/.test(error.message))
            throw new CommandFailure(error.message);
          throw error;
        }
        if (!run.claimed) {
          throw new CommandFailure(
            `month ${command.month} was settled already, or another instance is settling it (scheduled_runs)`,
          );
        }
        console.log(
          `Settled ${command.month} for ${run.customers} managers: ${run.madeAvailable} referral points made available, ${run.cancelled} cancelled.`,
        );
      });
    case "effects deliver":
      return target.withKopilka(async (k) => {
        const delivered = await k.effects.deliverPending();
        const { count } = await k.effects.backlog();
        console.log(`Delivered ${delivered} cross-customer effects; ${count} still waiting.`);
      });
    case "verify":
      return target.withKopilka(async (k) => {
        const report = await k.finance.verify();
        const { wallets, sinks, funders, total } = report.postings;
        const balance = `wallets ${count(wallets)}, sinks ${count(sinks)}, funders ${count(funders)}`;
        if (report.ok) {
          console.log(
            `The ledger is consistent: ${count(report.movements)} movements; postings sum to 0 (${balance}).`,
          );
          return;
        }
        for (const v of report.violations) console.log(`${v.check}: ${v.message}`);
        console.log(`${count(report.movements)} movements; postings sum to ${count(total)} (${balance}).`);
        const n = report.violations.length;
        throw new CommandFailure(
          `the ledger is not consistent: ${report.truncated ? `more than ${n} violations` : `${n} violation${n === 1 ? "" : "s"}`}`,
        );
      });
  }
}

/**
 * Runs a command and says how it ended, exit code 0 or 1, its failure written to `out` as the CLI
 * writes it; `onBug` is told about failures that are not expected ones.
 */
export async function runReportingFailure(
  command: CliCommand,
  target: CommandTarget,
  out: CommandOutput,
  onBug: (error: unknown) => void = () => {},
): Promise<number> {
  try {
    await runCommand(command, target, out);
    return 0;
  } catch (error) {
    printFailure(error, out.console);
    if (expectedFailureMessage(error) === undefined) onBug(error);
    return 1;
  }
}
