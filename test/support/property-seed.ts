/** The one environment variable that fixes the seed of every property test and fast-check sample. */
export const SEED_VARIABLE = "KOPILKA_PROPERTY_SEED";

declare module "vitest" {
  export interface ProvidedContext {
    /** Drawn once per run by test/support/property-seed.global.ts. */
    propertySeed: number;
  }
}

/** A seed from the environment: an integer fast-check accepts (it uses the low 32 bits). */
export function parseSeed(text: string, variable = SEED_VARIABLE): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`${variable}=${text} is not an integer`);
  return seed;
}
