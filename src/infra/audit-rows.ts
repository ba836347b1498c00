import { type RawBuilder, sql } from "kysely";

/** One audit_log row as a customer's work writes it (who, what, about whom, before and after, when). */
export interface AuditRow {
  audit_id: string;
  actor: string;
  action: string;
  subject: string;
  before: unknown;
  after: unknown;
  /** A Date or its ISO string: the row goes through JSON either way. */
  at: Date | string;
}

/**
 * `audit_rows`, a CTE for the write statements of customers' works (savings settings, manager status,
 * Premium periods): the rows go in with the rest of the work's writes, in the same statement.
 */
export function auditRowsCte(rows: readonly AuditRow[]): RawBuilder<unknown> {
  return sql`audit_rows as (
        insert into audit_log (audit_id, actor, action, subject, before, after, at)
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
          audit_id text, actor text, action text, subject text, before jsonb, after jsonb, at timestamptz)
        returning 1)`;
}
