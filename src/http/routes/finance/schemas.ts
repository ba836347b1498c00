import { type TObject, type TSchema, Type } from "typebox";
import { errorResponses } from "../../context.js";
import { literals, PointKindSchema } from "../../schemas.js";

/** Who reads finance: operators and read-only keys (a seller key its own statement only). */
export const FINANCE_READERS = ["operator", "readonly"] as const;

const Month = (description: string) =>
  Type.String({ pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$", description: `${description}: YYYY-MM` });

const Format = Type.Optional(
  literals(["json", "csv"] as const, "json (the default) or csv; `Accept: text/csv` asks for CSV too"),
);

/** A report's query: its format only. */
export const ReportQuery = Type.Object({ format: Format }, { additionalProperties: false });

/** A report over a range of months in KOPILKA_TIME_ZONE, both ends included, at most 120 months. */
export const MonthRangeQuery = Type.Object(
  {
    from: Month("The first month, in KOPILKA_TIME_ZONE"),
    to: Month("The last month, included; at most 120 months after from"),
    format: Format,
  },
  { additionalProperties: false },
);

/** Whole points, summed over customers exactly: a total may pass 2^53 (read it as a big integer). */
export const Points = (description: string) => Type.Integer({ description });

/** The fields of report rows. */
export const ROW_FIELDS = {
  kind: PointKindSchema,
  funder: Type.String({
    description: "Who pays: marketplace, seller:<id>, campaign:<id>, savings_interest, …",
  }),
  month: Type.String({ description: "YYYY-MM in KOPILKA_TIME_ZONE" }),
};

/** A figure per kind of points (R2). */
export function perKind(figure: TSchema) {
  return Type.Object({ bonus: figure, savings: figure, referral: figure });
}

/**
 * The answers of a report: JSON (head, `rows`, totals) or CSV (a header line of the row fields, then
 * one line per row, CRLF), both streamed as the rows are read; and the errors.
 */
export function reportResponses(json: TObject, csvColumns: readonly string[], ...statuses: number[]) {
  return {
    200: {
      description: `JSON, or CSV with the columns ${csvColumns.join(", ")}`,
      content: {
        "application/json": { schema: json },
        "text/csv": {
          schema: Type.String({ description: `Header: ${csvColumns.join(",")}; one line per row` }),
        },
      },
    },
    ...errorResponses(...statuses),
  };
}
