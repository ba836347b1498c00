/** How many rows one sweep statement removes: short transactions, little lock time. */
const SWEEP_BATCH = 5_000;

/**
 * Runs `sweepBatch` (removing at most SWEEP_BATCH rows, answering how many) until a batch comes
 * back short: retention sweeps set-based, a batch a statement. How many rows in all.
 */
export async function sweepInBatches(sweepBatch: (limit: number) => Promise<number>): Promise<number> {
  let swept = 0;
  for (;;) {
    const n = await sweepBatch(SWEEP_BATCH);
    swept += n;
    if (n < SWEEP_BATCH) return swept;
  }
}
