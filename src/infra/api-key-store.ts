import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { API_KEY_PREFIX, type ApiKeyStore, type ApiRole, type KeyRevocation } from "../app/access.js";
import type { IdGenerator } from "../app/ports.js";
import type { Database } from "./schema.js";
import { TtlCache } from "./ttl-cache.js";

/** Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force. */
function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

type FoundKey = { keyId: string; role: ApiRole; sellerId: string | null };

/** Known keys kept this long by default: every request authenticates, and a round trip each doubled a read's cost. */
const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

export class PostgresApiKeyStore implements ApiKeyStore {
  /**
   * Keys found recently, by hash (never the secret). A key revoked here leaves the cache at once;
   * one revoked by another instance is refused within `cacheTtlMs`. Unknown keys are not cached,
   * so a key just created works at once.
   */
  private readonly found: TtlCache<string, FoundKey>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
    cacheTtlMs = KEY_CACHE_TTL_MS,
  ) {
    this.found = new TtlCache(cacheTtlMs, KEY_CACHE_MAX);
  }

  async create(input: { name: string; role: ApiRole; sellerId: string | null }) {
    const keyId = this.ids.newId("key");
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
    await this.db
      .insertInto("api_keys")
      .values({
        key_id: keyId,
        name: input.name,
        role: input.role,
        seller_id: input.sellerId,
        key_hash: hashSecret(secret),
        created_at: new Date(),
        revoked_at: null,
      })
      .execute();
    return { keyId, secret };
  }

  async findBySecret(secret: string): Promise<FoundKey | undefined> {
    const hash = hashSecret(secret);
    const cached = this.found.get(hash);
    if (cached) return cached.value;
    const row = await this.db
      .selectFrom("api_keys")
      .select(["key_id", "role", "seller_id"])
      .where("key_hash", "=", hash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) {
      this.found.delete(hash);
      return undefined;
    }
    const key = { keyId: row.key_id, role: row.role as ApiRole, sellerId: row.seller_id };
    this.found.set(hash, key);
    return key;
  }

  async list() {
    const rows = await this.db.selectFrom("api_keys").selectAll().orderBy("created_at").execute();
    return rows.map((r) => ({
      keyId: r.key_id,
      name: r.name,
      role: r.role as ApiRole,
      sellerId: r.seller_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  async revoke(keyId: string): Promise<KeyRevocation> {
    const result = await this.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date() })
      .where("key_id", "=", keyId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    this.found.deleteWhere((key) => key.keyId === keyId);
    if (result.numUpdatedRows > 0n) return { outcome: "revoked" };
    const row = await this.db
      .selectFrom("api_keys")
      .select("revoked_at")
      .where("key_id", "=", keyId)
      .executeTakeFirst();
    return row?.revoked_at
      ? { outcome: "already revoked", revokedAt: row.revoked_at }
      : { outcome: "unknown" };
  }
}
