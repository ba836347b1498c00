import type { Clock } from "../../src/app/ports.js";

/** The reference instant tests start from, so dates in assertions are fixed. */
export const REFERENCE_INSTANT = new Date("2026-01-15T09:00:00.000Z");

export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date = REFERENCE_INSTANT) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date): void {
    this.current = at.getTime();
  }

  advanceDays(days: number): void {
    this.current += days * 86_400_000;
  }

  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
}
