import { jwtVerify, SignJWT } from "jose";
import type { CustomerTokens } from "../app/access.js";

const AUDIENCE = "kopilka:customer";

/** Customer tokens are HS256 JWTs: `sub` is the customer id, `aud` fixes what they are for. */
export class JwtCustomerTokens implements CustomerTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  issue(customerId: string, ttlSeconds: number): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(customerId)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], audience: AUDIENCE });
      return typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }
}
