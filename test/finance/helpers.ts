import { sql } from "kysely";
import { expect } from "vitest";
import type { httpHarness } from "../support/http.js";

/** Shared by the finance tests: ledger writes through the API and the reports as they answer. */

export type Harness = Awaited<ReturnType<typeof httpHarness>>;
export type Kind = "bonus" | "savings" | "referral";
const KINDS: readonly Kind[] = ["bonus", "savings", "referral"];

export interface Figures {
  pending: number;
  available: number;
  held: number;
  outstanding: number;
}

export function financeApi(h: Harness) {
  const write = async (url: string, body: unknown, status = 201, key = h.keys.operator) => {
    const res = await h.send({ method: "POST", url, key, body });
    expect(res.statusCode, `${url}: ${res.body}`).toBe(status);
    return res.json();
  };
  return {
    credit: (
      customerId: string,
      body: {
        kind: Kind;
        amount: number;
        source: string;
        funder: string;
        availableFrom?: string;
        expiresAt?: string;
      },
      key = h.keys.operator,
    ) => write(`/v1/customers/${customerId}/credits`, body, 201, key) as Promise<{ lotId: string }>,
    spend: (customerId: string, redemptionId: string, amount: number, kind: Kind = "bonus") =>
      write(`/v1/customers/${customerId}/spends`, { redemptionId, kind, amount }),
    hold: (customerId: string, holdId: string, amount: number, kind: Kind = "bonus") =>
      write(`/v1/customers/${customerId}/holds`, { holdId, kind, amount }),
    capture: (customerId: string, holdId: string) =>
      write(`/v1/customers/${customerId}/holds/${holdId}/capture`, undefined, 200),
    clawback: (customerId: string, body: { kind: Kind; amount: number; lotId?: string }) =>
      write(`/v1/customers/${customerId}/clawbacks`, body),
    adjust: (customerId: string, kind: Kind, amount: number) =>
      write(`/v1/customers/${customerId}/adjustments`, { kind, amount, reason: "finance test" }),
    /** A balance read settles what time made due (R5 expiry, R13 availability) first. */
    settle: async (customerId: string) => {
      const res = await h.send({
        method: "GET",
        url: `/v1/customers/${customerId}/balance`,
        key: h.keys.operator,
      });
      expect(res.statusCode, res.body).toBe(200);
    },
    /** A report's JSON answer (200 asserted). */
    report: async (url: string, key = h.keys.operator) => {
      const res = await h.send({ method: "GET", url, key });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      return res.json();
    },
  };
}

/** The rows of a report that name `funder`. */
export function rowsOf(body: { rows: Record<string, unknown>[] }, funder: string): Record<string, unknown>[] {
  return body.rows.filter((r) => r.funder === funder);
}

/** The balance cache summed over every customer, per kind, as the liability's totals give it. */
export async function balanceTotals(h: Harness): Promise<Record<Kind, Figures>> {
  const result = await sql<{ kind: Kind; pending: number; available: number; held: number }>`
    select kind, sum(pending)::int as pending, sum(available)::int as available, sum(held)::int as held
    from balances group by kind`.execute(h.database.db);
  const totals = Object.fromEntries(
    KINDS.map((kind) => [kind, { pending: 0, available: 0, held: 0, outstanding: 0 }]),
  ) as Record<Kind, Figures>;
  for (const { kind, pending, available, held } of result.rows) {
    totals[kind] = { pending, available, held, outstanding: pending + available + held };
  }
  return totals;
}

/** A CSV answer's rows as objects of its header's columns (RFC 4180 lines, no quoted fields expected). */
export function csvRows(text: string): { header: string[]; rows: Record<string, string>[] } {
  expect(text.endsWith("\r\n")).toBe(true);
  const [head = "", ...lines] = text.slice(0, -2).split("\r\n");
  const header = head.split(",");
  return {
    header,
    rows: lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [header[i], v]))),
  };
}
