import { Type } from "typebox";
import { REPORT_COLUMNS } from "../../../app/finance/finance-service.js";
import { type App, principalOf, type RouteDeps } from "../../context.js";
import { Funder } from "../../schemas.js";
import { sendReport } from "./report-answer.js";
import { FINANCE_READERS, MonthRangeQuery, Points, ROW_FIELDS, reportResponses } from "./schemas.js";

const Figures = {
  issued: Points("Credited into the funder's lots (R3; refund grace lots aside, R15)"),
  clawedBack: Points("Taken back out of its lots: returns (R13, R14) and support removals (R34)"),
  expired: Points("Expired in its lots (R5)"),
  net: Points("issued − clawedBack − expired"),
};

export function register(app: App, { finance }: RouteDeps) {
  app.get(
    "/v1/finance/funders/:funder/statement",
    {
      config: { access: { roles: [...FINANCE_READERS, "seller"] } },
      schema: {
        operationId: "getFunderStatement",
        tags: ["finance"],
        summary: "A funder's statement per month: points issued, clawed back, expired, net (R32)",
        description:
          "Every month from `from` through `to` (months in KOPILKA_TIME_ZONE), months without a movement too. A seller key reads only its own, `seller:<its id>` (403 FORBIDDEN otherwise). Streamed: JSON by default, CSV with `?format=csv` or `Accept: text/csv`.",
        security: [{ bearer: [] }],
        params: Type.Object({ funder: Funder }),
        querystring: MonthRangeQuery,
        response: reportResponses(
          Type.Object({
            funder: Type.String(),
            from: ROW_FIELDS.month,
            to: ROW_FIELDS.month,
            timeZone: Type.String(),
            rows: Type.Array(Type.Object({ month: ROW_FIELDS.month, ...Figures })),
            totals: Type.Object(Figures),
          }),
          REPORT_COLUMNS.funderStatement,
        ),
      },
    },
    async (request, reply) =>
      sendReport(
        request,
        reply,
        finance.funderStatement(request.params.funder, request.query, principalOf(request)),
        "funder-statement",
      ),
  );
}
