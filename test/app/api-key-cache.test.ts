/** API keys are cached briefly by hash; revocation is seen at once here and within the TTL elsewhere. */
import { afterAll, describe, expect, it } from "vitest";
import { PostgresApiKeyStore } from "../../src/infra/api-key-store.js";
import { MonotonicIds } from "../../src/infra/ids.js";
import { freshDatabase } from "../support/database.js";

const database = await freshDatabase();
const ids = new MonotonicIds();

describe("API key cache", () => {
  afterAll(async () => {
    await database.drop();
  });

  it("a key revoked through this store is refused at once, even after it was used", async () => {
    const store = new PostgresApiKeyStore(database.db, ids);
    const { keyId, secret } = await store.create({ name: "a", role: "operator", sellerId: null });
    expect(await store.findBySecret(secret)).toMatchObject({ keyId, role: "operator" });
    expect(await store.revoke(keyId)).toEqual({ outcome: "revoked" });
    expect(await store.findBySecret(secret)).toBeUndefined();
  });

  it("revoking says when there was nothing to revoke: an unknown key, or one revoked before", async () => {
    const store = new PostgresApiKeyStore(database.db, ids);
    const { keyId } = await store.create({ name: "d", role: "operator", sellerId: null });
    await store.revoke(keyId);
    expect(await store.revoke(keyId)).toEqual({ outcome: "already revoked", revokedAt: expect.any(Date) });
    expect(await store.revoke("key_unknown")).toEqual({ outcome: "unknown" });
  });

  it("a key revoked by another instance is refused once the cache entry is older than the TTL", async () => {
    const here = new PostgresApiKeyStore(database.db, ids, 200);
    const elsewhere = new PostgresApiKeyStore(database.db, ids);
    const { keyId, secret } = await here.create({ name: "b", role: "support", sellerId: null });
    expect(await here.findBySecret(secret)).toMatchObject({ keyId });
    await elsewhere.revoke(keyId);
    // Within the TTL this instance still knows the key; after it, the database decides.
    expect(await here.findBySecret(secret)).toMatchObject({ keyId });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await here.findBySecret(secret)).toBeUndefined();
  });

  it("an unknown secret is looked up every time, so a key created elsewhere works at once", async () => {
    const here = new PostgresApiKeyStore(database.db, ids);
    const elsewhere = new PostgresApiKeyStore(database.db, ids);
    expect(await here.findBySecret("kpk_unknown")).toBeUndefined();
    const { keyId, secret } = await elsewhere.create({ name: "c", role: "readonly", sellerId: null });
    expect(await here.findBySecret(secret)).toMatchObject({ keyId });
  });
});
