import { describe, expect, it } from "vitest";
import { describeLoad, runLoad, verifyRun } from "./scenario.js";
import {
  createOperatorKeyWithCli,
  httpCall,
  IN_FAULT_SUITE,
  log,
  Random,
  SEED,
  ServiceProcess,
  SHORT,
  scenarioDatabase,
  sleep,
  tableCounts,
} from "./support.js";

/**
 * (a) The service is SIGKILLed at random moments while several clients write through it; it is started
 * again each time, and the clients retry every request that got no answer with the same key, eventIds
 * and body. Afterwards every acknowledged write must be applied exactly once, writes sent once without
 * retry at most once, and the ledger must equal a fault-free run of the same requests.
 */
describe.skipIf(!IN_FAULT_SUITE)("fault (a): SIGKILL under load", () => {
  it("applies every acknowledged write exactly once across kills and restarts", async () => {
    const scenario = "a-sigkill";
    const kills = SHORT ? 2 : 15;
    const clients = SHORT ? 4 : 8;
    const upMs: [number, number] = SHORT ? [400, 1_200] : [300, 5_000];
    log(scenario, `seed ${SEED}; ${clients} clients, ${kills} SIGKILLs, ${SHORT ? "short" : "long"} form`);
    const database = await scenarioDatabase("sigkill");
    const reference = await scenarioDatabase("sigkill_ref");
    const service = await ServiceProcess.create(database.url);
    let abort = false;
    let killer: Promise<void> | undefined;
    try {
      const operatorKey = await createOperatorKeyWithCli(database.url);
      log(scenario, `database ${database.name}; operator key made with \`kopilka keys create\``);
      const firstStart = await service.start();
      log(scenario, `service pid ${service.pid} on 127.0.0.1:${service.port} (up in ${firstStart} ms)`);

      const random = new Random(SEED ^ 0x51c4);
      let killing = true;
      const killLog: string[] = [];
      killer = (async () => {
        try {
          for (let k = 1; k <= kills && !abort; k++) {
            await sleep(random.int(...upMs));
            const pid = service.pid;
            await service.kill("SIGKILL");
            await sleep(random.int(0, 300));
            const up = await service.start();
            killLog.push(`#${k} pid ${pid} killed, back in ${up} ms`);
          }
        } finally {
          killing = false;
        }
      })();
      killer.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
      const load = await runLoad({
        prefix: "a",
        seed: SEED,
        clients,
        minSteps: SHORT ? 15 : 100,
        keepGoing: () => killing,
        target: (call) => httpCall(service.port, call, 30_000),
        operatorKey,
        fireOnceRate: 0.05,
        fatal: () => service.unexpectedExit && `${service.unexpectedExit}\n${service.tail()}`,
      });
      await killer;
      log(scenario, `kills: ${killLog.join("; ")}`);
      describeLoad(scenario, load);
      log(scenario, `rows: ${JSON.stringify(await tableCounts(database))}`);

      const problems = await verifyRun({
        scenario,
        database,
        reference,
        load,
        resend: { target: (call) => httpCall(service.port, call, 30_000), operatorKey },
      });
      const stopped = await service.stop();
      log(scenario, `service stopped with SIGTERM: ${stopped}`);
      if (problems.length > 0) log(scenario, `service output:\n${service.tail()}`);
      expect(problems).toEqual([]);
      expect(load.stats.connectionErrors, "the kills must have hit requests").toBeGreaterThan(0);
    } finally {
      abort = true;
      await killer?.catch(() => {});
      await service.kill();
      await database.drop();
      await reference.drop();
    }
  });
});
