export * from "./cashback.js";
export * from "./interest.js";
export * from "./refusals.js";
