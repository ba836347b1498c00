/**
 * Writes src/schema.ts from the repository's openapi.json with openapi-typescript, the same output as
 * its CLI. `--check` fails when the committed file differs: CI runs it so the client never drifts from
 * the spec.
 */

import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { writeGenerated } from "../../../scripts/generated-file.js";

const spec = new URL("../../../openapi.json", import.meta.url);
const target = new URL("../src/schema.ts", import.meta.url);
const text = `${COMMENT_HEADER}${astToString(await openapiTS(spec))}`;
writeGenerated(target, text, "packages/client/src/schema.ts", "npm run client");
