import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of PostgreSQL that can fall silent: while `silent`, it accepts connections and
 * reads what is sent, but forwards nothing either way — a database behind a cut network, where no
 * connection is refused or reset and every wait lasts until someone gives up. `speak()` forwards
 * again, for connections opened since and those that sent nothing while it was silent. `slow(ms)`
 * holds every chunk the database sends for `ms` (in order): a database that answers, late.
 */
export async function silentProxy(target: { host: string; port: number }) {
  let silent = false;
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const pipe = (from: Socket, to: Socket, delayed: boolean) => {
      let sent = Promise.resolve();
      from.on("data", (chunk) => {
        if (silent) return;
        if (!delayed || delayMs === 0) {
          to.write(chunk);
          return;
        }
        const wait = delayMs;
        sent = sent
          .then(() => new Promise((r) => setTimeout(r, wait)))
          .then(() => {
            if (!to.destroyed) to.write(chunk);
          });
      });
      from.on("close", () => to.destroy());
      from.on("error", () => to.destroy());
    };
    pipe(client, upstream, false);
    pipe(upstream, client, true);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no port");
  return {
    port: address.port,
    silence() {
      silent = true;
    },
    speak() {
      silent = false;
      delayMs = 0;
    },
    slow(ms: number) {
      delayMs = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of a PostgreSQL URL, and the URL that goes through it to the same database. */
export async function proxyTo(url: string) {
  const direct = new URL(url);
  const proxy = await silentProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(direct);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}
