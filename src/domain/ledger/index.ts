export * from "./accounts.js";
export * from "./balance.js";
export { addDays, spendingOrder } from "./draft.js";
export * from "./operations.js";
export * from "./types.js";
