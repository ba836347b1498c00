/**
 * Writes src/schema.ts from the repository's openapi.json with openapi-typescript, the same output as
 * its CLI. `--check` fails when the committed file differs: CI runs it so the client never drifts from
 * the spec.
 */
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const spec = new URL("../../../openapi.json", import.meta.url);
const target = new URL("../src/schema.ts", import.meta.url);
const text = `${COMMENT_HEADER}${astToString(await openapiTS(spec))}`;
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {}
  if (committed !== text) {
    console.error("packages/client/src/schema.ts is out of date: run npm run client and commit it");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
