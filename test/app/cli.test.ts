import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { monthContaining, previousMonth } from "../../src/domain/savings/index.js";
import { openDatabase } from "../../src/infra/db.js";
import { freshDatabase, ON_POSTGRES } from "../support/database.js";

/**
 * The real `kopilka` command, spawned: every command on the embedded database with no service
 * running and while `serve` runs on the same data folder (it then runs them itself, over the control
 * socket), with the same output; and the failures a person can act on in one line, without a stack.
 */
const run = promisify(execFile);
const folders: string[] = [];

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "kopilka-cli-"));
  folders.push(folder);
  return folder;
}

type Env = Record<string, string>;

/** The embedded database in `folder`, no JWT secret set: the data folder keeps one. */
const embedded = (folder: string): Env => ({
  KOPILKA_DATABASE_URL: "",
  KOPILKA_DATA_DIR: folder,
  KOPILKA_JWT_SECRET: "",
  KOPILKA_LOG_LEVEL: "silent",
  KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function kopilka(env: Env, ...args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await run("node", ["bin/kopilka.js", ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** `kopilka serve` on the folder, as a child process, once it listens. */
async function serve(env: Env): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn("node", ["bin/kopilka.js", "serve"], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const started = Date.now();
  while (!output.includes("Kopilka is listening")) {
    if (child.exitCode !== null || Date.now() - started > 60_000)
      throw new Error(`serve did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

/** What differs between two runs of the same commands: ids, secrets, tokens, instants and timings. */
function normalised({ code, stdout, stderr }: Ran) {
  const stable = (text: string) =>
    text
      .replace(/key_[0-9A-Z]{26}/g, "key_…")
      .replace(/kpk_[\w-]{43}/g, "kpk_…")
      .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "<token>")
      .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, "<instant>")
      .replace(/\d{4}-\d{2}-\d{2}/g, "<day>")
      .replace(/\d+s elapsed · ~\d+s left/g, "<time>");
  return { code, stdout: stable(stdout), stderr: stable(stderr) };
}

const balanceOf = async (url: string, customer: string, token: string) =>
  (await fetch(`${url}/v1/customers/${customer}/balance`, { headers: { authorization: `Bearer ${token}` } }))
    .status;

/**
 * Every command that needs the database, with the outcomes either way; `keys revoke` of the key just
 * made. Returns each command's output, in order.
 */
async function everyCommand(env: Env): Promise<Ran[]> {
  const ran: Ran[] = [];
  const step = async (...args: string[]) => {
    const result = await kopilka(env, ...args);
    ran.push(result);
    return result;
  };
  expect((await step("migrate")).stdout).toBe("The database is up to date.\n");
  expect((await step("demo", "--customers", "3", "--seed", "7")).stdout).toMatch(/^Loaded 3 demo customers/);
  expect(await step("demo", "--customers", "3")).toMatchObject({ code: 1 });
  expect((await step("verify")).stdout).toMatch(
    /^The ledger is consistent: [\d,]+ movements; postings sum to 0 \(wallets [\d,]+, sinks [\d,]+, funders -[\d,]+\)\.\n$/,
  );
  const adjust = [
    "adjust",
    "cust-1",
    "--kind",
    "bonus",
    "--amount",
    "150",
    "--reason",
    "goodwill",
    "--key",
    "k1",
  ];
  expect((await step(...adjust)).stdout).toBe("Done: 150 bonus points for cust-1.\n");
  expect((await step(...adjust)).stdout).toBe("Already done: 150 bonus points for cust-1.\n");
  const tooMuch = await step(
    "adjust",
    "cust-1",
    "--kind",
    "bonus",
    "--amount",
    "-500",
    "--reason",
    "oops",
    "--key",
    "k3",
  );
  expect(tooMuch.code).toBe(1);
  expect(tooMuch.stderr).toMatch(/^kopilka: refused: INSUFFICIENT_POINTS: .*\n$/);
  expect(JSON.parse((await step("balance", "cust-1", "--json")).stdout).kinds.bonus.available).toBe(150);
  expect((await step("balance", "cust-1")).stdout).toMatch(/bonus\s+│ 150/);
  const created = await step("keys", "create", "--role", "seller", "--name", "shop", "--seller", "s-1");
  const keyId = /Key id: (key_\w+)/.exec(created.stdout)?.[1] ?? "";
  expect(created.stdout).toMatch(/Secret \(shown once\): kpk_/);
  expect((await step("keys", "list")).stdout).toMatch(new RegExp(`${keyId} │ 'shop' │ 'seller' │ 's-1'`));
  expect(await step("keys", "revoke", keyId)).toMatchObject({
    code: 0,
    stdout: `Revoked API key ${keyId}: it is refused from now on.\n`,
  });
  const again = await step("keys", "revoke", keyId);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(new RegExp(`^kopilka: API key ${keyId} was revoked already, at `));
  const listed = JSON.parse((await step("keys", "list", "--json")).stdout);
  expect(listed).toEqual([expect.objectContaining({ keyId, name: "shop", role: "seller", sellerId: "s-1" })]);
  expect(listed[0].revokedAt).toEqual(expect.any(String));
  // R25: the demo's interest customer (demo-00002) was paid last month; the month before is paid here, once.
  const current = monthContaining(new Date(), "Europe/Moscow").month;
  const last = previousMonth(current);
  const before = previousMonth(last);
  expect((await step("savings", "month", last)).stdout).toMatch(
    new RegExp(`^${last}: [\\d,]+ points paid to 1 account \\(1 with a balance that month\\)\\.\\n$`),
  );
  expect((await step("savings", "month", last, "--customer", "demo-00002")).stdout).toMatch(
    new RegExp(
      `^${last}, demo-00002: [\\d,]+ points, average balance [\\d,.]+ RUB at 12% a year over \\d\\d days, paid `,
    ),
  );
  expect((await step("savings", "month", last, "--customer", "demo-00001")).stdout).toMatch(
    new RegExp(`^${last}, demo-00001: nothing paid`),
  );
  const paid = await step("savings", "pay", before);
  expect(paid.stdout).toMatch(
    new RegExp(`^${before}: paid ([\\d,]+) points to 1 account now; \\1 points to 1 account in all`),
  );
  expect((await step("savings", "pay", before)).stdout).toMatch(
    new RegExp(`^${before}: paid 0 points to 0 accounts now; [\\d,]+ points to 1 account in all`),
  );
  expect(JSON.parse((await step("savings", "month", before, "--json")).stdout)).toMatchObject({
    month: before,
    accounts: 1,
    paidAccounts: 1,
  });
  const notOver = await step("savings", "pay", current);
  expect(notOver.code).toBe(1);
  expect(notOver.stderr).toBe(`kopilka: ${current} is not over yet: a month is paid once it has ended\n`);
  expect((await step("tokens", "create", "cust-1", "--ttl", "600")).stdout).toMatch(/^eyJ/);
  expect((await step("tokens", "revoke", "cust-1", "--reason", "lost phone")).stdout).toMatch(
    /^Tokens issued for cust-1 up to .* are refused from now on\.\n$/,
  );
  expect((await step("managers", "settle", "2026-03")).stdout).toBe(
    "Settled 2026-03 for 0 managers: 0 referral points made available, 0 cancelled.\n",
  );
  const settledAgain = await step("managers", "settle", "2026-03");
  expect(settledAgain.code).toBe(1);
  expect(settledAgain.stderr).toMatch(/^kopilka: month 2026-03 was settled already/);
  expect((await step("effects", "deliver")).stdout).toBe(
    "Delivered 0 cross-customer effects; 0 still waiting.\n",
  );
  return ran;
}

describe("the kopilka command", () => {
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it("lists its commands, each has --help, and --version is package.json's", async () => {
    const env = embedded(dataFolder());
    const help = await kopilka(env, "--help");
    expect(help.code).toBe(0);
    for (const command of [
      "serve",
      "migrate",
      "demo",
      "balance",
      "adjust",
      "keys",
      "tokens",
      "savings",
      "managers",
      "effects",
      "verify",
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect((await kopilka(env, "adjust", "--help")).stdout).toContain("--reason");
    expect((await kopilka(env, "keys", "--help")).stdout).toMatch(/create[\s\S]*list[\s\S]*revoke/);
    expect((await kopilka(env, "tokens", "--help")).stdout).toMatch(/create[\s\S]*revoke/);
    expect((await kopilka(env, "savings", "--help")).stdout).toMatch(/month[\s\S]*pay/);
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(await kopilka(env, "--version")).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("serve --demo and demo load the same number of customers by default, 2,000 as the README says", async () => {
    const env = embedded(dataFolder());
    const serve = await kopilka(env, "serve", "--help");
    const demo = await kopilka(env, "demo", "--help");
    expect(serve.stdout).toMatch(/--demo-customers <n> +how many demo customers \(default: 2000\)/);
    expect(demo.stdout).toMatch(/--customers <n> +how many customers \(default: 2000\)/);
  });

  it("runs every command while serve runs on the data folder, with the output it has without a service", async () => {
    const alone = embedded(dataFolder());
    expect((await kopilka(alone, "migrate")).stdout).toMatch(/^Applied: 000001_ledger/);
    const withoutService = await everyCommand(alone);

    const folder = dataFolder();
    const shared = embedded(folder);
    const service = await serve(shared);
    try {
      expect(statSync(join(folder, "kopilka.sock")).mode & 0o777).toBe(0o600);
      const withService = await everyCommand(shared);
      expect(withService.map(normalised)).toEqual(withoutService.map(normalised));
    } finally {
      await service.stop();
    }
  }, 600_000);

  it("verify exits 1 with the violations printed when a row was corrupted", async () => {
    const folder = dataFolder();
    const env = embedded(folder);
    expect((await kopilka(env, "demo", "--customers", "2")).code).toBe(0);
    const database = await openDatabase({ dataDir: folder });
    try {
      await sql`update balances set available = available + 7
                where (customer_id, kind) = (select customer_id, kind from balances order by 1, 2 limit 1)`.execute(
        database.db,
      );
    } finally {
      await database.close();
    }
    const ran = await kopilka(env, "verify");
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(
      /^balances_match_lots_and_holds: [\w.:-]+\/\w+: available disagree: lots (\d+), postings \1, balances \d+\n[\d,]+ movements; postings sum to 0 /,
    );
    expect(ran.stderr).toBe("kopilka: the ledger is not consistent: 1 violation\n");
  }, 120_000);

  it("signs tokens with the secret the data folder keeps: they work on the service, survive a restart, and die when revoked", async () => {
    const folder = dataFolder();
    const env = embedded(folder);
    // Issued before any service ran: the CLI makes the data folder's secret, the service finds it.
    const before = (await kopilka(env, "tokens", "create", "cust-7")).stdout.trim();
    expect(statSync(join(folder, "jwt-secret")).mode & 0o777).toBe(0o600);
    let service = await serve(env);
    try {
      expect(await balanceOf(service.url, "cust-7", before)).toBe(200);
      const during = (await kopilka(env, "tokens", "create", "cust-8")).stdout.trim();
      expect(await balanceOf(service.url, "cust-8", during)).toBe(200);
      await service.stop();
      service = await serve(env);
      expect(await balanceOf(service.url, "cust-7", before)).toBe(200);
      expect(await balanceOf(service.url, "cust-8", during)).toBe(200);
      // Revoked through the service: refused at once, not after the cache time.
      expect((await kopilka(env, "tokens", "revoke", "cust-8", "--reason", "lost phone")).code).toBe(0);
      expect(await balanceOf(service.url, "cust-8", during)).toBe(401);
      expect(await balanceOf(service.url, "cust-7", before)).toBe(200);
    } finally {
      await service.stop();
    }
  }, 300_000);

  it("says what is wrong in one line, without a stack trace: bad input, a folder in use, no database", async () => {
    const folder = dataFolder();
    const env = embedded(folder);
    const oneLine = (ran: Ran, message: RegExp) => {
      expect(ran.code, ran.stderr).toBe(1);
      expect(ran.stderr).toMatch(message);
      expect(ran.stderr.trim().split("\n")).toHaveLength(1);
      expect(ran.stderr).not.toMatch(/\n\s+at /);
    };
    const noReason = await kopilka(
      env,
      "adjust",
      "cust-1",
      "--kind",
      "bonus",
      "--amount",
      "5",
      "--key",
      "k2",
    );
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("--reason");
    oneLine(
      await kopilka(env, "keys", "create", "--role", "operator", "--name", "x", "--seller", "s-1"),
      /^kopilka: --seller is required with --role seller and only with it\n$/,
    );
    oneLine(
      await kopilka(
        env,
        "adjust",
        "cust-1",
        "--kind",
        "bonus",
        "--amount",
        "0",
        "--reason",
        "oops",
        "--key",
        "k4",
      ),
      /^kopilka: --amount must not be 0\n$/,
    );
    oneLine(
      await kopilka(env, "tokens", "create", "cust-1", "--ttl", "90000"),
      /^kopilka: a customer token lives at most 86400 seconds \(KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS\), not 90000\n$/,
    );
    oneLine(
      await kopilka(env, "keys", "revoke", "key_unknown"),
      /^kopilka: there is no API key key_unknown\n$/,
    );
    // The lock names a live process (this one) that serves no control socket: another command, say.
    writeFileSync(join(folder, "kopilka.lock"), String(process.pid));
    oneLine(
      await kopilka(env, "balance", "cust-1"),
      /^kopilka: the data folder .* is in use by process \d+\n$/,
    );
    oneLine(await kopilka(env, "serve"), /^kopilka: the data folder .* is in use by process \d+\n$/);
    rmSync(join(folder, "kopilka.lock"));
    const unreachable = { ...env, KOPILKA_DATABASE_URL: "postgres://postgres@127.0.0.1:1/kopilka" };
    oneLine(
      await kopilka(unreachable, "keys", "list"),
      /^kopilka: cannot reach the database: .*ECONNREFUSED/,
    );
    oneLine(
      await kopilka(unreachable, "tokens", "create", "cust-1"),
      /^kopilka: set KOPILKA_JWT_SECRET to the server's secret, or the token will not verify\n$/,
    );
    oneLine(
      await kopilka({ ...env, KOPILKA_LOG_LEVEL: "loud" }, "balance", "cust-1"),
      /^kopilka: KOPILKA_LOG_LEVEL/,
    );
  }, 120_000);

  it.runIf(ON_POSTGRES)(
    "runs on PostgreSQL too, where many processes share the database",
    async () => {
      // Created empty: the CLI's migrate applies every migration.
      const database = await freshDatabase({ migrateThrough: 0 });
      const env = { ...embedded(dataFolder()), KOPILKA_DATABASE_URL: database.url ?? "" };
      try {
        expect((await kopilka(env, "migrate")).stdout).toMatch(/^Applied: 000001_ledger/);
        const created = await kopilka(env, "keys", "create", "--role", "readonly", "--name", "reports");
        const keyId = /Key id: (key_\w+)/.exec(created.stdout)?.[1] ?? "";
        expect(JSON.parse((await kopilka(env, "keys", "list", "--json")).stdout)).toEqual([
          expect.objectContaining({ keyId, revokedAt: null }),
        ]);
        expect((await kopilka(env, "keys", "revoke", keyId)).code).toBe(0);
        expect((await kopilka(env, "tokens", "revoke", "cust-1", "--reason", "lost phone")).code).toBe(0);
        const secret = { ...env, KOPILKA_JWT_SECRET: "cli-test-secret-cli-test-secret-0123" };
        expect((await kopilka(secret, "tokens", "create", "cust-1")).stdout).toMatch(/^eyJ/);
      } finally {
        await database.drop();
      }
    },
    120_000,
  );
});
