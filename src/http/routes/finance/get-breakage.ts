import { Type } from "typebox";
import { REPORT_COLUMNS } from "../../../app/finance/finance-service.js";
import type { App, RouteDeps } from "../../context.js";
import { sendReport } from "./report-answer.js";
import { FINANCE_READERS, MonthRangeQuery, Points, perKind, ROW_FIELDS, reportResponses } from "./schemas.js";

export function register(app: App, { finance }: RouteDeps) {
  app.get(
    "/v1/finance/breakage",
    {
      config: { access: { roles: FINANCE_READERS } },
      schema: {
        operationId: "getBreakage",
        tags: ["finance"],
        summary: "Breakage: points expired per month, by kind and funder (R5)",
        description:
          "What expiry movements wrote off in each month from `from` through `to` (months in KOPILKA_TIME_ZONE), out of whose lots. A month, kind and funder with nothing expired has no row. Streamed: JSON by default, CSV with `?format=csv` or `Accept: text/csv`.",
        security: [{ bearer: [] }],
        querystring: MonthRangeQuery,
        response: reportResponses(
          Type.Object({
            from: ROW_FIELDS.month,
            to: ROW_FIELDS.month,
            timeZone: Type.String(),
            rows: Type.Array(
              Type.Object({
                month: ROW_FIELDS.month,
                kind: ROW_FIELDS.kind,
                funder: ROW_FIELDS.funder,
                expired: Points("Written off as expired"),
              }),
            ),
            totals: perKind(Points("Expired in the months asked")),
          }),
          REPORT_COLUMNS.breakage,
        ),
      },
    },
    async (request, reply) => sendReport(request, reply, finance.breakage(request.query), "breakage"),
  );
}
