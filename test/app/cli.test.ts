import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), "kopilka-cli-"));
const env = {
  ...process.env,
  KOPILKA_DATABASE_URL: "",
  KOPILKA_DATA_DIR: dataDir,
  KOPILKA_LOG_LEVEL: "silent",
};

async function kopilka(...args: string[]) {
  try {
    const { stdout, stderr } = await run("node", ["bin/kopilka.js", ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("the kopilka command", () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("lists its commands, and each has --help", async () => {
    const help = await kopilka("--help");
    expect(help.code).toBe(0);
    for (const command of ["serve", "migrate", "demo", "balance", "adjust", "keys", "tokens"]) {
      expect(help.stdout).toContain(command);
    }
    const adjust = await kopilka("adjust", "--help");
    expect(adjust.stdout).toContain("--reason");
  });

  it("serve --demo and demo load the same number of customers by default, 2,000 as the README says", async () => {
    const serve = await kopilka("serve", "--help");
    const demo = await kopilka("demo", "--help");
    expect(serve.stdout).toMatch(/--demo-customers <n> +how many demo customers \(default: 2000\)/);
    expect(demo.stdout).toMatch(/--customers <n> +how many customers \(default: 2000\)/);
  });

  it("migrates, adjusts with a reason, prints the balance, and refuses bad input by name", async () => {
    expect((await kopilka("migrate")).stdout).toMatch(/Applied: 000001_ledger|up to date/);
    const added = await kopilka(
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
    );
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toContain("Done: 150 bonus points for cust-1");
    expect(
      (
        await kopilka(
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
        )
      ).stdout,
    ).toContain("Already done");
    const balance = await kopilka("balance", "cust-1", "--json");
    expect(JSON.parse(balance.stdout).kinds.bonus.available).toBe(150);
    const noReason = await kopilka("adjust", "cust-1", "--kind", "bonus", "--amount", "5", "--key", "k2");
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain("--reason");
    const tooMuch = await kopilka(
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
    expect(tooMuch.stderr).toContain("INSUFFICIENT_POINTS");
    const badSeller = await kopilka("keys", "create", "--role", "operator", "--name", "x", "--seller", "s-1");
    expect(badSeller.code).toBe(1);
    expect(badSeller.stderr).toContain("--seller");
    const key = await kopilka("keys", "create", "--role", "seller", "--name", "shop", "--seller", "s-1");
    expect(key.stdout).toMatch(/Secret \(shown once\): kpk_/);
  }, 120_000);
});
