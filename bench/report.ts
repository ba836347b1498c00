import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./service.js";

/** The results as a markdown table (metric, value, unit, target, reference). */

export interface Row {
  metric: string;
  value: number | string;
  unit: string;
  /** The target, e.g. "≥ 30,000". */
  target?: string;
  /** Whether the value meets the target (shown next to it; never fails the run). */
  met?: boolean;
  reference?: string;
}

export function formatNumber(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

export function markdownTable(rows: Row[]): string {
  const lines = ["| metric | value | unit | target | reference |", "|---|---:|---|---|---|"];
  for (const r of rows) {
    const value = typeof r.value === "number" ? formatNumber(r.value) : r.value;
    const target = r.target ? `${r.target}${r.met === undefined ? "" : r.met ? " ✅" : " ❌"}` : "";
    lines.push(
      `| ${cell(r.metric)} | ${cell(value)} | ${cell(r.unit)} | ${cell(target)} | ${cell(r.reference ?? "")} |`,
    );
  }
  return lines.join("\n");
}

/** Writes a small bench's results as `bench/results/<prefix>-<instant>.json`; the file's path. */
export function writeResults(prefix: string, results: unknown): string {
  const dir = join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
