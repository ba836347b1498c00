import { InvalidArgumentError } from "commander";
import { ConfigError } from "../config.js";
import { DataFolderError } from "../infra/data-folder.js";

/** A command that could not do what was asked, for a reason the person can act on. */
export class CommandFailure extends Error {}

/** Node's codes for a server that cannot be reached, and SQLSTATE classes of a refused connection. */
const UNREACHABLE_CODES = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
];
const REFUSED_CONNECTION = /^(08|28|3D|57P0[1-3])/;

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/** pg reports a host with several addresses as an AggregateError holding one error each. */
function isDatabaseUnreachable(error: unknown): boolean {
  const code = codeOf(error);
  if (UNREACHABLE_CODES.includes(code) || REFUSED_CONNECTION.test(code)) return true;
  return error instanceof AggregateError && error.errors.some(isDatabaseUnreachable);
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(messageOf).join("; ");
  return error instanceof Error && error.message ? error.message : codeOf(error);
}

/** The one line for a failure that is expected (bad input, a folder in use, no database); undefined for a bug. */
export function expectedFailureMessage(error: unknown): string | undefined {
  if (
    error instanceof CommandFailure ||
    error instanceof ConfigError ||
    error instanceof InvalidArgumentError ||
    error instanceof DataFolderError
  ) {
    return error.message;
  }
  if (isDatabaseUnreachable(error)) return `cannot reach the database: ${messageOf(error)}`;
  return undefined;
}

/** Expected failures as one `kopilka: …` line; anything else with its details, to find the bug by. */
export function printFailure(error: unknown, to: Console): void {
  const expected = expectedFailureMessage(error);
  if (expected === undefined) to.error(error);
  else to.error(`kopilka: ${expected}`);
}
