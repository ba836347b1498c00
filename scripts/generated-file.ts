import { readFileSync, writeFileSync } from "node:fs";

/**
 * Writes a generated file, or with `--check` (CI) fails when the committed one differs from what
 * would be written, telling how to bring it up to date.
 */
export function writeGenerated(target: string | URL, text: string, what: string, command: string): void {
  if (!process.argv.includes("--check")) {
    writeFileSync(target, text);
    return;
  }
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {}
  if (committed !== text) {
    console.error(`${what} is out of date: run ${command} and commit it`);
    process.exit(1);
  }
}
