import type { SellerDiscount } from "../../domain/seller-discounts/index.js";
import type { SellerStatsCounts } from "../../domain/seller-discounts/stats.js";
import type { LocalizedText } from "../../domain/text.js";
import type { KeyedWriteRun } from "../ports.js";

/** R27: a discount as stored: its version in force, and when it was ended (null: in force). */
export interface StoredSellerDiscount extends SellerDiscount {
  readonly name: LocalizedText | null;
  readonly version: number;
  readonly endedAt: Date | null;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly updatedAt: Date;
}

/** What one write transaction may do to a seller's discounts (src/infra/seller-discount-store.ts). */
export interface SellerDiscountWrites {
  /** Serializes one seller's discount writes until the transaction ends (the limit is checked under it). */
  lockSeller(sellerId: string): Promise<void>;
  find(sellerId: string, discountId: string): Promise<StoredSellerDiscount | undefined>;
  /** How many of the seller's discounts are in force. */
  countInForce(sellerId: string): Promise<number>;
  /** The discount's next version: the row in force replaced, the version appended. */
  save(discount: StoredSellerDiscount): Promise<void>;
  audit(entry: { action: string; subject: string; before: unknown; after: unknown }): Promise<void>;
}

export interface SellerDiscountStore {
  /** Writes under the caller's Idempotency-Key for one discount (`seller:<id>/<discountId>`). */
  keyed: KeyedWriteRun<SellerDiscountWrites>;
  /** The discounts in force of these sellers, each seller's by id; may be a few seconds old (a short cache). */
  inForce(sellerIds: readonly string[]): Promise<StoredSellerDiscount[]>;
  /** Forgets what the cache holds for the seller: a write through this process is seen at once. */
  invalidate(sellerId: string): void;
  /** The customer's statistics with these sellers (absent: none yet), one primary-key probe each. */
  statsOf(customerId: string, sellerIds: readonly string[]): Promise<Map<string, SellerStatsCounts>>;
}
