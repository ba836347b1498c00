import { describe, expect, it } from "vitest";
import {
  type ExperimentDefinition,
  type ExperimentGroup,
  validateExperiment,
} from "../../../src/domain/experiments/definition.js";
import { SAVINGS_EXPERIMENT, SAVINGS_GROUPS } from "./fixtures.js";

/** R30: what makes an experiment's definition valid, each problem naming its field. */

const withGroups = (groups: readonly ExperimentGroup[], extra: Partial<ExperimentDefinition> = {}) =>
  validateExperiment({ ...SAVINGS_EXPERIMENT, groups, ...extra });

const [control, rate18, cashback, holdout] = SAVINGS_GROUPS as [
  ExperimentGroup,
  ExperimentGroup,
  ExperimentGroup,
  ExperimentGroup,
];

describe("R30 experiment definitions", () => {
  it("accepts interest 12% against 18% against 3% cashback with a holdout, and a campaign multiplier test", () => {
    expect(validateExperiment(SAVINGS_EXPERIMENT)).toEqual([]);
    expect(
      validateExperiment({
        ...SAVINGS_EXPERIMENT,
        mechanic: { type: "campaign_multiplier", campaignId: "cmp-spring" },
        groups: [
          {
            groupId: "x1",
            weightBp: 5_000,
            role: "control",
            variant: { type: "campaign_multiplier", multiplierBp: 10_000 },
          },
          {
            groupId: "x2",
            weightBp: 5_000,
            role: "treatment",
            variant: { type: "campaign_multiplier", multiplierBp: 20_000 },
          },
        ],
        segmentId: "frequent-buyers",
        strata: null,
      }),
    ).toEqual([]);
  });

  it("weights must sum to exactly 10,000 bp", () => {
    expect(withGroups([control, { ...rate18, weightBp: 2_400 }, cashback, holdout])).toEqual([
      { field: "groups.weightBp", message: "the weights must sum to exactly 10000 bp; they sum to 9900" },
    ]);
  });

  it("each weight is a whole number of basis points, at least 1; the sum is not judged while one is not", () => {
    expect(
      withGroups([{ ...control, weightBp: 0 }, { ...rate18, weightBp: 6_500.5 }, cashback, holdout]),
    ).toEqual([
      { field: "groups[0].weightBp", message: "must be an integer from 1 to 9999" },
      { field: "groups[1].weightBp", message: "must be an integer from 1 to 9999" },
    ]);
  });

  it("exactly one control", () => {
    const noControl = withGroups([{ ...control, role: "treatment" }, rate18, cashback, holdout]);
    expect(noControl).toEqual([
      { field: "groups", message: "must have exactly one control group; it has 0" },
    ]);
    const two = withGroups([control, { ...rate18, role: "control" }, cashback, holdout]);
    expect(two).toEqual([{ field: "groups", message: "must have exactly one control group; it has 2" }]);
  });

  it("a holdout has no variant, every other group has one, and at most one holdout", () => {
    expect(withGroups([control, rate18, cashback, { ...holdout, variant: control.variant }])).toEqual([
      {
        field: "groups[3].variant",
        message:
          "a holdout gets no variant (its customers keep the programme's standing rules): must be null",
      },
    ]);
    expect(withGroups([control, { ...rate18, variant: null }, cashback, holdout])).toEqual([
      { field: "groups[1].variant", message: "a treatment group needs a variant" },
    ]);
    expect(
      withGroups([control, rate18, { ...cashback, role: "holdout", variant: null }, holdout]).map(
        (p) => p.field,
      ),
    ).toEqual(["groups"]);
  });

  it("variants fit the mechanic and its ranges (R25's 18% and 10% at most, R26's multipliers)", () => {
    expect(
      withGroups([
        control,
        { ...rate18, variant: { type: "interest", annualRateBp: 1_801 } },
        cashback,
        holdout,
      ]),
    ).toEqual([{ field: "groups[1].variant.annualRateBp", message: "must be an integer from 1 to 1800" }]);
    expect(
      withGroups([control, rate18, { ...cashback, variant: { type: "cashback", cashbackBp: 0 } }, holdout]),
    ).toEqual([{ field: "groups[2].variant.cashbackBp", message: "must be an integer from 1 to 1000" }]);
    expect(
      withGroups([
        control,
        { ...rate18, variant: { type: "campaign_multiplier", multiplierBp: 20_000 } },
        cashback,
        holdout,
      ]),
    ).toEqual([
      {
        field: "groups[1].variant.type",
        message: 'a savings experiment\'s variants are "interest" or "cashback"',
      },
    ]);
    expect(
      withGroups(
        [
          { ...control, variant: { type: "campaign_multiplier", multiplierBp: 9_999 } },
          { ...rate18, weightBp: 6_000 },
        ],
        { mechanic: { type: "campaign_multiplier", campaignId: "" } },
      ),
    ).toEqual([
      { field: "mechanic.campaignId", message: "must be a non-empty string" },
      { field: "groups[0].variant.multiplierBp", message: "must be an integer from 10000 to 1000000" },
      {
        field: "groups[1].variant.type",
        message: 'a campaign_multiplier experiment\'s variants are "campaign_multiplier"',
      },
    ]);
  });

  it("2 to 10 groups with unique ids", () => {
    expect(withGroups([{ ...control, weightBp: 9_999 }]).map((p) => p.field)).toEqual([
      "groups",
      "groups.weightBp",
    ]);
    const eleven = Array.from(
      { length: 11 },
      (_, i): ExperimentGroup => ({
        ...rate18,
        groupId: `g${i}`,
        weightBp: i === 0 ? 1_000 : 900,
        role: i === 0 ? "control" : "treatment",
      }),
    );
    expect(withGroups(eleven)).toEqual([{ field: "groups", message: "must list 2 to 10 groups" }]);
    expect(withGroups([control, { ...rate18, groupId: "rate-12" }, cashback, holdout])).toEqual([
      { field: "groups[1].groupId", message: 'repeats "rate-12"' },
    ]);
    expect(withGroups([control, { ...rate18, groupId: "" }, cashback, holdout])).toEqual([
      { field: "groups[1].groupId", message: "must be a non-empty string" },
    ]);
  });

  it("names, the segment, the strata and the window", () => {
    expect(
      validateExperiment({
        ...SAVINGS_EXPERIMENT,
        name: { ru: "", en: "Savings" },
        segmentId: "",
        strata: ["aov_band", "aov_band"],
        endsAt: SAVINGS_EXPERIMENT.startsAt,
      }),
    ).toEqual([
      { field: "name.ru", message: "must be a non-empty string" },
      { field: "segmentId", message: "must be a non-empty string" },
      { field: "strata[1]", message: 'repeats "aov_band"' },
      { field: "endsAt", message: "must be after startsAt" },
    ]);
    expect(validateExperiment({ ...SAVINGS_EXPERIMENT, strata: [] })).toEqual([
      { field: "strata", message: "must list at least one dimension, or be left out" },
    ]);
  });
});
