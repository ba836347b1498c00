import { type Kysely, sql } from "kysely";
import type { ManagerStore, PromoCodeOwner } from "../app/managers/manager-service.js";
import { managerMonthOf, managerOf } from "./programme-store.js";
import type { Database } from "./schema.js";

/** R24 reads outside a customer's work: promo codes' owners, the month-end run's pages, a manager's page. */
export class PostgresManagerStore implements ManagerStore {
  constructor(private readonly db: Kysely<Database>) {}

  async codeOwners(codes: readonly string[]): Promise<Map<string, PromoCodeOwner>> {
    if (codes.length === 0) return new Map();
    const result = await sql<{ code: string; customer_id: string; status: string | null }>`
      select c.code, c.customer_id, m.status
      from manager_codes as c left join managers as m on m.customer_id = c.customer_id
      where c.code = any(${[...codes]}::text[])`.execute(this.db);
    return new Map(
      result.rows.map((r) => [r.code, { customerId: r.customer_id, active: r.status === "active" }]),
    );
  }

  async unsettledAfter(month: string, after: string | null, limit: number): Promise<string[]> {
    const result = await sql<{ customer_id: string }>`
      select customer_id from manager_months
      where month = ${month} and settled_at is null and customer_id > ${after ?? ""}
      order by customer_id limit ${limit}`.execute(this.db);
    return result.rows.map((r) => r.customer_id);
  }

  async managerView(customerId: string, limit: number) {
    const [manager, months] = await Promise.all([
      sql<Record<string, unknown> & { customer_id: string }>`
        select * from managers where customer_id = ${customerId}`.execute(this.db),
      sql<Record<string, unknown> & { customer_id: string }>`
        select * from manager_months where customer_id = ${customerId} order by month desc limit ${limit}`.execute(
        this.db,
      ),
    ]);
    const row = manager.rows[0];
    return { manager: row ? managerOf(row) : undefined, months: months.rows.map(managerMonthOf) };
  }
}
