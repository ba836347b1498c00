import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { funderAccount, type Movement, SINK, WALLET } from "../../src/domain/ledger/index.js";
import { CROCKFORD } from "../../src/infra/ids.js";
import { movementFromRow, movementRow } from "../../src/infra/movement-rows.js";
import type { Database } from "../../src/infra/schema.js";
import { freshDatabase } from "../support/database.js";
import { assertProperty, sampleOptions } from "../support/property.js";

/**
 * Migration 5's encoding of a movement: what the service writes reads back as the same movement, and
 * the SQL functions (which converted the earlier rows and spell the codes out for reports) agree
 * with the service's encoder.
 */
const lotId = fc
  .array(fc.constantFrom(...CROCKFORD), { minLength: 26, maxLength: 26 })
  .map((digits) => `lot_${digits.join("")}`);
const account = fc.oneof(
  fc.constantFrom(...Object.values(WALLET), ...Object.values(SINK)),
  fc
    .constantFrom("marketplace", "savings_interest", "manager_programme", "seller:s-1", "campaign:x.y")
    .map(funderAccount),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).map((id) => funderAccount(`seller:${id}`)),
);
const movement: fc.Arbitrary<Movement> = fc.record({
  movementId: fc.constant("mov_01JD0000000000000000000000"),
  customerId: fc.constant("c-1"),
  kind: fc.constantFrom("bonus", "savings", "referral"),
  type: fc.constantFrom("credit", "clawback", "expire"),
  postings: fc.array(fc.record({ account, amount: fc.integer({ min: -1e12, max: 1e12 }) }), {
    minLength: 2,
    maxLength: 8,
  }),
  lotDeltas: fc.array(fc.record({ lotId, delta: fc.integer({ min: -1e12, max: 1e12 }) }), { maxLength: 5 }),
  reference: fc.option(fc.string()),
  explanation: fc.constant({ code: "adjust", params: [5, "a reason"] } as const),
  occurredAt: fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2199-12-31T00:00:00Z") }),
  causedBy: fc.constant("request" as const),
});

/** The row as the database gives it back: bytea as bytes, json parsed. */
function stored(row: ReturnType<typeof movementRow>): Database["movements"] {
  const bytes = (hex: string) => Buffer.from(hex.slice(2), "hex");
  return {
    ...row,
    accounts: bytes(row.accounts),
    lot_refs: bytes(row.lot_refs),
    explanation_params: JSON.parse(row.explanation_params),
  };
}

describe("movement rows", () => {
  it("read back as the movement written", () => {
    assertProperty(
      fc.property(movement, ({ causedBy: _, ...m }) => {
        const row = movementRow(m.customerId, { ...m, causedBy: "request" }, "key_1");
        expect(movementFromRow(stored(row))).toEqual({ ...m, actor: "key_1" });
        expect(stored(row).lot_refs.length).toBe(26 * m.lotDeltas.length);
        expect(stored(row).accounts.length).toBe(m.postings.length);
      }),
    );
  });

  it("refuse a lot id that is not lot_ and 26 base-32 digits", () => {
    const m = fc.sample(movement, sampleOptions(1))[0] as Movement;
    for (const bad of ["lot_1", "lot_0000000000000000000000000I", "mov_00000000000000000000000000"]) {
      expect(() => movementRow("c-1", { ...m, lotDeltas: [{ lotId: bad, delta: 1 }] }, "a")).toThrow(bad);
    }
  });
});

describe("migration 5's SQL functions", () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("encode and spell out accounts and lots as the service does", async () => {
    const samples = fc.sample(movement, sampleOptions(60, 1)).map((m) => ({
      m,
      row: movementRow(m.customerId, m, "a"),
    }));
    const result = await sql<{ i: number; accounts: string[]; lot_ids: string[]; refs: string }>`
      select s.i, kopilka_accounts(s.accounts, s.funders) as accounts, kopilka_lot_ids(s.lot_refs) as lot_ids,
        (select coalesce(string_agg(encode(kopilka_lot_ref(l), 'hex'), '' order by k), '')
         from unnest(s.lot_ids) with ordinality as u(l, k)) as refs
      from jsonb_to_recordset(${JSON.stringify(
        samples.map(({ m, row }, i) => ({ ...row, i, lot_ids: m.lotDeltas.map((d) => d.lotId) })),
      )}::jsonb) as s(i int, accounts bytea, funders text[], lot_refs bytea, lot_ids text[])
      order by s.i`.execute(db.db);
    expect(result.rows).toEqual(
      samples.map(({ m, row }, i) => ({
        i,
        accounts: m.postings.map((p) => p.account),
        lot_ids: m.lotDeltas.map((d) => d.lotId),
        refs: row.lot_refs.slice(2),
      })),
    );
  });
});
