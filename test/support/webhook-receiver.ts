import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { NotificationMessage } from "../../src/domain/notifications/index.js";

/**
 * How the receiver answers a delivery: a status (at once, or `afterMs` later), never (the sender times
 * out), or a cut connection.
 */
export type ReceiverAnswer = number | { status: number; afterMs: number } | "hang" | "close";

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  raw: string;
  message: NotificationMessage;
  answer: ReceiverAnswer;
}

/**
 * A real webhook endpoint for tests: a node:http server on 127.0.0.1 (a port of its own) that
 * records every delivery and answers as `answer` says (changeable with `answerWith`).
 */
export async function webhookReceiver(answer: (message: NotificationMessage) => ReceiverAnswer = () => 200) {
  const received: ReceivedDelivery[] = [];
  const hung: ServerResponse[] = [];
  let decide = answer;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const message = JSON.parse(raw) as NotificationMessage;
      const given = decide(message);
      received.push({ headers: req.headers, raw, message, answer: given });
      if (given === "hang") hung.push(res);
      else if (given === "close") req.socket.destroy();
      else if (typeof given === "number") res.writeHead(given).end();
      else setTimeout(() => res.writeHead(given.status).end(), given.afterMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/kopilka/hooks`,
    received,
    /** The deliveries it accepted (answered 2xx), in the order they arrived. */
    accepted: () => received.filter((r) => isSuccess(r.answer)),
    answerWith(next: (message: NotificationMessage) => ReceiverAnswer) {
      decide = next;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isSuccess(answer: ReceiverAnswer): boolean {
  const status = typeof answer === "number" ? answer : typeof answer === "object" ? answer.status : 0;
  return status >= 200 && status < 300;
}

export type WebhookReceiver = Awaited<ReturnType<typeof webhookReceiver>>;

/** A URL nothing listens on: a port just freed, so connecting is refused. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/kopilka/hooks`;
}
