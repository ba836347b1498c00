import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("the NATS settings", () => {
  it("consume nothing by default, and the documented defaults once turned on", () => {
    expect(loadConfig({})).toMatchObject({ natsUrl: undefined, natsOrderEvents: undefined });
    expect(
      loadConfig({ KOPILKA_NATS_URL: "nats://a:4222, nats://b:4222", KOPILKA_NATS_ORDER_EVENTS: "on" }),
    ).toMatchObject({
      natsUrl: "nats://a:4222, nats://b:4222",
      natsOrderEvents: {
        stream: "KOPILKA_ORDER_EVENTS",
        subjectPrefix: "kopilka.order-events",
        partitions: 8,
        batchSize: 500,
        leaseSeconds: 15,
        maxAgeSeconds: 168 * 3600,
      },
    });
  });

  it.each([
    [{ KOPILKA_NATS_ORDER_EVENTS: "on" }, /^KOPILKA_NATS_ORDER_EVENTS=on needs KOPILKA_NATS_URL/],
    [{ KOPILKA_NATS_ORDER_EVENTS: "yes" }, /^KOPILKA_NATS_ORDER_EVENTS must be on or off/],
    [{ KOPILKA_NATS_URL: "http://a:4222" }, /^KOPILKA_NATS_URL must be nats:\/\/host:port/],
    [
      {
        KOPILKA_NATS_URL: "nats://a",
        KOPILKA_NATS_ORDER_EVENTS: "on",
        KOPILKA_NATS_ORDER_EVENTS_STREAM: "a.b",
      },
      /^KOPILKA_NATS_ORDER_EVENTS_STREAM must be/,
    ],
    [
      {
        KOPILKA_NATS_URL: "nats://a",
        KOPILKA_NATS_ORDER_EVENTS: "on",
        KOPILKA_NATS_ORDER_EVENTS_SUBJECT_PREFIX: "a.*",
      },
      /^KOPILKA_NATS_ORDER_EVENTS_SUBJECT_PREFIX must be/,
    ],
    [
      {
        KOPILKA_NATS_URL: "nats://a",
        KOPILKA_NATS_ORDER_EVENTS: "on",
        KOPILKA_NATS_ORDER_EVENTS_BATCH: "1001",
      },
      /^KOPILKA_NATS_ORDER_EVENTS_BATCH must be a whole number from 1 to 1000/,
    ],
  ])("refuses %j, naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
