import { orderEventPartition as fromClient } from "@kopilka/client";
import { describe, expect, it } from "vitest";
import { orderEventPartition, orderEventSubject } from "../../src/infra/nats/partition.js";

describe("the order-event partition of a customer", () => {
  it("is FNV-1a 32-bit over the id's UTF-8 bytes (the published test vectors), mod the partitions", () => {
    const full = 2 ** 32;
    expect(orderEventPartition("", full)).toBe(0x811c9dc5);
    expect(orderEventPartition("a", full)).toBe(0xe40c292c);
    expect(orderEventPartition("foobar", full)).toBe(0xbf9cf968);
    // Non-ASCII ids hash their UTF-8 bytes, as a publisher in any language computes them.
    expect(orderEventPartition("клиент", full)).toBe(0x12383029);
    expect(orderEventPartition("foobar", 8)).toBe(0xbf9cf968 % 8);
    expect(orderEventSubject("kopilka.order-events", 3)).toBe("kopilka.order-events.3");
  });

  it("is the same function in the typed client", () => {
    for (const id of ["c-1", "demo-00001", "клиент"])
      expect(fromClient(id, 8)).toBe(orderEventPartition(id, 8));
  });

  it("refuses a partition count that is not a whole number of at least 1", () => {
    expect(() => orderEventPartition("c-1", 0)).toThrow(/at least 1/);
  });
});
