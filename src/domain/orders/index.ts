export * from "./config.js";
export * from "./lifecycle.js";
export * from "./types.js";
export * from "./waiting.js";
