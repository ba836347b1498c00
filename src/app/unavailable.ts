/**
 * When the database is away: the stores let the driver's errors through, and these are the ones that
 * mean the database could not be reached or did not finish — nothing was written, unless the commit
 * itself was cut (then a retry with the same Idempotency-Key says what happened). Not a bug: the
 * edge answers 503 SERVICE_UNAVAILABLE, and a group commit does not retry its works one by one.
 */

/** The database did not answer within the bound (`KOPILKA_DATABASE_TIMEOUT_MS`). */
export class DatabaseTimeout extends Error {
  readonly code = "ETIMEDOUT";
  constructor(what: string, ms: number) {
    super(`${what} within ${Math.round(ms)} ms`);
  }
}

/**
 * Connection failures, server shutdowns (SQLSTATE classes 08, 57P), a server out of connections
 * (53300), time-outs, and contention that
 * outlasted the retries (40001, 40P01).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code = "", message = "" } = error as { code?: unknown; message?: unknown };
  return (
    typeof code === "string" &&
    (code.startsWith("08") ||
      code.startsWith("57P") ||
      // too_many_connections: the server has no connection for us now.
      code === "53300" ||
      code === "40001" ||
      code === "40P01" ||
      ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"].includes(code) ||
      (typeof message === "string" &&
        /Connection terminated|terminating connection|Client has encountered a connection error|timeout exceeded when trying to connect/.test(
          message,
        )))
  );
}
