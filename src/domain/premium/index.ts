export * from "./delivery.js";
export * from "./periods.js";
