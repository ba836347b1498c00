/** Prints the README's configuration table from src/config.ts, so the two cannot disagree. */
import { SETTINGS } from "../src/config.js";

const rows = Object.values(SETTINGS).map(
  (s) => `| \`${s.env}\` | ${s.default === "" ? "(empty)" : `\`${s.default}\``} | ${s.description} |`,
);
console.log(["| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n"));
