/**
 * Writes openapi.json from the route schemas (the same document the service serves at /openapi.json).
 * `--check` fails when the committed file differs: CI runs it so the spec never drifts from the code.
 */

import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import { createKopilka } from "../src/main.js";
import { writeGenerated } from "./generated-file.js";

const target = join(import.meta.dirname, "../openapi.json");
const kopilka = await createKopilka(
  loadConfig({ KOPILKA_DATA_DIR: "memory://", KOPILKA_LOG_LEVEL: "silent" }),
);
const server = await kopilka.buildServer();
await server.ready();
const text = `${JSON.stringify(server.swagger(), null, 2)}\n`;
await server.close();
await kopilka.close();
writeGenerated(target, text, "openapi.json", "npm run openapi");
