import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendForeignCursor } from "../context.js";
import { WaitingEventSchema } from "../order-schemas.js";
import { PageCursor, PageLimit } from "../schemas.js";

export function register(app: App, { orders }: RouteDeps) {
  app.get(
    "/v1/order-events/waiting",
    {
      config: { access: { roles: ["operator", "support", "readonly"] } },
      schema: {
        operationId: "listWaitingOrderEvents",
        tags: ["orders"],
        summary: "Order events of every customer that cannot apply yet and wait, oldest first",
        description:
          "An event waits for an earlier sequence number, or — without `sequence` — for an event that could make it valid (the order to be placed, paid or shipped). Nothing should wait long: the metrics `kopilka_order_events_waiting` and `kopilka_order_events_waiting_oldest_seconds` count them.",
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            olderThanSeconds: Type.Optional(
              Type.String({
                pattern: "^(?:0|[1-9][0-9]{0,7})$",
                description: "Only events waiting at least this many seconds (0-99999999, default 0)",
              }),
            ),
            limit: PageLimit,
            after: PageCursor,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            events: Type.Array(WaitingEventSchema),
            next: Type.Union([Type.String(), Type.Null()], {
              description: "Cursor of the next page, or null",
            }),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      const page = await orders.listWaitingEvents({
        olderThanSeconds: Number(request.query.olderThanSeconds ?? 0),
        limit: Number(request.query.limit ?? 100),
        after: request.query.after,
      });
      return page ?? sendForeignCursor(reply);
    },
  );
}
