import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { verifyWebhookSignature } from "@kopilka/client/webhooks";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/infra/webhooks/webhook-transport.js";
import { assertProperty } from "../support/property.js";

type Snippet = (
  secret: string,
  header: unknown,
  body: string,
  tolerance?: number,
  nowSeconds?: number,
) => boolean;

/**
 * R31: the README's plain-Node verification snippet (run as written) and `verifyWebhookSignature`
 * from @kopilka/client agree with each other, and with how the service signs.
 */
describe("the README's signature check and verifyWebhookSignature agree", () => {
  let dir: string;
  let snippet: Snippet;
  beforeAll(async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const code = /<!-- webhook-verify-snippet[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!code) throw new Error("README.md has no webhook-verify-snippet block");
    expect(code.trim().split("\n").length).toBeLessThanOrEqual(16);
    dir = mkdtempSync(join(tmpdir(), "kopilka-snippet-"));
    const file = join(dir, "verify.mjs");
    writeFileSync(file, `${code}\nexport { verifyKopilkaSignature };\n`);
    snippet = (await import(pathToFileURL(file).href)).verifyKopilkaSignature;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const now = 1_768_467_600;
  const both = (secret: string, header: string, body: string, tolerance: number, at: number) => ({
    snippet: snippet(secret, header, body, tolerance, at),
    client: verifyWebhookSignature({
      secret,
      header,
      body,
      toleranceSeconds: tolerance,
      now: new Date(at * 1000),
    }).ok,
  });

  it("accepts what the service signs, within the tolerance, and refuses it outside", () => {
    const body = '{"id":"ntf_1","amount":5}';
    const header = signatureHeader("whsec_abc", body, now);
    expect(both("whsec_abc", header, body, 300, now + 300)).toEqual({ snippet: true, client: true });
    expect(both("whsec_abc", header, body, 300, now - 300)).toEqual({ snippet: true, client: true });
    expect(both("whsec_abc", header, body, 300, now + 301)).toEqual({ snippet: false, client: false });
    expect(both("whsec_abd", header, body, 300, now)).toEqual({ snippet: false, client: false });
    expect(both("whsec_abc", header, `${body} `, 300, now)).toEqual({ snippet: false, client: false });
  });

  it("agree on every header, body, secret, timestamp and tolerance (property)", () => {
    const signed = fc
      .record({
        secret: fc.string({ minLength: 1, maxLength: 40 }),
        body: fc.string({ maxLength: 200 }),
        signedAt: fc.integer({ min: now - 1000, max: now + 1000 }),
        tolerance: fc.integer({ min: 0, max: 900 }),
        otherSecret: fc.option(fc.string({ minLength: 1, maxLength: 40 })),
        tamper: fc.option(fc.string({ maxLength: 5 })),
        mangle: fc.constantFrom("none", "extra-v1", "spaces", "reorder", "truncate", "garbage"),
        garbage: fc.string({ maxLength: 80 }),
      })
      .map((c) => {
        let header = signatureHeader(c.otherSecret ?? c.secret, c.body, c.signedAt);
        const [t, v1] = header.split(",");
        if (c.mangle === "extra-v1") header = `${header},v1=${"0".repeat(64)}`;
        if (c.mangle === "spaces") header = `${t}, ${v1}`;
        if (c.mangle === "reorder") header = `${v1},${t}`;
        if (c.mangle === "truncate") header = header.slice(0, -1);
        if (c.mangle === "garbage") header = c.garbage;
        return { ...c, header, body: c.tamper === null ? c.body : c.body + c.tamper };
      });
    assertProperty(
      fc.property(signed, (c) => {
        const answer = both(c.secret, c.header, c.body, c.tolerance, now);
        expect(answer.snippet).toBe(answer.client);
      }),
      { numRuns: 500 },
    );
  });
});
