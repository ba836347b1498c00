export * from "./referrals.js";
export * from "./types.js";
