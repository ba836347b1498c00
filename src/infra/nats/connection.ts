import { connect, type NatsConnection } from "@nats-io/transport-node";

/** Where the connection reports (pino's logger fits). */
interface NatsLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/**
 * A connection to the NATS servers of `url` (`nats://host:4222`, several separated by commas). The
 * first connection must succeed (a wrong URL fails the start, clearly); after that the client
 * reconnects for ever, and what happens to the connection is logged.
 */
export async function connectNats(url: string, log: NatsLog, name = "kopilka"): Promise<NatsConnection> {
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  let connection: NatsConnection;
  try {
    connection = await connect({ servers, name, maxReconnectAttempts: -1 });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${servers.join(", ")}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  log.info({ server: connection.getServer() }, "connected to NATS");
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === "disconnect")
        log.warn({ server: status.server }, "NATS connection lost; reconnecting");
      else if (status.type === "reconnect") log.info({ server: status.server }, "NATS connection back");
      else if (status.type === "error") log.warn({ err: status.error }, "NATS connection error");
    }
  })();
  return connection;
}
