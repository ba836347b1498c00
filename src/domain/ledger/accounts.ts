/**
 * R32: the accounts points move between. A movement belongs to one customer, so the customer's own
 * accounts are named without the customer id; funders and sinks are shared names whose totals are
 * derived by summing postings across customers (no row that every transaction updates).
 */
export const WALLET = {
  available: "wallet:available",
  pending: "wallet:pending",
  held: "wallet:held",
  /** Negative while the customer owes points (R14). */
  debt: "wallet:debt",
} as const;

export const SINK = {
  redeemed: "sink:redeemed",
  expired: "sink:expired",
  clawedBack: "sink:clawed_back",
} as const;

/**
 * Who pays for points: the marketplace's budget, a seller, a campaign, savings interest or cashback
 * (R25), the manager programme.
 */
export type Funder = string;

/** The funders there are: the marketplace, savings interest or cashback, the manager programme, a seller, a campaign. */
export const FUNDER_PATTERN =
  /^(marketplace|savings_interest|savings_cashback|manager_programme|(seller|campaign):[A-Za-z0-9_.-]{1,64})$/;

export function funderAccount(funder: Funder): string {
  return `funder:${funder}`;
}
