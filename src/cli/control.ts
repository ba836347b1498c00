/**
 * The control channel of a service running on the embedded database: PGlite has one session and its
 * data folder one process, so while `kopilka serve` runs, the CLI sends each command that needs the
 * database over a Unix socket in the data folder, and the service runs it on its own Kopilka and
 * streams the output back. One JSON message a line: the CLI sends `{ command, terminal }`, the
 * service answers `{ stdout }` and `{ stderr }` chunks and then `{ exit }`.
 */

import { Console } from "node:console";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { Value } from "typebox/value";
import type { Kopilka } from "../main.js";
import {
  type CliCommand,
  CliCommandSchema,
  type CommandOutput,
  type CommandTarget,
  runReportingFailure,
} from "./commands.js";
import { CommandFailure } from "./failures.js";

/** The most bytes a Unix socket's path may have: macOS's 104 less the terminating NUL (Linux: 107). */
const MAX_SOCKET_PATH_BYTES = 103;

/** What the CLI's terminal is like, so that the service writes what would have been written here. */
interface Terminal {
  colors: boolean;
  stderrIsTTY: boolean;
}

type Reply = { stdout: string } | { stderr: string } | { exit: number };

/**
 * The control socket of the service on a data folder, `kopilka.sock` in it; undefined where there can
 * be none: on Windows (no Unix sockets with file permissions), or when the folder's path is too long.
 */
export function controlSocketPath(dataDir: string): string | undefined {
  if (process.platform === "win32") return undefined;
  const path = join(resolve(dataDir), "kopilka.sock");
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES ? path : undefined;
}

function outputTo(send: (reply: Reply) => void, terminal: Terminal): CommandOutput {
  const stream = (name: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        send(name === "stdout" ? { stdout: chunk.toString() } : { stderr: chunk.toString() });
        done();
      },
    });
  const stderr = Object.assign(stream("stderr"), { isTTY: terminal.stderrIsTTY });
  return {
    console: new Console({ stdout: stream("stdout"), stderr, colorMode: terminal.colors }),
    progress: stderr,
  };
}

function parseRequest(line: string): { command: CliCommand; terminal: Terminal } | undefined {
  try {
    const request = JSON.parse(line) as { command?: unknown; terminal?: Partial<Terminal> };
    if (!Value.Check(CliCommandSchema, request.command)) return undefined;
    return {
      command: request.command,
      terminal: {
        colors: request.terminal?.colors === true,
        stderrIsTTY: request.terminal?.stderrIsTTY === true,
      },
    };
  } catch {
    return undefined;
  }
}

async function serveConnection(socket: Socket, kopilka: Kopilka): Promise<void> {
  const send = (reply: Reply) => {
    if (socket.writable) socket.write(`${JSON.stringify(reply)}\n`);
  };
  const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY });
  // The first line is the request; a CLI that hangs up before sending one gets nothing run.
  const line = await new Promise<string | undefined>((done) => {
    lines.once("line", done);
    lines.once("close", () => done(undefined));
  });
  lines.close();
  if (line === undefined) return;
  const request = parseRequest(line);
  if (!request) {
    send({
      stderr: "kopilka: the running service does not know this command (is it another version of kopilka?)\n",
    });
    send({ exit: 1 });
    socket.end();
    return;
  }
  const target: CommandTarget = {
    withKopilka: (work) => work(kopilka),
    withDatabase: (work) => work(kopilka.database),
  };
  const exit = await runReportingFailure(request.command, target, outputTo(send, request.terminal), (err) =>
    kopilka.log.error(
      { err, command: request.command.name },
      "a CLI command run for the control socket failed",
    ),
  );
  send({ exit });
  socket.end();
}

/**
 * Listens for CLI commands on the data folder's control socket. Only the folder's owner can connect
 * (mode 0600) — who can read the database files anyway — and a command runs here with the same output
 * as without a service. `close()` stops listening and resolves once the commands still running have
 * answered (the shutdown's grace bounds that).
 */
export async function serveCommands(
  socketPath: string,
  kopilka: Kopilka,
): Promise<{ close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on("error", () => socket.destroy());
    serveConnection(socket, kopilka).catch((error: unknown) => {
      kopilka.log.error({ err: error }, "a CLI command on the control socket failed");
      socket.destroy();
    });
  });
  // We hold the data folder's lock (the database is open), so a socket file there is a dead service's.
  rmSync(socketPath, { force: true });
  // Bound under umask 0177 the socket is 0600 from its first instant, with no moment others could
  // connect in. The bind happens within listen(), before the umask is put back.
  const umask = process.umask(0o177);
  try {
    server.listen(socketPath);
  } finally {
    process.umask(umask);
  }
  await once(server, "listening");
  return { close: () => new Promise<void>((done) => server.close(() => done())) };
}

/**
 * Runs the command in the service listening on the socket, writing its output here, and returns its
 * exit code; undefined when no service listens there (no socket file, or a dead service's).
 */
export async function runInService(socketPath: string, command: CliCommand): Promise<number | undefined> {
  const socket = createConnection(socketPath);
  try {
    await once(socket, "connect");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED") return undefined;
    throw new CommandFailure(
      `cannot reach the running service on ${socketPath}: ${(error as Error).message}`,
    );
  }
  const terminal: Terminal = {
    colors: process.stdout.isTTY === true && process.stdout.hasColors(),
    stderrIsTTY: process.stderr.isTTY === true,
  };
  socket.write(`${JSON.stringify({ command, terminal })}\n`);
  let lost = "";
  socket.on("error", (error) => {
    lost = `: ${error.message}`;
  });
  try {
    for await (const line of createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY })) {
      const reply = JSON.parse(line) as Reply;
      if ("stdout" in reply) process.stdout.write(reply.stdout);
      else if ("stderr" in reply) process.stderr.write(reply.stderr);
      else {
        socket.end();
        return reply.exit;
      }
    }
  } catch (error) {
    lost = `: ${(error as Error).message}`;
  }
  throw new CommandFailure(`the running service stopped before the command finished${lost}`);
}
