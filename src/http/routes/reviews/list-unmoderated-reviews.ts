import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendForeignCursor } from "../../context.js";
import { PageCursor, PageLimit } from "../../schemas.js";

export function register(app: App, { reviews }: RouteDeps) {
  app.get(
    "/v1/reviews/unmoderated",
    {
      config: { access: { roles: ["operator", "support", "readonly"] } },
      schema: {
        operationId: "listUnmoderatedReviews",
        tags: ["reviews"],
        summary: "R22: reviews still awaiting moderation after some days, oldest first",
        description:
          "Moderation is due within the programme's moderationDays (default 3) of submission; by default this lists the reviews past that. A walk of an index of the awaiting reviews, in pages.",
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            olderThanDays: Type.Optional(
              Type.String({
                pattern: "^(?:0|[1-9][0-9]{0,3})$",
                description:
                  "Only reviews submitted at least this many days ago (0-9999, default moderationDays)",
              }),
            ),
            limit: PageLimit,
            after: PageCursor,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            olderThanDays: Type.Integer(),
            items: Type.Array(
              Type.Object({
                customerId: Type.String(),
                reviewId: Type.String(),
                sku: Type.String(),
                sellerId: Type.String(),
                orderId: Type.String(),
                points: Type.Integer({ description: "Pending until the review is moderated" }),
                submittedAt: Type.String({ format: "date-time" }),
                waitingDays: Type.Integer({ description: "Whole days since submission" }),
              }),
            ),
            next: Type.Union([Type.String(), Type.Null()], {
              description: "Cursor of the next page, or null",
            }),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      const { olderThanDays, limit, after } = request.query;
      const page = await reviews.listUnmoderated({
        olderThanDays: olderThanDays === undefined ? undefined : Number(olderThanDays),
        limit: Number(limit ?? 100),
        after,
      });
      return page ?? sendForeignCursor(reply);
    },
  );
}
