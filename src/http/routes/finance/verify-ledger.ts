import { Type } from "typebox";
import { RECONCILIATION_CHECKS } from "../../../app/finance/ports.js";
import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { literals } from "../../schemas.js";
import { sendJson } from "./report-answer.js";
import { FINANCE_READERS, Points } from "./schemas.js";

export function register(app: App, { finance }: RouteDeps) {
  app.get(
    "/v1/finance/verify",
    {
      config: { access: { roles: FINANCE_READERS } },
      schema: {
        operationId: "verifyLedger",
        tags: ["finance"],
        summary:
          "The reconciliation: every movement nets to zero, all accounts sum to zero, balances equal lots and holds, funders match their postings (R32)",
        description:
          "The checks of `kopilka verify`, over one snapshot of the whole ledger. `ok` is false when a check fails; the first 100 violations are listed (`truncated`: there were more). It reads every movement: an auditor's request, not a health check.",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            checkedAt: Type.String({ format: "date-time" }),
            movements: Points("Movements checked"),
            postings: Type.Object(
              {
                wallets: Points("Posted to the customers' wallets: what they hold, less debt"),
                sinks: Points("Posted to the sinks: redeemed, expired, clawed back"),
                funders: Points("Posted to the funders: what they paid out (negative)"),
                total: Points("All postings: 0 when the ledger balances"),
              },
              { description: "R32: the trial balance" },
            ),
            violations: Type.Array(
              Type.Object({
                check: literals(RECONCILIATION_CHECKS, "The check that failed"),
                message: Type.String(),
              }),
            ),
            truncated: Type.Boolean(),
          }),
          ...errorResponses(),
        },
      },
    },
    async (_request, reply) => sendJson(reply, await finance.verify()),
  );
}
