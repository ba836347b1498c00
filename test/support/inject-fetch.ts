import type { FastifyInstance, HTTPMethods } from "fastify";

/** Statuses whose response has no body: the Fetch standard refuses to build one with a body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * A fetch answered by Fastify's `inject`, without a socket: the request's method, path and query,
 * headers and body bytes go in as the client built them, and the status, headers (repeated ones
 * too) and body bytes come back as the server wrote them. The typed client (@kopilka/client) runs on
 * it, so tests send what the client's callers send, without a port.
 */
export function injectFetch(app: FastifyInstance): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const payload = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
    const answer = await app.inject({
      method: request.method as HTTPMethods,
      url: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(request.headers),
      ...(payload === undefined ? {} : { payload }),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of [value].flat()) if (one !== undefined) headers.append(name, String(one));
    }
    // Copied: BodyInit takes views of a plain ArrayBuffer only, and a Buffer's may be shared.
    const body = NULL_BODY_STATUSES.has(answer.statusCode) ? null : new Uint8Array(answer.rawPayload);
    return new Response(body, { status: answer.statusCode, statusText: answer.statusMessage, headers });
  };
}
