import type { App, RouteDeps } from "../../context.js";
import { register as endSellerDiscount } from "./end-seller-discount.js";
import { register as listSellerDiscounts } from "./list-seller-discounts.js";
import { register as putSellerDiscount } from "./put-seller-discount.js";

/** R27's sellers' loyalty discounts (issue 11), one file each. */
export const SELLER_DISCOUNT_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  putSellerDiscount,
  listSellerDiscounts,
  endSellerDiscount,
];
