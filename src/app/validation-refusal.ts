/** One field a request got wrong, by its path (`body.conditions.endsAt`). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * The refusal of an input with problems: `VALIDATION_FAILED`, the first problem in the message and
 * every one in `details.fields`, each field's path under `prefix` (`body.` for a request's body).
 */
export function validationFailed(problems: readonly FieldProblem[], prefix = "") {
  const fields = problems.map((p) => ({ field: `${prefix}${p.field}`, message: p.message }));
  const first = fields[0];
  return {
    ok: false as const,
    code: "VALIDATION_FAILED" as const,
    message: first ? `${first.field} ${first.message}` : "invalid input",
    details: { fields },
  };
}
