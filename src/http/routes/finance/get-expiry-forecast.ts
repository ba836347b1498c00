import { Type } from "typebox";
import { REPORT_COLUMNS } from "../../../app/finance/finance-service.js";
import type { App, RouteDeps } from "../../context.js";
import { sendReport } from "./report-answer.js";
import { FINANCE_READERS, Points, perKind, ReportQuery, ROW_FIELDS, reportResponses } from "./schemas.js";

export function register(app: App, { finance }: RouteDeps) {
  app.get(
    "/v1/finance/expiry-forecast",
    {
      config: { access: { roles: FINANCE_READERS } },
      schema: {
        operationId: "getExpiryForecast",
        tags: ["finance"],
        summary:
          "Points that will expire unless spent, per month of the next 12, by kind and funder (R3, R5)",
        description:
          "This month (from now on) and the eleven after it, in KOPILKA_TIME_ZONE: the remaining points of available lots, and of pending lots whose expiry is already set, by the month they expire in. Points in active holds and lots awaiting a decision (a review's moderation, a manager's month) are not counted. Streamed: JSON by default, CSV with `?format=csv` or `Accept: text/csv`.",
        security: [{ bearer: [] }],
        querystring: ReportQuery,
        response: reportResponses(
          Type.Object({
            asOf: Type.String({ format: "date-time" }),
            timeZone: Type.String(),
            from: ROW_FIELDS.month,
            to: ROW_FIELDS.month,
            rows: Type.Array(
              Type.Object({
                month: ROW_FIELDS.month,
                kind: ROW_FIELDS.kind,
                funder: ROW_FIELDS.funder,
                expiring: Points("Expire in that month unless spent first"),
              }),
            ),
            totals: perKind(Points("Expire within the 12 months unless spent first")),
          }),
          REPORT_COLUMNS.expiryForecast,
        ),
      },
    },
    async (request, reply) =>
      sendReport(request, reply, { ok: true, value: finance.expiryForecast() }, "expiry-forecast"),
  );
}
