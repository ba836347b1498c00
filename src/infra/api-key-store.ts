import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { API_KEY_PREFIX, type ApiKeyStore, type ApiRole } from "../app/access.js";
import type { IdGenerator } from "../app/ports.js";
import type { Database } from "./schema.js";

/** Keys are 32 random bytes, so a fast hash is enough: there is nothing to brute-force. */
function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

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

  async findBySecret(secret: string) {
    const row = await this.db
      .selectFrom("api_keys")
      .select(["key_id", "role", "seller_id"])
      .where("key_hash", "=", hashSecret(secret))
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return row && { keyId: row.key_id, role: row.role as ApiRole, sellerId: row.seller_id };
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

  async revoke(keyId: string) {
    const result = await this.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date() })
      .where("key_id", "=", keyId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
