-- Order events consumed from JetStream (README "Order events from JetStream"): the stream is split
-- into partitions by customer, and each partition is applied by one instance at a time, so that a
-- customer's events apply in the order they were published. An instance owns a partition while its
-- lease runs (lease_until, the database's clock, renewed every third of the lease); a free partition
-- has neither owner nor lease, and an expired lease is free to take. Keyed by stream too, so that a
-- renamed stream starts with leases of its own.
create table order_event_partitions (
  stream text not null,
  partition integer not null check (partition >= 0),
  owner text,
  lease_until timestamptz,
  primary key (stream, partition),
  check ((owner is null) = (lease_until is null))
);

-- The instances consuming a stream, alive while they renew (alive_until): an instance with no
-- partition yet counts too, so that the others release its fair share, ceil(partitions / alive).
create table order_event_consumers (
  stream text not null,
  owner text not null,
  alive_until timestamptz not null,
  primary key (stream, owner)
);
