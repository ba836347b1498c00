/**
 * R31: checking a Kopilka webhook delivery on the receiving side. Dependency-free (node:crypto only),
 * so a receiver may import `@kopilka/client/webhooks` without the HTTP client.
 *
 * Every delivery carries `kopilka-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 * signed with the subscription's secret when it was sent. Checking it proves that Kopilka sent this
 * body, and the timestamp bounds how old it is: a delivery captured and sent again later by someone
 * else fails the tolerance.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header a delivery's signature comes in. */
export const WEBHOOK_SIGNATURE_HEADER = "kopilka-signature";

export type WebhookVerification =
  | { ok: true; timestamp: number }
  | {
      ok: false;
      /**
       * malformed_header: no `t=<digits>` or no `v1=<64 hex digits>`; timestamp_outside_tolerance: signed
       * more than `toleranceSeconds` before (or after) now; signature_mismatch: another secret or body.
       */
      reason: "malformed_header" | "timestamp_outside_tolerance" | "signature_mismatch";
      message: string;
    };

export interface VerifyWebhookSignatureOptions {
  /** The subscription's signing secret (`whsec_…`), as the create answer showed it. */
  secret: string;
  /** The `kopilka-signature` header as received (Node gives a string; absent: undefined). */
  header: string | readonly string[] | null | undefined;
  /** The body exactly as received, bytes or text: never JSON parsed and serialized again. */
  body: string | Uint8Array;
  /** The most the signature's timestamp may differ from now, seconds; 300 unless given. */
  toleranceSeconds?: number;
  /** Now, for the tolerance; the system clock unless given. */
  now?: Date;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Whether a delivery was signed by Kopilka with `secret`, recently: ok, or why not. */
export function verifyWebhookSignature({
  secret,
  header,
  body,
  toleranceSeconds = 300,
  now = new Date(),
}: VerifyWebhookSignatureOptions): WebhookVerification {
  const value = typeof header === "string" ? header : header?.length === 1 ? header[0] : undefined;
  if (value === undefined)
    return refused("malformed_header", `expected one ${WEBHOOK_SIGNATURE_HEADER} header`);
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of value.split(",")) {
    const [name, v, ...rest] = part.trim().split("=");
    if (rest.length > 0 || v === undefined) continue;
    if (name === "t" && timestamp === undefined) timestamp = v;
    // Several v1 entries may come while a secret is being rotated: any one of them may match.
    if (name === "v1" && HEX_SHA256.test(v)) signatures.push(v);
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0)
    return refused("malformed_header", "expected t=<unix seconds>,v1=<hex HMAC-SHA256>");
  const signedAt = Number(timestamp);
  const age = now.getTime() / 1000 - signedAt;
  if (Math.abs(age) > toleranceSeconds)
    return refused(
      "timestamp_outside_tolerance",
      `signed ${Math.round(Math.abs(age))} s ${age >= 0 ? "ago" : "ahead"}, more than the ${toleranceSeconds} s allowed`,
    );
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  const matches = signatures.some((s) => timingSafeEqual(Buffer.from(s, "hex"), expected));
  if (!matches) return refused("signature_mismatch", "the signature does not match this body and secret");
  return { ok: true, timestamp: signedAt };
}

function refused(reason: Extract<WebhookVerification, { ok: false }>["reason"], message: string) {
  return { ok: false as const, reason, message };
}
