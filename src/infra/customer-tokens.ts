import { jwtVerify, SignJWT } from "jose";
import type { CustomerTokenClaims, CustomerTokens } from "../app/access.js";

const AUDIENCE = "kopilka:customer";

/**
 * Customer tokens are HS256 JWTs: `sub` is the customer id, `aud` fixes what they are for, and `iat`
 * and `exp` are both required, at most `maxTtlSeconds` apart, so no token lives longer than that
 * (jose alone accepts a token without `exp` for ever).
 */
export class JwtCustomerTokens implements CustomerTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly maxTtlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  issue(customerId: string, ttlSeconds: number): Promise<string> {
    if (ttlSeconds > this.maxTtlSeconds) {
      throw new RangeError(`a customer token lives at most ${this.maxTtlSeconds} s, not ${ttlSeconds} s`);
    }
    const issuedAt = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(customerId)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(this.key);
  }

  async verify(token: string): Promise<CustomerTokenClaims | undefined> {
    try {
      // maxTokenAge makes jose require `iat` and refuse one in the future: a token issued "later" would
      // otherwise outlive both the maximum and a revocation made before that instant.
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"],
        audience: AUDIENCE,
        requiredClaims: ["exp", "sub"],
        maxTokenAge: this.maxTtlSeconds,
      });
      const { sub, iat, exp } = payload;
      if (typeof sub !== "string" || sub.length === 0 || iat === undefined || exp === undefined)
        return undefined;
      if (exp - iat > this.maxTtlSeconds) return undefined;
      return { customerId: sub, issuedAt: new Date(iat * 1000) };
    } catch {
      return undefined;
    }
  }
}
