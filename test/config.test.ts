import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration from the environment", () => {
  it("shows customers dates and times in Europe/Moscow unless KOPILKA_TIME_ZONE says otherwise", () => {
    expect(loadConfig({}).timeZone).toBe("Europe/Moscow");
    expect(loadConfig({ KOPILKA_TIME_ZONE: "Asia/Vladivostok" }).timeZone).toBe("Asia/Vladivostok");
  });

  it.each(["Europe/Moskva", "Moscow", "", "UTC+3"])(
    "refuses KOPILKA_TIME_ZONE=%j, naming the variable",
    (zone) => {
      const load = () => loadConfig({ KOPILKA_TIME_ZONE: zone });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/^KOPILKA_TIME_ZONE must be an IANA time zone/);
    },
  );
});
