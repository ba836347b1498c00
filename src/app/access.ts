/** Who is calling: an API key with a role, or a customer with a token for their own data. */
export const API_ROLES = ["operator", "support", "seller", "readonly"] as const;
export type ApiRole = (typeof API_ROLES)[number];

export type Principal =
  | { type: "key"; keyId: string; role: ApiRole; sellerId: string | null }
  | { type: "customer"; customerId: string };

export function actorOf(principal: Principal): string {
  return principal.type === "key" ? principal.keyId : `customer:${principal.customerId}`;
}

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
  list(): Promise<
    {
      keyId: string;
      name: string;
      role: ApiRole;
      sellerId: string | null;
      createdAt: Date;
      revokedAt: Date | null;
    }[]
  >;
  revoke(keyId: string): Promise<boolean>;
}

export interface CustomerTokens {
  issue(customerId: string, ttlSeconds: number): Promise<string>;
  /** The customer id the token was issued for, or undefined if it is invalid or expired. */
  verify(token: string): Promise<string | undefined>;
}

export const API_KEY_PREFIX = "kpk_";

/** A refusal of what a principal asked for: which field and why. */
export interface AccessRefusal {
  message: string;
  details: Record<string, unknown>;
}

/** Resolves a bearer credential: `kpk_…` secrets are API keys, anything else must be a customer JWT. */
export class AccessService {
  constructor(
    private readonly keys: ApiKeyStore,
    private readonly tokens: CustomerTokens,
    /** R34: the most points one support adjustment may add or remove; above it an operator key is needed. */
    private readonly supportAdjustmentLimit: number,
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
    const customerId = await this.tokens.verify(bearer);
    return customerId === undefined ? undefined : { type: "customer", customerId };
  }

  createKey(input: { name: string; role: ApiRole; sellerId: string | null }) {
    return this.keys.create(input);
  }

  issueCustomerToken(customerId: string, ttlSeconds: number) {
    return this.tokens.issue(customerId, ttlSeconds);
  }
}
