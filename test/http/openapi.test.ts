import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/http/errors.js";
import { httpHarness } from "../support/http.js";
import { type Harness, ROUTES, WRITE_ROUTES } from "./routes-table.js";

interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }>;
  };
}

describe("GET /openapi.json", () => {
  let h: Harness;
  let doc: Document;
  beforeAll(async () => {
    h = await httpHarness();
    const res = await h.send({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    doc = res.json();
  });
  afterAll(async () => {
    await h.close();
  });

  it("is OpenAPI 3.1.0", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it.each(ROUTES)(
    "documents $operationId as $method $path, behind the bearer scheme, with its errors",
    (route) => {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId).toBe(route.operationId);
      expect(operation?.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation?.responses ?? {})).toEqual(
        expect.arrayContaining([String(route.success), "400", "401", "403", "413", "415", "500", "503"]),
      );
    },
  );

  it.each(WRITE_ROUTES.filter((r) => r.operationId !== "postOrderEvents"))(
    "declares the required Idempotency-Key header and 409 on $operationId",
    (route) => {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.parameters).toContainEqual(
        expect.objectContaining({ in: "header", name: "idempotency-key", required: true }),
      );
      expect(Object.keys(operation?.responses ?? {})).toContain("409");
    },
  );

  it("lists the closed set of error codes in the ErrorEnvelope schema", () => {
    expect(doc.components.schemas.ErrorEnvelope?.properties.error.properties.code.enum).toEqual([
      ...ERROR_CODES,
    ]);
  });

  it("equals the committed openapi.json (run `npm run openapi` after changing a route)", () => {
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, "../../openapi.json"), "utf8"));
    expect(doc).toEqual(committed);
  });
});
