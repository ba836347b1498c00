import { timingSafeEqual } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyError } from "fastify";
import { Type } from "typebox";
import type { AccessService } from "../app/access.js";
import type { IdGenerator } from "../app/ports.js";
import { isDatabaseUnavailable } from "../app/unavailable.js";
import { type App, type RouteDeps, sendError } from "./context.js";
import { ApiError, ErrorEnvelope } from "./errors.js";
import { ROUTES } from "./routes/index.js";
import { HealthSchema } from "./schemas.js";

export interface ServerOptions {
  deps: RouteDeps;
  access: AccessService;
  ids: IdGenerator;
  bodyLimitBytes: number;
  /** A pino logger, or undefined for none (tests). */
  logger: FastifyBaseLogger | undefined;
  /** Answers /ready: undefined when the service can take requests, else why not. */
  ready: () => Promise<string | undefined>;
  /** Shutting down: requests that still arrive on open connections are refused (503). */
  closing: () => boolean;
  /** Prometheus metrics for `GET /metrics`. */
  metrics: {
    registry: { contentType: string; metrics(): Promise<string> };
    observeRequest(method: string, route: string, status: number, seconds: number): void;
  };
  /** KOPILKA_METRICS_TOKEN: when set, `GET /metrics` needs `Authorization: Bearer <it>`. */
  metricsToken?: string | undefined;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Ajv's errors as `{ field, message }` with a field path a person can find in their request. */
function validationFields(errors: AjvError[], context: string): { field: string; message: string }[] {
  return errors.map((e) => {
    const base = `${context}${e.instancePath.replace(/\/(\d+)(?=\/|$)/g, "[$1]").replaceAll("/", ".")}`;
    if (e.keyword === "required")
      return { field: `${base}.${String(e.params.missingProperty)}`, message: "is required" };
    if (e.keyword === "additionalProperties") {
      return { field: `${base}.${String(e.params.additionalProperty)}`, message: "is not a known field" };
    }
    // A discriminated union (`effect.type`): the tag names the field, not the object holding it.
    if (e.keyword === "discriminator")
      return {
        field: `${base}.${String(e.params.tag)}`,
        message: `"${String(e.params.tag)}" must be one of the documented values, got ${JSON.stringify(e.params.tagValue)}`,
      };
    if (e.keyword === "enum" && Array.isArray(e.params.allowedValues)) {
      return { field: base, message: `must be one of ${e.params.allowedValues.join(", ")}` };
    }
    return { field: base, message: e.message ?? e.keyword };
  });
}

/** An incoming X-Request-Id kept as the request's id: short, and safe to log and echo. */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** How much of a path an error message repeats: enough to recognise, never a whole long URL. */
function shownPath(url: string): string {
  const path = url.split("?")[0] ?? "";
  return path.length > 120 ? `${path.slice(0, 120)}…` : path;
}

/** `/v1/orders/:orderId` as a pattern matching concrete paths, for telling 405 from 404. */
function pathPattern(url: string): RegExp {
  const escaped = url
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}$`);
}

export async function buildServer(options: ServerOptions): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimitBytes,
    // The caller's X-Request-Id when it is well-formed (so its logs and ours share an id), else ours.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && WELL_FORMED_REQUEST_ID.test(given)
        ? given
        : options.ids.newId("req");
    },
    requestIdHeader: false,
    // Long path ids reach the route, whose schema refuses them naming the field (Fastify's default
    // of 100 characters would answer 404 instead); Node's 16 KB header limit bounds the URL anyway.
    routerOptions: { maxParamLength: 16_384 },
    // Refused in our envelope by the first hook instead (see `closing`).
    return503OnClosing: false,
    // Errors Fastify raises before routing (a bad percent-encoding in the path) get the envelope too.
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id);
      sendError(
        reply,
        "VALIDATION_FAILED",
        `the request is malformed (${error.code}): ${shownPath(request.url)}`,
        {},
        request.id,
      );
    },
    ajv: {
      // Unknown fields are refused, never silently dropped; types are never coerced in bodies.
      // `discriminator`: a union tagged by a field (a campaign's effect) reports the branch it names.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: true,
        useDefaults: false,
        discriminator: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: a text/plain body is 415, never parsed.
  app.removeContentTypeParser("text/plain");
  app.addSchema(ErrorEnvelope);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Kopilka",
        version: "0.1.0",
        description:
          "Loyalty points for marketplaces: an append-only double-entry ledger with lots, holds, expiry, clawbacks and refunds.",
      },
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description: "An API key (`kpk_…`) or a customer token (JWT) for the customer's own data",
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  // Latency by route template (never the URL: ids would make a series per customer) and status.
  app.addHook("onResponse", async (request, reply) => {
    options.metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
    // The server waits for open connections when it closes: answers given meanwhile close theirs.
    if (options.closing()) reply.header("connection", "close");
  });

  // While shutting down, a request that arrives on a connection kept alive is refused and told to
  // go elsewhere; what was in flight finishes. /health and /ready still answer.
  app.addHook("onRequest", async (request, reply) => {
    if (!options.closing() || request.url === "/health" || request.url === "/ready") return;
    reply.header("connection", "close");
    throw new ApiError(
      "SERVICE_UNAVAILABLE",
      "the service is shutting down: send the request again (with the same Idempotency-Key) to another instance",
    );
  });

  app.addHook("onRequest", async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    const header = request.headers.authorization;
    // The scheme name is case-insensitive (RFC 9110).
    const bearer = header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (!bearer)
      throw new ApiError("UNAUTHENTICATED", "send an API key or customer token as `Authorization: Bearer …`");
    const principal = await options.access.authenticate(bearer);
    if (!principal) throw new ApiError("UNAUTHENTICATED", "the API key or customer token is not valid");
    if (principal.type === "customer") {
      if (!access.customerSelf) throw new ApiError("FORBIDDEN", "customer tokens cannot call this route");
    } else if (!access.roles.includes(principal.role)) {
      throw new ApiError("FORBIDDEN", `the ${principal.role} role cannot call this route`, {
        allowedRoles: access.roles,
      });
    }
    request.principal = principal;
  });

  // A customer token may only name its own customer, wherever the request names one.
  app.addHook("preHandler", async (request) => {
    const principal = request.principal;
    if (principal?.type !== "customer") return;
    const named = [request.params, request.query, request.body].map(
      (part) => (part as { customerId?: unknown } | undefined)?.customerId,
    );
    const customerId = named.find((id) => id !== undefined);
    if (customerId !== principal.customerId) {
      throw new ApiError("FORBIDDEN", "a customer token can only read its own customer's data");
    }
  });

  app.setErrorHandler(
    (error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
      if (error instanceof ApiError)
        return sendError(reply, error.code, error.message, error.details, request.id);
      if (error.validation) {
        const fields = validationFields(error.validation, error.validationContext ?? "body");
        const first = fields[0];
        const message = first ? `${first.field} ${first.message}` : "the request is not valid";
        return sendError(reply, "VALIDATION_FAILED", message, { fields }, request.id);
      }
      if (error.statusCode === 413 || error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        return sendError(
          reply,
          "PAYLOAD_TOO_LARGE",
          `the body is larger than ${options.bodyLimitBytes} bytes`,
          {},
          request.id,
        );
      }
      if (error.statusCode === 415) {
        return sendError(
          reply,
          "UNSUPPORTED_MEDIA_TYPE",
          "send the body as application/json",
          {},
          request.id,
        );
      }
      if (error.statusCode === 400) {
        return sendError(
          reply,
          "MALFORMED_JSON",
          `the body is not valid JSON: ${error.message}`,
          {},
          request.id,
        );
      }
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: error }, "database unavailable");
        return sendError(
          reply,
          "SERVICE_UNAVAILABLE",
          "the database cannot be reached; nothing was written unless a retry with the same Idempotency-Key says so",
          {},
          request.id,
        );
      }
      request.log.error({ err: error }, "unhandled error");
      return sendError(
        reply,
        "INTERNAL",
        "something went wrong on our side; it has been logged",
        {},
        request.id,
      );
    },
  );

  // Every route's method and path pattern: a known path asked with another method is 405.
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, pattern: pathPattern(route.url) });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      reply.header("allow", allowed.join(", "));
      return sendError(
        reply,
        "METHOD_NOT_ALLOWED",
        `${request.method} is not allowed on ${shownPath(request.url)}; use ${allowed.join(" or ")}`,
        { allowedMethods: allowed },
        request.id,
      );
    }
    return sendError(
      reply,
      "NOT_FOUND",
      `no route ${request.method} ${shownPath(request.url)}`,
      {},
      request.id,
    );
  });

  for (const register of ROUTES) register(app, options.deps);

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get(
    "/metrics",
    {
      schema: {
        operationId: "metrics",
        tags: ["service"],
        summary: "Prometheus metrics (text exposition format)",
        response: { 200: Type.String(), 503: { $ref: "ErrorEnvelope#" } },
      },
    },
    async (request, reply) => {
      if (
        options.metricsToken !== undefined &&
        !sameSecret(request.headers.authorization, options.metricsToken)
      ) {
        throw new ApiError("UNAUTHENTICATED", "send KOPILKA_METRICS_TOKEN as `Authorization: Bearer …`");
      }
      const { registry } = options.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
  app.get(
    "/health",
    {
      schema: {
        operationId: "health",
        tags: ["service"],
        summary: "The process is up",
        response: { 200: HealthSchema },
      },
    },
    async () => ({ status: "ok" as const }),
  );
  app.get(
    "/ready",
    {
      schema: {
        operationId: "ready",
        tags: ["service"],
        summary: "The service can reach its database",
        response: { 200: HealthSchema, 503: { $ref: "ErrorEnvelope#" } },
      },
    },
    async (request, reply) => {
      const notReady = await options.ready();
      if (notReady === undefined) return { status: "ok" as const };
      return sendError(reply, "SERVICE_UNAVAILABLE", notReady, {}, request.id);
    },
  );
  return app;
}

/** Whether `Authorization` carries exactly `Bearer <secret>`, compared in constant time. */
function sameSecret(header: string | undefined, secret: string): boolean {
  const given = Buffer.from(header && /^bearer /i.test(header) ? header.slice(7).trim() : "");
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
