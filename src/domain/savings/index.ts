export * from "./interest.js";
export * from "./refusals.js";
