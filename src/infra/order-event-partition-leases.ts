import { type Kysely, sql } from "kysely";
import type { PartitionLeases } from "../app/order-events-consumer/ports.js";
import type { Database } from "./schema.js";

const ascending = (rows: { partition: number }[]) => rows.map((r) => r.partition).sort((a, b) => a - b);

/**
 * Partition leases of one stream in `order_event_partitions` and `order_event_consumers`
 * (migration 13). Every time is the database's (`statement_timestamp()`), so the instances' clocks
 * never have to agree; every statement is one set-based statement whose `where` makes it safe when
 * instances run it at the same time (`for update skip locked` where two could take the same row).
 */
export class PostgresPartitionLeases implements PartitionLeases {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly stream: string,
    private readonly partitions: number,
    private readonly leaseSeconds: number,
  ) {}

  private get leaseEnd() {
    return sql`statement_timestamp() + ${this.leaseSeconds} * interval '1 second'`;
  }

  /** `ensure_partitions`: one row per partition, free; rows beyond a smaller partition count are ignored. */
  async ensurePartitions(): Promise<void> {
    await sql`
      insert into order_event_partitions (stream, partition)
      select ${this.stream}, p from generate_series(0, ${this.partitions - 1}::int) as p
      on conflict (stream, partition) do nothing`.execute(this.db);
  }

  /** `consumer_heartbeat`: this instance alive for one more lease, the long-dead forgotten, the living counted. */
  async heartbeat(owner: string): Promise<number> {
    const result = await sql<{ alive: number }>`
      with forgotten as (
        delete from order_event_consumers
        where stream = ${this.stream} and owner <> ${owner} and alive_until < statement_timestamp()),
      me as (
        insert into order_event_consumers (stream, owner, alive_until) values (${this.stream}, ${owner}, ${this.leaseEnd})
        on conflict (stream, owner) do update set alive_until = excluded.alive_until)
      select count(*)::int + 1 as alive from order_event_consumers
      where stream = ${this.stream} and owner <> ${owner} and alive_until >= statement_timestamp()`.execute(
      this.db,
    );
    return result.rows[0]?.alive ?? 1;
  }

  /** `renew_partition_leases`: only rows still this owner's (an expired one nobody took yet included). */
  async renew(owner: string): Promise<number[]> {
    const result = await sql<{ partition: number }>`
      update order_event_partitions set lease_until = ${this.leaseEnd}
      where stream = ${this.stream} and owner = ${owner} and partition < ${this.partitions}
      returning partition`.execute(this.db);
    return ascending(result.rows);
  }

  /** `take_partitions`: free or expired rows, lowest first, each taken by one instance only. */
  async take(owner: string, count: number): Promise<number[]> {
    const result = await sql<{ partition: number }>`
      with free as (
        select partition from order_event_partitions
        where stream = ${this.stream} and partition < ${this.partitions}
          and (owner is null or lease_until < statement_timestamp())
        order by partition
        limit ${count}
        for update skip locked)
      update order_event_partitions as p set owner = ${owner}, lease_until = ${this.leaseEnd}
      from free where p.stream = ${this.stream} and p.partition = free.partition
      returning p.partition`.execute(this.db);
    return ascending(result.rows);
  }

  /** `release_partitions`: free at once, if still this owner's. */
  async release(owner: string, partitions: readonly number[]): Promise<void> {
    await sql`
      update order_event_partitions set owner = null, lease_until = null
      where stream = ${this.stream} and owner = ${owner} and partition = any(${[...partitions]}::int[])`.execute(
      this.db,
    );
  }

  /** `leave_partitions`: every partition given back, and the instance no longer counted alive. */
  async leave(owner: string): Promise<void> {
    await sql`
      with released as (
        update order_event_partitions set owner = null, lease_until = null
        where stream = ${this.stream} and owner = ${owner})
      delete from order_event_consumers where stream = ${this.stream} and owner = ${owner}`.execute(this.db);
  }
}
