import { Type } from "typebox";
import { REPORT_COLUMNS } from "../../../app/finance/finance-service.js";
import type { App, RouteDeps } from "../../context.js";
import { sendReport } from "./report-answer.js";
import { FINANCE_READERS, Points, perKind, ReportQuery, ROW_FIELDS, reportResponses } from "./schemas.js";

const Figures = {
  pending: Points("R13: credited, not available yet"),
  available: Points("R6: spendable"),
  held: Points("R20: reserved by active holds"),
  outstanding: Points("pending + available + held"),
};

export function register(app: App, { finance }: RouteDeps) {
  app.get(
    "/v1/finance/liability",
    {
      config: { access: { roles: FINANCE_READERS } },
      schema: {
        operationId: "getLiability",
        tags: ["finance"],
        summary: "Outstanding points by kind and funder: pending, available, held (R3, R6, R20)",
        description:
          "The ledger as recorded now, across every customer: the remaining points of pending and available lots and the points active holds took from them, by the kind and the funder of the lots. Totals per kind equal the sums of the customers' balances. Streamed: JSON by default, CSV with `?format=csv` or `Accept: text/csv`.",
        security: [{ bearer: [] }],
        querystring: ReportQuery,
        response: reportResponses(
          Type.Object({
            asOf: Type.String({ format: "date-time" }),
            rows: Type.Array(Type.Object({ kind: ROW_FIELDS.kind, funder: ROW_FIELDS.funder, ...Figures })),
            totals: perKind(Type.Object(Figures)),
          }),
          REPORT_COLUMNS.liability,
        ),
      },
    },
    async (request, reply) =>
      sendReport(request, reply, { ok: true, value: finance.liability() }, "liability"),
  );
}
