export * from "./config.js";
export * from "./lifecycle.js";
export * from "./types.js";
