import { createHmac } from "node:crypto";
import type { ClaimedDelivery } from "../../app/notifications/ports.js";
import type { NotificationTransport } from "../../app/notifications/relay.js";
import type { NotificationMessage } from "../../domain/notifications/index.js";

/** The header that carries a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "kopilka-signature";

/**
 * R31: a delivery's signature, as Stripe signs: HMAC-SHA256 with the subscription's secret over
 * `<timestamp>.<body>`, so a receiver can check both that Kopilka sent the body and that it was
 * sent recently (an old delivery replayed by someone else fails the receiver's tolerance).
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * POSTs each notification to its webhook's URL, signed; any 2xx is acceptance, anything else (or
 * no answer within the time-out, or a redirect, which is not followed) a failure to retry.
 */
export class WebhookTransport implements NotificationTransport {
  constructor(
    private readonly timeoutMs: number,
    /** Real time: receivers compare the signature's timestamp with their own clock. */
    private readonly unixSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async send(delivery: ClaimedDelivery, message: NotificationMessage, body: string): Promise<void> {
    if (delivery.url === null || delivery.secret === null)
      throw new Error(`webhook ${delivery.targetId} has no URL or secret`);
    let response: Response;
    try {
      response = await fetch(delivery.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Kopilka-Webhooks/1",
          [SIGNATURE_HEADER]: signatureHeader(delivery.secret, body, this.unixSeconds()),
          "kopilka-notification-id": message.id,
          "kopilka-notification-type": message.type,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause =
        error instanceof Error && error.name === "TimeoutError"
          ? `no answer within ${this.timeoutMs} ms`
          : String((error as Error).cause ?? error);
      throw new Error(`the endpoint could not be reached: ${cause}`);
    }
    // The body is not read: only the status counts, and an endpoint's page must not fill memory.
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299)
      throw new Error(`the endpoint answered ${response.status}`);
  }
}
