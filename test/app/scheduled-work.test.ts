import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScheduledWork } from "../../src/app/scheduled-work.js";
import { PostgresRunClaims } from "../../src/infra/run-claims.js";
import { expectOk, ledgerHarness } from "../support/ledger.js";

describe("scheduled work (R5, R13, R20)", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  /** An instance of the scheduled work, with its own claims store over the test database. */
  const scheduledWork = (pageSize?: number) =>
    new ScheduledWork(
      h.store,
      h.service,
      new PostgresRunClaims(h.database.db),
      h.clock,
      h.ids,
      h.committer,
      24,
      pageSize,
    );
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h.database.drop();
  });

  it("settles every customer with something due, and each slot runs once however many instances try", async () => {
    const t0 = new Date("2026-03-01T00:00:00Z");
    h.clock.set(t0);
    for (const c of ["sched-a", "sched-b", "sched-c"]) {
      expectOk(
        await h.service.credit(
          c,
          {
            kind: "bonus",
            amount: 10,
            source: "purchase",
            funder: "marketplace",
            availableFrom: new Date("2026-03-02T00:00:00Z"),
          },
          h.request(),
        ),
      );
    }
    h.clock.set(new Date("2026-03-02T00:00:01Z"));
    // Two instances, each with its own claims store over the same database, run the same slot at once.
    const instance = () => scheduledWork(2);
    const runs = await Promise.all([instance().run(42, "one"), instance().run(42, "two")]);
    expect(runs.filter((r) => r.claimed)).toHaveLength(1);
    expect(runs.find((r) => r.claimed)?.customersSettled).toBe(3);
    expect(await h.store.customersWithDueWork(h.clock.now(), 100)).toEqual([]);
    const history = await h.service.history("sched-b", { cursor: null, limit: 10 });
    const madeAvailable = history.items.filter((m) => m.type === "make_available");
    expect(madeAvailable).toHaveLength(1);
    // Time alone made the points available: the movement is dated when they fell due and is the system's.
    expect(madeAvailable[0]).toMatchObject({ actor: "system", occurredAt: "2026-03-02T00:00:00.000Z" });
    // The slot is spent: running it again does nothing.
    expect(await instance().run(42, "three")).toEqual({ claimed: false, customersSettled: 0 });
  });

  it("a new slot picks up what is due by then", async () => {
    h.clock.set(new Date("2026-03-02T00:00:01Z"));
    expectOk(
      await h.service.spend("sched-a", { redemptionId: "o-1", kind: "bonus", amount: 5 }, h.request()),
    );
    expectOk(
      await h.service.hold(
        "sched-a",
        { holdId: "o-2", kind: "bonus", amount: 5, timeoutSeconds: 60 },
        h.request(),
      ),
    );
    h.clock.set(new Date("2026-03-02T00:05:00Z"));
    const work = scheduledWork();
    expect(await work.run(43, "one")).toEqual({ claimed: true, customersSettled: 1 });
    expect((await h.service.balance("sched-a")).kinds.bonus).toMatchObject({ available: 5, held: 0 });
  });

  it("keeps stored answers to Idempotency-Keys for the retention, then sweeps them: a retry after it is a new request", async () => {
    const t0 = new Date("2026-05-01T00:00:00Z");
    h.clock.set(t0);
    const credit = { kind: "bonus" as const, amount: 3, source: "purchase" as const, funder: "marketplace" };
    const first = await h.service.credit("sweep-a", credit, h.request("sweep-key"));
    expectOk(first);
    const before = await h.database.db
      .selectFrom("idempotency")
      .select("key")
      .where("customer_id", "=", "sweep-a")
      .execute();
    expect(before).toHaveLength(1);

    // 23 hours on, within the 24 h retention: the sweep keeps it and a retry is replayed.
    h.clock.set(new Date(t0.getTime() + 23 * 3_600_000));
    const work = scheduledWork();
    // (Answers the earlier tests stored months before are swept now.)
    await work.sweepStoredAnswers();
    const kept = await h.database.db
      .selectFrom("idempotency")
      .select("key")
      .where("customer_id", "=", "sweep-a")
      .execute();
    expect(kept).toHaveLength(1);
    expect((await h.service.credit("sweep-a", credit, h.request("sweep-key"))).replayed).toBe(true);

    // 25 hours on it is swept, and the same key is a new request.
    h.clock.set(new Date(t0.getTime() + 25 * 3_600_000));
    expect(await work.run(Math.floor(h.clock.now().getTime() / 30_000), "sweeper")).toMatchObject({
      claimed: true,
    });
    const after = await h.database.db
      .selectFrom("idempotency")
      .select("key")
      .where("customer_id", "=", "sweep-a")
      .execute();
    expect(after).toHaveLength(0);
    const again = await h.service.credit("sweep-a", credit, h.request("sweep-key"));
    expect(again.replayed).toBe(false);
    expect((await h.service.balance("sweep-a")).kinds.bonus.available).toBe(6);
  });
});
