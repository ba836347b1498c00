import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { CustomerParams } from "../../schemas.js";

const ScheduleSchema = Type.Object(
  {
    amount: Type.Integer({ description: "Kopecks" }),
    rateBp: Type.Integer(),
    months: Type.Array(
      Type.Object({ month: Type.Integer(), points: Type.Integer(), total: Type.Integer() }),
      { description: "Month by month: the points paid and the total so far" },
    ),
    total: Type.Integer({ description: "Points over the whole term" }),
  },
  { description: "R25: what an amount kept on the savings account pays" },
);

export function register(app: App, { savings }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/savings/calculator",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "calculateSavingsInterest",
        tags: ["savings"],
        summary: "R25: the interest schedule for an amount, a rate and a term (writes nothing)",
        security: [{ bearer: [] }],
        params: CustomerParams,
        querystring: Type.Object(
          {
            amount: Type.String({ pattern: "^[1-9][0-9]{0,11}$", description: "Kopecks, 1 to 10^12 − 1" }),
            months: Type.String({
              pattern: "^(?:[1-9]|[1-9][0-9]|[1-5][0-9]{2}|600)$",
              description: "1-600",
            }),
            rateBp: Type.Optional(
              Type.String({
                pattern: "^(?:0|[1-9][0-9]{0,2}|1[0-7][0-9]{2}|1800)$",
                description: "Yearly rate, basis points 0-1800; default the programme's",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: ScheduleSchema, ...errorResponses() },
      },
    },
    async (request) => {
      const { amount, months, rateBp } = request.query;
      return savings.calculate(
        Number(amount),
        Number(months),
        rateBp === undefined ? undefined : Number(rateBp),
      );
    },
  );
}
