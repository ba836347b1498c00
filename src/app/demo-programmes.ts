import { demoCustomerId } from "./demo.js";
import type { InviteService } from "./invites/invite-service.js";
import type { ManagerService } from "./managers/manager-service.js";
import type { IncomingEvent, OrderService } from "./order-service.js";

const DAY = 86_400_000;

/** The demo's promo code: what a visitor types into `promoCode` to try R24. */
export const DEMO_PROMO_CODE = "DEMO-MANAGER";

/**
 * R23 and R24 in the demo, through the services the API uses: the first demo customer invites two
 * friends (one whose first order shipped yesterday — the reward pending — and one who has not
 * ordered yet) and is a manager whose code another demo customer used this week (referral points
 * pending until the month ends; its own purchases this month so far count toward the threshold).
 * Friends and buyers are new demo customers after the ledger's own (`demoCustomerId(n)` onwards).
 */
export async function loadProgrammesDemo(
  services: { invites: InviteService; managers: ManagerService; orders: OrderService },
  input: { firstFreeIndex: number; now: Date },
): Promise<{ customers: number }> {
  const actor = "demo";
  let n = 0;
  const request = () => {
    n += 1;
    return { idempotencyKey: `demo-${n}`, fingerprint: `demo-${n}`, requestId: `demo-${n}`, actor };
  };
  const inviter = demoCustomerId(0);
  const [friend, waitingFriend, buyer] = [0, 1, 2].map((i) => demoCustomerId(input.firstFreeIndex + i)) as [
    string,
    string,
    string,
  ];
  const at = (daysAgo: number) => new Date(input.now.getTime() - daysAgo * DAY);

  const code = await services.invites.code(inviter, {}, request());
  if (!code.ok) throw new Error(`demo invite code: ${code.message}`);
  for (const f of [friend, waitingFriend]) {
    const registered = await services.invites.register(
      { friendId: f, code: code.value.code, registeredAt: at(3) },
      request(),
    );
    if (!registered.ok) throw new Error(`demo invitation: ${registered.message}`);
  }
  const granted = await services.managers.grant(inviter, DEMO_PROMO_CODE, request());
  if (!granted.ok) throw new Error(`demo manager: ${granted.message}`);

  const order = (customerId: string, orderId: string, priceKop: number, promoCode?: string) => {
    const events: IncomingEvent["event"][] = [
      {
        type: "placed",
        eventId: `${orderId}.1`,
        orderId,
        customerId,
        occurredAt: at(1),
        lines: [
          {
            lineId: "1",
            sku: "90001",
            sellerId: "s-1",
            category: "books",
            quantity: 1,
            unitPriceKop: priceKop,
          },
        ],
        paymentMethod: "other_card",
        spend: { bonus: 0, savings: 0, referral: 0 },
        ...(promoCode ? { promoCode } : {}),
      },
      { type: "paid", eventId: `${orderId}.2`, orderId, customerId, occurredAt: at(1) },
      { type: "shipped", eventId: `${orderId}.3`, orderId, customerId, occurredAt: at(1) },
    ];
    return events.map((event) => ({ event, fingerprint: event.eventId }));
  };
  // The friend's first order, 3,500 RUB (W11: 300 points for the inviter); a buyer's order of
  // 12,000 RUB with the manager's code (5%: 600 referral points); the manager's own order of 1,800 RUB.
  await services.orders.handleEvents(
    [
      ...order(friend, "70001", 350_000),
      ...order(buyer, "70002", 1_200_000, DEMO_PROMO_CODE),
      ...order(inviter, "70003", 180_000),
    ],
    actor,
  );
  return { customers: 3 };
}
