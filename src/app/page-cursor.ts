/**
 * The cursor of an operator listing ordered by (instant, customer, id) across customers: where the
 * last item of a page sits, opaque to callers (base64url of its three keys).
 */
export interface PagePosition {
  at: Date;
  customerId: string;
  id: string;
}

export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.customerId, position.id])).toString(
    "base64url",
  );
}

/** The position a cursor names; undefined when it is not one a listing gave. */
export function decodePageCursor(cursor: string): PagePosition | undefined {
  try {
    const [at, customerId, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    const instant = new Date(String(at));
    if (typeof customerId !== "string" || typeof id !== "string" || Number.isNaN(instant.getTime())) {
      return undefined;
    }
    return { at: instant, customerId, id };
  } catch {
    return undefined;
  }
}
