import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Report } from "../../../app/finance/finance-service.js";
import type { Outcome } from "../../../app/ledger-service.js";
import { sendOutcome } from "../../context.js";

/**
 * A report answered as it is read (README "Finance: liability, breakage and reconciliation"): JSON
 * (`{…head, "rows": […], …tail}`) or CSV (RFC 4180: a header line, one line per row, CRLF), written
 * a page at a time with the response's back-pressure, never the whole result in memory. The first
 * page is read before anything is sent, so a failure to start answers in the error envelope; one
 * later cuts the connection (a JSON answer cut short does not parse; a CSV one lacks its last lines).
 */

/** JSON of a value whose integers may be bigint: written as JSON numbers, every digit kept. */
function jsonText(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function csvField(value: unknown): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function wantsCsv(request: FastifyRequest): boolean {
  const { format } = request.query as { format?: string };
  if (format !== undefined) return format === "csv";
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(request.headers.accept ?? "");
}

type Pages<Row> = AsyncIterator<readonly Row[]>;

async function* csv<Row>(report: Report<Row>, pages: Pages<Row>, first: IteratorResult<readonly Row[]>) {
  yield `${report.columns.join(",")}\r\n`;
  for (let page = first; !page.done; page = await pages.next()) {
    yield page.value.map((row) => `${report.columns.map((c) => csvField(row[c])).join(",")}\r\n`).join("");
  }
}

async function* json<Row>(report: Report<Row>, pages: Pages<Row>, first: IteratorResult<readonly Row[]>) {
  const fields = (value: Record<string, unknown>) => jsonText(value).slice(1, -1);
  const head = fields(report.head);
  yield `{${head}${head === "" ? "" : ","}"rows":[`;
  let separator = "";
  for (let page = first; !page.done; page = await pages.next()) {
    if (page.value.length === 0) continue;
    const rows = page.value.map((row) =>
      jsonText(Object.fromEntries(report.columns.map((c) => [c, row[c]]))),
    );
    yield separator + rows.join(",");
    separator = ",";
  }
  const tail = fields(report.tail());
  yield `]${tail === "" ? "" : ","}${tail}}`;
}

/**
 * The chunks as a stream that reads the next one only when the response wants more. However it
 * ends — the last chunk, a failure, the client gone — the pages are closed, which ends the cursor's
 * transaction (an async generator not started yet would skip its own `finally`).
 */
function readableOf<Row>(chunks: AsyncGenerator<string>, pages: Pages<Row>): Readable {
  return new Readable({
    async read() {
      try {
        const next = await chunks.next();
        this.push(next.done ? null : next.value);
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    },
    destroy(error, done) {
      Promise.all([chunks.return(undefined), pages.return?.()]).then(
        () => done(error),
        (closing: unknown) =>
          done(error ?? (closing instanceof Error ? closing : new Error(String(closing)))),
      );
    },
  });
}

/** Answers a value whose integers may be bigint as JSON (`jsonText`), every digit kept. */
export function sendJson(reply: FastifyReply, value: unknown) {
  return reply.type("application/json; charset=utf-8").send(jsonText(value));
}

/** Streams `report` as JSON or CSV (`?format=csv` or `Accept: text/csv`), or answers its refusal. */
export async function sendReport<Row>(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: Outcome<Report<Row>>,
  name: string,
) {
  if (!outcome.ok) return sendOutcome(reply, outcome, 200);
  const report = outcome.value;
  const pages = report.pages[Symbol.asyncIterator]();
  const first = await pages.next();
  if (wantsCsv(request)) {
    reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${name}.csv"`);
    return reply.send(readableOf(csv(report, pages, first), pages));
  }
  return reply.type("application/json; charset=utf-8").send(readableOf(json(report, pages, first), pages));
}
