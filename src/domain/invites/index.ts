export * from "./registration.js";
export * from "./reward.js";
export * from "./types.js";
