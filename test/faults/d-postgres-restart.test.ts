import { existsSync, readdirSync, readFileSync } from "node:fs";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { describeLoad, runLoad, verifyRun } from "./scenario.js";
import {
  createOperatorKeyWithCli,
  httpCall,
  IN_FAULT_SUITE,
  log,
  PG_URL,
  Random,
  runCommand,
  SEED,
  SERVICE_APPLICATION_NAME,
  ServiceProcess,
  SHORT,
  scenarioDatabase,
  sleep,
  tableCounts,
  waitForPostgres,
} from "./support.js";

const SKIP_RESTART = process.env.KOPILKA_FAULTS_SKIP_RESTART === "1";

/**
 * The cluster that serves KOPILKA_DATABASE_URL: KOPILKA_FAULTS_PG_VERSION / KOPILKA_FAULTS_PG_CLUSTER, or
 * the /etc/postgresql/<version>/<cluster> whose postgresql.conf has the URL's port.
 */
function localCluster(): { version: string; cluster: string } {
  const url = new URL(PG_URL);
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(url.hostname)) {
    throw new Error(`${url.hostname} is not this machine: set KOPILKA_FAULTS_SKIP_RESTART=1`);
  }
  if (process.env.KOPILKA_FAULTS_PG_VERSION) {
    return {
      version: process.env.KOPILKA_FAULTS_PG_VERSION,
      cluster: process.env.KOPILKA_FAULTS_PG_CLUSTER ?? "main",
    };
  }
  const port = url.port || "5432";
  if (!existsSync("/etc/postgresql"))
    throw new Error("no /etc/postgresql: set KOPILKA_FAULTS_SKIP_RESTART=1");
  for (const version of readdirSync("/etc/postgresql")) {
    for (const cluster of readdirSync(`/etc/postgresql/${version}`)) {
      const conf = `/etc/postgresql/${version}/${cluster}/postgresql.conf`;
      if (!existsSync(conf)) continue;
      const configured = /^\s*port\s*=\s*(\d+)/m.exec(readFileSync(conf, "utf8"))?.[1] ?? "5432";
      if (configured === port) return { version, cluster };
    }
  }
  throw new Error(`no cluster in /etc/postgresql listens on port ${port}: set KOPILKA_FAULTS_SKIP_RESTART=1`);
}

/** Starts the cluster if it does not answer: whatever happened, the server is up when the scenario ends. */
async function ensurePostgresUp(version: string, cluster: string): Promise<void> {
  try {
    await waitForPostgres(5_000);
    return;
  } catch {
    const started = await runCommand("pg_ctlcluster", [
      "--skip-systemctl-redirect",
      version,
      cluster,
      "start",
    ]);
    log("d-pg-restart", `PostgreSQL was down; pg_ctlcluster start: ${started.code} ${started.output.trim()}`);
    await waitForPostgres(120_000);
  }
}

/**
 * (d) PostgreSQL is restarted (fast shutdown; in the long form also immediate, i.e. crash recovery) while
 * clients write through the service; they retry on 503 and connection errors with the same keys. The
 * service must survive (same process), answer 503 while the database is away, and afterwards no
 * acknowledged write may be lost or applied twice.
 */
describe.skipIf(!IN_FAULT_SUITE || SKIP_RESTART)("fault (d): PostgreSQL restarted under load", () => {
  it("loses no acknowledged write and duplicates none across server restarts", async () => {
    const scenario = "d-pg-restart";
    const { version, cluster } = localCluster();
    const restarts = SHORT ? 1 : 5;
    const clients = SHORT ? 4 : 8;
    log(
      scenario,
      `seed ${SEED}; ${clients} clients, ${restarts} restarts of PostgreSQL ${version}/${cluster}`,
    );
    const database = await scenarioDatabase("pgrestart");
    const reference = await scenarioDatabase("pgrestart_ref");
    const service = await ServiceProcess.create(database.url);
    let abort = false;
    let restarter: Promise<void> | undefined;
    try {
      const operatorKey = await createOperatorKeyWithCli(database.url);
      await service.start();
      const pid = service.pid;
      log(scenario, `service pid ${pid} on 127.0.0.1:${service.port}, database ${database.name}`);
      const random = new Random(SEED ^ 0xd0d0);
      let restarting = true;
      const restartLog: string[] = [];
      restarter = (async () => {
        try {
          for (let k = 1; k <= restarts && !abort; k++) {
            await sleep(random.int(SHORT ? 800 : 1_000, SHORT ? 1_500 : 6_000));
            const mode = !SHORT && k % 2 === 0 ? "immediate" : "fast";
            const began = Date.now();
            const result = await runCommand("pg_ctlcluster", [
              "--skip-systemctl-redirect",
              "-m",
              mode,
              version,
              cluster,
              "restart",
            ]);
            if (result.code !== 0)
              throw new Error(`pg_ctlcluster restart failed (${result.code}): ${result.output}`);
            const restartMs = Date.now() - began;
            const readyMs = await waitForPostgres();
            restartLog.push(
              `#${k} ${mode}: restart took ${restartMs} ms, accepting queries ${readyMs} ms later`,
            );
          }
        } finally {
          restarting = false;
        }
      })();
      restarter.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
      const load = await runLoad({
        prefix: "p",
        seed: SEED,
        clients,
        minSteps: SHORT ? 20 : 120,
        keepGoing: () => restarting,
        target: (call) => httpCall(service.port, call, 30_000),
        operatorKey,
        fireOnceRate: 0.05,
        fatal: () => service.unexpectedExit && `${service.unexpectedExit}\n${service.tail()}`,
      });
      await restarter;
      log(scenario, `restarts: ${restartLog.join("; ")}`);
      describeLoad(scenario, load);
      log(scenario, `rows: ${JSON.stringify(await tableCounts(database))}`);
      const survived = service.running && service.pid === pid;
      log(scenario, `${survived ? "ok  " : "FAIL"} the service process survived the restarts (pid ${pid})`);
      const problems = await verifyRun({
        scenario,
        database,
        reference,
        load,
        resend: { target: (call) => httpCall(service.port, call, 30_000), operatorKey },
      });
      if (problems.length > 0 || !survived) log(scenario, `service output:\n${service.tail()}`);
      expect(problems).toEqual([]);
      expect(survived).toBe(true);
      expect(restartLog, "every planned restart must have happened").toHaveLength(restarts);
      expect(
        load.stats.unavailable + load.stats.connectionErrors,
        "the restarts must have hit requests",
      ).toBeGreaterThan(0);
    } finally {
      abort = true;
      await restarter?.catch(() => {});
      await ensurePostgresUp(version, cluster);
      await service.kill();
      await database.drop();
      await reference.drop();
    }
  });
});

