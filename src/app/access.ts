import {
  answerOfKeyedWrite,
  type ConflictRefusal,
  type Outcome,
  type WriteRequest,
  type WriteResult,
} from "./ledger-service.js";
import type { Clock, StoredOutcome } from "./ports.js";

/** Who is calling: an API key with a role, or a customer with a token for their own data. */
export const API_ROLES = ["operator", "support", "seller", "readonly"] as const;
export type ApiRole = (typeof API_ROLES)[number];

export type Principal =
  | { type: "key"; keyId: string; role: ApiRole; sellerId: string | null }
  | { type: "customer"; customerId: string };

export function actorOf(principal: Principal): string {
  return principal.type === "key" ? principal.keyId : `customer:${principal.customerId}`;
}

export interface ApiKeyListing {
  keyId: string;
  name: string;
  role: ApiRole;
  sellerId: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/** What revoking a key did: nothing when there is no such key or it was revoked before. */
export type KeyRevocation =
  | { outcome: "revoked" }
  | { outcome: "unknown" }
  | { outcome: "already revoked"; revokedAt: Date };

export interface ApiKeyStore {
  /** Stores only a hash; the returned secret is shown once. */
  create(input: {
    name: string;
    role: ApiRole;
    sellerId: string | null;
  }): Promise<{ keyId: string; secret: string }>;
  findBySecret(
    secret: string,
  ): Promise<{ keyId: string; role: ApiRole; sellerId: string | null } | undefined>;
  /** Every key, revoked ones too, oldest first. */
  list(): Promise<ApiKeyListing[]>;
  revoke(keyId: string): Promise<KeyRevocation>;
}

/** What a valid customer token says. */
export interface CustomerTokenClaims {
  customerId: string;
  /** `iat`, whole seconds: a revocation refuses the tokens issued at or before its instant. */
  issuedAt: Date;
}

export interface CustomerTokens {
  /** The longest lifetime (exp − iat) a token may have, seconds: a longer one is neither issued nor accepted. */
  readonly maxTtlSeconds: number;
  /** Callers check `ttlSeconds` against `maxTtlSeconds` first (see `customerTokenLifetimeRefusal`). */
  issue(customerId: string, ttlSeconds: number): Promise<string>;
  /**
   * The claims of a valid token: signed with our secret, for customers, with `iat` (not in the future)
   * and `exp` (not passed), living at most `maxTtlSeconds`. Anything else is undefined.
   */
  verify(token: string): Promise<CustomerTokenClaims | undefined>;
}

/** The answer to a revocation of a customer's tokens, stored for replays like every write's. */
export interface CustomerTokenRevocationView {
  customerId: string;
  /** Tokens issued for the customer at or before this instant are refused. */
  revokedBefore: string;
}

/** The operation an Idempotency-Key names when it revokes a customer's tokens (the ledger's have theirs). */
export const CUSTOMER_TOKEN_REVOCATION_SCOPE = "revoke-tokens";

export interface CustomerTokenRevocations {
  /**
   * The instant at or before which the customer's tokens were issued are refused, if their tokens were
   * ever revoked. May lag a revocation made by another instance by the store's cache time.
   */
  revokedBefore(customerId: string): Promise<Date | undefined>;
  /**
   * In one transaction: unless the request's caller used its Idempotency-Key for this customer before
   * (for any operation), moves the customer's revocation instant to `at` (never back: the later of the
   * stored one and `at` stays), audits it, and stores `answer(the instant that stays)` under the key
   * for CUSTOMER_TOKEN_REVOCATION_SCOPE. When the key was used before, writes nothing and returns what
   * was stored under it.
   */
  revoke(
    revocation: { customerId: string; at: Date; reason: string },
    request: WriteRequest,
    answer: (revokedBefore: Date) => Outcome<CustomerTokenRevocationView>,
  ): Promise<{ prior: StoredOutcome } | { stored: Outcome<CustomerTokenRevocationView> }>;
}

export const API_KEY_PREFIX = "kpk_";

/** What a customer id looks like (the customers table checks the same). */
export const CUSTOMER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A refusal of what a principal asked for: which field and why. */
export interface AccessRefusal {
  message: string;
  details: Record<string, unknown>;
}

/** Refuses a customer token lifetime longer than the tokens' maximum. */
export function customerTokenLifetimeRefusal(
  tokens: CustomerTokens,
  ttlSeconds: number,
): AccessRefusal | undefined {
  if (ttlSeconds <= tokens.maxTtlSeconds) return undefined;
  return {
    message: `a customer token lives at most ${tokens.maxTtlSeconds} seconds (KOPILKA_CUSTOMER_TOKEN_MAX_TTL_SECONDS), not ${ttlSeconds}`,
    details: { maxTtlSeconds: tokens.maxTtlSeconds, requested: ttlSeconds },
  };
}

/** Resolves a bearer credential: `kpk_…` secrets are API keys, anything else must be a customer JWT. */
export class AccessService {
  constructor(
    private readonly keys: ApiKeyStore,
    private readonly tokens: CustomerTokens,
    private readonly revocations: CustomerTokenRevocations,
    /** R34: the most points one support adjustment may add or remove; above it an operator key is needed. */
    private readonly supportAdjustmentLimit: number,
    /** The wall clock: tokens' iat and exp are real instants, whatever clock the ledger runs on. */
    private readonly clock: Clock,
  ) {}

  /** R34: support adjusts within the limit; an operator key is needed above it. */
  adjustmentRefusal(principal: Principal, amount: number): AccessRefusal | undefined {
    if (principal.type !== "key" || principal.role !== "support") return undefined;
    if (Math.abs(amount) <= this.supportAdjustmentLimit) return undefined;
    return {
      message: `a support key adjusts at most ${this.supportAdjustmentLimit} points at once; use an operator key`,
      details: { field: "body.amount", limit: this.supportAdjustmentLimit, requested: amount },
    };
  }

  async authenticate(bearer: string): Promise<Principal | undefined> {
    if (bearer.startsWith(API_KEY_PREFIX)) {
      const key = await this.keys.findBySecret(bearer);
      return key && { type: "key", ...key };
    }
    const claims = await this.tokens.verify(bearer);
    // A subject that is no customer id reads nothing, and is not looked up (PostgreSQL text refuses NUL).
    if (!claims || !CUSTOMER_ID.test(claims.customerId)) return undefined;
    const revokedBefore = await this.revocations.revokedBefore(claims.customerId);
    if (revokedBefore && claims.issuedAt <= revokedBefore) return undefined;
    return { type: "customer", customerId: claims.customerId };
  }

  createKey(input: { name: string; role: ApiRole; sellerId: string | null }) {
    return this.keys.create(input);
  }

  listKeys() {
    return this.keys.list();
  }

  revokeKey(keyId: string) {
    return this.keys.revoke(keyId);
  }

  issueCustomerToken(customerId: string, ttlSeconds: number) {
    return this.tokens.issue(customerId, ttlSeconds);
  }

  /** Refuses every token issued for the customer up to now; a token issued later is accepted. */
  async revokeCustomerTokens(
    customerId: string,
    reason: string,
    request: WriteRequest,
  ): Promise<WriteResult<CustomerTokenRevocationView> | ConflictRefusal> {
    const result = await this.revocations.revoke(
      { customerId, at: this.clock.now(), reason },
      request,
      (revokedBefore) => ({ ok: true, value: { customerId, revokedBefore: revokedBefore.toISOString() } }),
    );
    return answerOfKeyedWrite(result, CUSTOMER_TOKEN_REVOCATION_SCOPE, request);
  }
}
