import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** The service under test runs as its own process, exactly as an operator starts it. */

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../bin/kopilka.js", import.meta.url));

/** Linux's USER_HZ: /proc times are in 1/100 s on every mainstream kernel build. */
const CLOCK_TICKS_PER_SECOND = 100;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `node bin/kopilka.js <args>` to completion and returns its output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `kopilka keys create --role operator --name bench`: the secret the load uses. */
export async function createOperatorKey(env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runCli(["keys", "create", "--role", "operator", "--name", "bench"], env);
  const secret = /Secret \(shown once\): (\S+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || !secret) {
    throw new Error(`kopilka keys create failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
  }
  return secret;
}

export interface ProcessCpu {
  /** User + system CPU seconds the process has used. */
  self: number;
  /** CPU seconds of its children that have exited (for the postmaster: backends that ended). */
  children: number;
}

function readStat(pid: number): { comm: string; ppid: number; cpu: ProcessCpu } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    // Fields after the command: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    const fields = text
      .slice(close + 2)
      .split(" ")
      .map((f) => Number(f));
    const at = (n: number) => fields[n - 3] ?? 0;
    return {
      comm,
      ppid: at(4),
      cpu: {
        self: (at(14) + at(15)) / CLOCK_TICKS_PER_SECOND,
        children: (at(16) + at(17)) / CLOCK_TICKS_PER_SECOND,
      },
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds of each of these processes (absent if gone). */
export function cpuSecondsOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) out.set(pid, stat.cpu.self);
  }
  return out;
}

export function processCpuSeconds(pid: number): number {
  return readStat(pid)?.cpu.self ?? Number.NaN;
}

/**
 * CPU seconds of every PostgreSQL process on this machine (backends, checkpointer, WAL writer…) plus
 * what ended backends left in their parent's account: a difference of two readings is what the server
 * spent in between, whichever database it worked for. NaN where /proc is not there.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  let seen = false;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return Number.NaN;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat || (stat.comm !== "postgres" && stat.comm !== "postmaster")) continue;
    seen = true;
    total += stat.cpu.self + stat.cpu.children;
  }
  return seen ? total : Number.NaN;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line
      .split(/\s+/)
      .slice(1)
      .map((f) => Number(f));
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
    return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** A status field of /proc/<pid>/status in kB (VmHWM: peak resident set; VmRSS: now). */
export function procStatusKb(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match?.[1] ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface RunningService {
  pid: number;
  base: string;
  /** KOPILKA_DATABASE_URL of the service; undefined on PGlite. */
  databaseUrl: string | undefined;
  logPath: string;
  /** Seconds from spawning `kopilka serve` until /ready first answered 200 (polled every 25 ms). */
  readySeconds: number;
  /** Throws if the process has exited (a crash mid-phase makes the phase's numbers meaningless). */
  assertAlive(during: string): void;
  cpuSeconds(): number;
  peakRssKb(): number;
  rssKb(): number;
  stop(): Promise<void>;
}

/** `node bin/kopilka.js serve` on a free loopback port; resolves once /ready answers 200. */
export async function startService(env: NodeJS.ProcessEnv, logPath: string): Promise<RunningService> {
  const port = await freePort();
  const log = createWriteStream(logPath, { flags: "a" });
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [CLI, "serve"], {
    cwd: REPO_ROOT,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("the service did not start");
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the service exited with code ${exited}; see ${logPath}`);
    try {
      const response = await fetch(`${base}/ready`);
      await response.text();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the service did not become ready in 120 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const readySeconds = (performance.now() - spawnedAt) / 1000;
  return {
    pid,
    base,
    readySeconds,
    databaseUrl: env.KOPILKA_DATABASE_URL || undefined,
    logPath,
    assertAlive(during: string) {
      if (exited === undefined) return;
      let tail = "";
      try {
        tail = readFileSync(logPath, "utf8").split("\n").slice(-25).join("\n");
      } catch {
        // No log to show.
      }
      throw new Error(
        `the service exited (code ${exited}) during ${during}; the end of ${logPath}:\n${tail}`,
      );
    },
    cpuSeconds: () => processCpuSeconds(pid),
    peakRssKb: () => procStatusKb(pid, "VmHWM"),
    rssKb: () => procStatusKb(pid, "VmRSS"),
    async stop() {
      if (exited === undefined) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exit;
        clearTimeout(killer);
      }
      log.end();
    },
  };
}