/**
 * (d, without a restart) The service's database sessions are terminated (pg_terminate_backend, what a
 * restart, a failover or an idle-session killer does to each session) again and again while clients
 * write: open transactions die at any point, between statements included. The service must survive,
 * answer 503 meanwhile, and lose or duplicate nothing. Runs even with KOPILKA_FAULTS_SKIP_RESTART=1.
 */
describe.skipIf(!IN_FAULT_SUITE)("fault (d): database sessions terminated under load", () => {
  it("survives sessions killed mid-transaction and loses or duplicates nothing", async () => {
    const scenario = "d-terminate";
    const rounds = SHORT ? 25 : 200;
    const clients = SHORT ? 4 : 8;
    log(
      scenario,
      `seed ${SEED}; ${clients} clients, ${rounds} rounds of pg_terminate_backend on the service's sessions`,
    );
    const database = await scenarioDatabase("terminate");
    const reference = await scenarioDatabase("terminate_ref");
    const service = await ServiceProcess.create(database.url);
    let abort = false;
    let terminator: Promise<void> | undefined;
    try {
      const operatorKey = await createOperatorKeyWithCli(database.url);
      await service.start();
      const pid = service.pid;
      log(scenario, `service pid ${pid} on 127.0.0.1:${service.port}, database ${database.name}`);
      const random = new Random(SEED ^ 0x7e57);
      let terminating = true;
      let terminated = 0;
      let inTransaction = 0;
      terminator = (async () => {
        try {
          for (let k = 1; k <= rounds && !abort && !service.unexpectedExit; k++) {
            await sleep(random.int(20, 200));
            // Only the service's sessions (not this scenario's own), counted when pg_terminate_backend
            // says it signalled them; the state is the one they were in when picked.
            const r = await sql<{ n: number; tx: number }>`
              select count(*) filter (where t.terminated)::int as n,
                count(*) filter (where t.terminated and (t.state like 'idle in transaction%' or t.state = 'active'))::int as tx
              from (select pg_terminate_backend(pid) as terminated, state from pg_stat_activity
                    where datname = ${database.name} and application_name = ${SERVICE_APPLICATION_NAME}
                      and pid <> pg_backend_pid()) as t`.execute(database.handle.db);
            terminated += r.rows[0]?.n ?? 0;
            inTransaction += r.rows[0]?.tx ?? 0;
          }
        } finally {
          terminating = false;
        }
      })();
      terminator.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
      const load = await runLoad({
        prefix: "t",
        seed: SEED,
        clients,
        minSteps: SHORT ? 20 : 120,
        keepGoing: () => terminating,
        target: (call) => httpCall(service.port, call, 30_000),
        operatorKey,
        fireOnceRate: 0.05,
        fatal: () => service.unexpectedExit && `${service.unexpectedExit}\n${service.tail()}`,
      });
      await terminator;
      log(
        scenario,
        `terminated ${terminated} of the service's sessions (${inTransaction} of them active or in a transaction)`,
      );
      describeLoad(scenario, load);
      const survived = service.running && service.pid === pid;
      log(scenario, `${survived ? "ok  " : "FAIL"} the service process survived (pid ${pid})`);
      const problems = await verifyRun({
        scenario,
        database,
        reference,
        load,
        resend: { target: (call) => httpCall(service.port, call, 30_000), operatorKey },
      });
      if (problems.length > 0 || !survived) log(scenario, `service output:\n${service.tail()}`);
      expect(problems).toEqual([]);
      expect(survived).toBe(true);
      // The faults happened: sessions of the service were terminated, some of them mid-transaction, and
      // requests felt it (a 503 or a dropped connection), not only idle connections the pool replaced.
      expect(terminated, "pg_terminate_backend must have ended service sessions").toBeGreaterThan(0);
      expect(inTransaction, "some sessions must have been ended mid-transaction").toBeGreaterThan(0);
      expect(
        load.stats.unavailable + load.stats.connectionErrors,
        "the terminations must have hit requests",
      ).toBeGreaterThan(0);
    } finally {
      abort = true;
      await terminator?.catch(() => {});
      await service.kill();
      await database.drop();
      await reference.drop();
    }
  });
});
