import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on loopback between the clients and the service that cuts chosen requests' connections:
 *
 *  - `drop-response`: the request goes through whole; when the service's answer starts to arrive (so the
 *    transaction has committed) the client's socket is destroyed before it sees a byte. The proxy keeps
 *    reading the service's answer, so the test can compare it with what a retry gets.
 *  - `reset-in-flight`: the whole request goes through, then both sockets are destroyed at once: the
 *    service works on a request whose client is gone, and may or may not commit.
 *  - `truncate-request`: only the headers and half the body reach the service, then both sockets die:
 *    nothing may be applied.
 *
 * Requests are recognised by their `x-fault-tag` header; `decide(tag, method)` is asked once per tag for
 * the cuts its connections get, in order (the next connections with that tag pass untouched).
 */
export type CutMode = "drop-response" | "reset-in-flight" | "truncate-request";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Cut {
  tag: string;
  mode: CutMode;
  /** drop-response: the answer the client never saw (undefined if the service sent none). */
  response: Promise<RawResponse | undefined>;
}

function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers["transfer-encoding"] === "chunked") {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf("\r\n", at);
      if (lineEnd < 0) break;
      const size = Number.parseInt(body.subarray(at, lineEnd).toString("latin1"), 16);
      if (!size) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (body.length < length) return undefined;
    body = body.subarray(0, length);
  }
  return { status, headers, body: body.toString("utf8") };
}

export class CuttingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly decided = new Set<string>();
  private readonly plans = new Map<string, CutMode[]>();
  readonly cuts: Cut[] = [];
  port = 0;
  connections = 0;
  /** When false every connection passes untouched (for the checks after the load). */
  active = true;

  constructor(
    private readonly targetPort: number,
    private readonly decide: (tag: string, method: string) => CutMode[],
  ) {}

  async listen(): Promise<number> {
    const server = createServer((client) => this.handle(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private track(socket: Socket) {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  private modeFor(headerText: string): { tag: string; mode: CutMode } | undefined {
    if (!this.active) return undefined;
    const tag = /\r\nx-fault-tag:[ \t]*([^\r\n]+)/i.exec(headerText)?.[1]?.trim();
    if (!tag) return undefined;
    if (!this.decided.has(tag)) {
      this.decided.add(tag);
      this.plans.set(tag, this.decide(tag, headerText.slice(0, headerText.indexOf(" "))));
    }
    const mode = this.plans.get(tag)?.shift();
    return mode ? { tag, mode } : undefined;
  }

  private handle(client: Socket) {
    this.connections += 1;
    const upstream = connect(this.targetPort, "127.0.0.1");
    this.track(client);
    this.track(upstream);
    let head = Buffer.alloc(0);
    let mode: CutMode | undefined;
    let decided = false;
    let expected = Number.POSITIVE_INFINITY;
    let forwarded = 0;
    const captured: Buffer[] = [];
    let settle: (r: RawResponse | undefined) => void = () => {};
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", () => {});
    upstream.on("error", () => {});
    client.on("close", () => {
      // A dropped response is still read to the end from the service.
      if (mode !== "drop-response") upstream.destroy();
    });
    upstream.on("close", () => {
      if (!client.destroyed) client.destroy();
      settle(mode === "drop-response" ? parseResponse(Buffer.concat(captured)) : undefined);
    });
    const forward = (chunk: Buffer) => {
      forwarded += chunk.length;
      upstream.write(chunk);
      if (mode === "reset-in-flight" && forwarded >= expected) setImmediate(destroyBoth);
    };

    client.on("data", (chunk: Buffer) => {
      if (decided) {
        if (mode !== "truncate-request" && !upstream.destroyed) forward(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      decided = true;
      const headerText = head.subarray(0, end).toString("latin1");
      const contentLength = Number(/\r\ncontent-length:[ \t]*(\d+)/i.exec(headerText)?.[1] ?? 0);
      expected = end + 4 + contentLength;
      const chosen = this.modeFor(headerText);
      if (chosen) {
        mode = chosen.mode;
        this.cuts.push({
          tag: chosen.tag,
          mode: chosen.mode,
          response: new Promise((resolve) => {
            settle = resolve;
          }),
        });
      }
      if (mode === "truncate-request") {
        // Half the body; a request without one loses the end of its headers instead.
        const keep = Math.min(
          head.length,
          contentLength > 0 ? end + 4 + Math.floor(contentLength / 2) : Math.floor(end / 2),
        );
        upstream.write(head.subarray(0, keep), () => setTimeout(destroyBoth, 10));
        return;
      }
      forward(head);
    });

    upstream.on("data", (chunk: Buffer) => {
      if (mode === "drop-response") {
        captured.push(chunk);
        if (!client.destroyed) client.destroy();
        return;
      }
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on("end", () => {
      if (mode !== "drop-response" && !client.destroyed) client.end();
    });
  }
}
