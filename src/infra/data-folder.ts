import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What the embedded database's data folder refuses: it is in use, or a file in it is not what we keep. */
export class DataFolderError extends Error {}

/** A PGlite data folder that lives in memory only: no files, nothing outlives the process. */
export function isInMemory(dataDir: string): boolean {
  return dataDir.startsWith("memory://");
}

/**
 * The embedded database's customer-token secret, generated once into the data folder (`jwt-secret`,
 * mode 0600), so tokens outlive a restart and `kopilka tokens create` signs with what the service
 * verifies. Published with a hard link, which fails if the file exists: two processes starting at once
 * both end up with the one that was there first, never with a half-written file.
 */
export function dataFolderJwtSecret(dataDir: string): string {
  const path = join(dataDir, "jwt-secret");
  mkdirSync(dataDir, { recursive: true });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(draft, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    linkSync(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < 32) {
    throw new DataFolderError(
      `${path} must hold a secret of at least 32 characters; delete it to make a new one`,
    );
  }
  return secret;
}
