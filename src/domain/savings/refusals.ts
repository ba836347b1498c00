/** R25's refusals: values, never exceptions. */
export const SAVINGS_REFUSAL_CODES = ["INSUFFICIENT_SAVINGS"] as const;
export type SavingsRefusalCode = (typeof SAVINGS_REFUSAL_CODES)[number];
