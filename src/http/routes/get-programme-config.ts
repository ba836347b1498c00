import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../context.js";
import { ProgrammeConfigSchema } from "../order-schemas.js";

export const ConfigVersionSchema = Type.Object(
  {
    version: Type.Integer(),
    effectiveFrom: Type.String({ format: "date-time" }),
    config: ProgrammeConfigSchema,
    previousConfig: ProgrammeConfigSchema,
    reason: Type.String(),
    createdBy: Type.String({ description: "The API key that made the change" }),
    createdAt: Type.String({ format: "date-time" }),
  },
  { description: "One version of the programme rules" },
);

export function register(app: App, { orders }: RouteDeps) {
  app.get(
    "/v1/config/programme",
    {
      config: { access: { roles: ["operator", "support", "readonly"] } },
      schema: {
        operationId: "getProgrammeConfig",
        tags: ["configuration"],
        summary: "Every version of the earning and spending rules (R7-R20), with who changed what and when",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            current: Type.Integer({
              description: "The version in force now; 0 means the defaults of rules.md",
            }),
            defaults: ProgrammeConfigSchema,
            versions: Type.Array(ConfigVersionSchema),
          }),
          ...errorResponses(),
        },
      },
    },
    async () => orders.listConfigVersions(),
  );
}
