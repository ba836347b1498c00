/**
 * Which partition of the order-event stream a customer's events go to: FNV-1a (32 bits) over the
 * customer id's UTF-8 bytes, modulo the number of partitions. Publishers must use this function (the
 * typed client re-exports it): a customer's events then share one subject, one consumer and one
 * instance at a time, so they apply in the order they were published. It is part of the wire contract:
 * changing it, or the number of partitions, moves customers to other partitions.
 */
export function orderEventPartition(customerId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a whole number of at least 1, got ${partitions}`);
  }
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(customerId)) {
    // Math.imul keeps the multiplication by the FNV prime within 32 bits, as the algorithm defines it.
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** The subject a partition's events are published on: `<prefix>.<partition>`. */
export function orderEventSubject(prefix: string, partition: number): string {
  return `${prefix}.${partition}`;
}
