import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../../src/app/unavailable.js";

/** Which driver errors mean "the database is away" (503), and which are bugs (500). */
describe("isDatabaseUnavailable", () => {
  it("a server out of connections, a shutdown, a lost connection and exhausted retries are unavailability", () => {
    for (const code of ["53300", "57P01", "08006", "40001", "40P01", "ECONNREFUSED"])
      expect(isDatabaseUnavailable({ code }), code).toBe(true);
  });

  it("a constraint violation or a syntax error is not", () => {
    for (const code of ["23505", "42601", "22P02"]) expect(isDatabaseUnavailable({ code }), code).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
  });
});
