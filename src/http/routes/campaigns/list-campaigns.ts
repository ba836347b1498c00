import { Type } from "typebox";
import { type App, errorResponses, principalOf, type RouteDeps } from "../../context.js";
import { CAMPAIGN_READERS, CampaignListQuery, CampaignSchema } from "./schemas.js";

export function register(app: App, { campaigns }: RouteDeps) {
  app.get(
    "/v1/campaigns",
    {
      config: { access: { roles: CAMPAIGN_READERS } },
      schema: {
        operationId: "listCampaigns",
        tags: ["campaigns"],
        summary: "R26: campaigns, oldest first, in pages; a seller key sees its own",
        security: [{ bearer: [] }],
        querystring: CampaignListQuery,
        response: {
          200: Type.Object({
            items: Type.Array(CampaignSchema),
            next: Type.Union([Type.String(), Type.Null()], {
              description: "Cursor of the next page, or null",
            }),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) =>
      campaigns.list(
        {
          state: request.query.state,
          after: request.query.after,
          limit: Number(request.query.limit ?? 100),
        },
        principalOf(request),
      ),
  );
}
