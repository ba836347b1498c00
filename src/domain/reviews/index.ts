export * from "../budget-slices.js";
export * from "./eligibility.js";
export * from "./operations.js";
export * from "./types.js";
