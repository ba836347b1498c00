import type { Kopilka } from "../main.js";

/**
 * SIGTERM or SIGINT starts the graceful shutdown (`Kopilka.shutdown`), bounded by
 * `shutdownGraceMs`: past it the process exits anyway, with code 1. A second signal exits at once.
 */
export function exitGracefullyOnSignals(kopilka: Kopilka, server: { close(): Promise<unknown> }): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      kopilka.log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    shuttingDown = true;
    kopilka.log.info({ signal, graceMs: kopilka.config.shutdownGraceMs }, "signal received: shutting down");
    const grace = setTimeout(() => {
      kopilka.log.error({ graceMs: kopilka.config.shutdownGraceMs }, "shutdown took too long: exiting now");
      process.exit(1);
    }, kopilka.config.shutdownGraceMs);
    kopilka.shutdown(server).then(
      () => {
        clearTimeout(grace);
        process.exit(0);
      },
      (err: unknown) => {
        kopilka.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
