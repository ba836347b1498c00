import { randomBytes } from "node:crypto";
import { ID_BLOCK_DIGITS, type IdGenerator, type IdPrefix } from "../app/ports.js";

/** The digits of ids: Crockford's base 32. */
export const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `value` as `length` base-32 digits, most significant first. */
export function encode(value: bigint, length: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < length; i++) {
    out = CROCKFORD[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return out;
}

/**
 * ULID-style ids with a prefix (`mov_01JD…`): 48 bits of milliseconds then 80 bits that start random
 * and count up within one millisecond, so ids made by one process sort in the order they were made.
 */
export class MonotonicIds implements IdGenerator {
  private lastMs = -1;
  private lastRandom = 0n;

  newId(prefix: IdPrefix): string {
    const ms = Date.now();
    if (ms <= this.lastMs) {
      this.lastRandom += 1n;
    } else {
      this.lastMs = ms;
      this.lastRandom = BigInt(`0x${randomBytes(10).toString("hex")}`) >> 1n;
    }
    return `${prefix}_${encode(BigInt(this.lastMs), 10)}${encode(this.lastRandom, 16)}`;
  }

  newIdBlock(prefix: IdPrefix): string {
    const ms = Date.now();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.lastRandom = BigInt(`0x${randomBytes(10).toString("hex")}`) >> 1n;
    }
    // The next block boundary above every id made so far; later ids count on from the block's end.
    const bits = BigInt(5 * ID_BLOCK_DIGITS);
    const block = ((this.lastRandom >> bits) + 1n) << bits;
    this.lastRandom = block + (1n << bits) - 1n;
    return `${prefix}_${encode(BigInt(this.lastMs), 10)}${encode(block >> bits, 16 - ID_BLOCK_DIGITS)}`;
  }
}
