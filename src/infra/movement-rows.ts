import { type RawBuilder, sql } from "kysely";
import type { HistoryPage } from "../app/ports.js";
import type { PointKind } from "../domain/kinds.js";
import {
  type ExplanationCode,
  type ExplanationRef,
  funderAccount,
  type Movement,
  SINK,
  WALLET,
} from "../domain/ledger/index.js";
import type { Database } from "./schema.js";

/**
 * How a movement is stored (migration 5 explains the columns): its explanation as a template code
 * and the template's params as JSON, rendered when the movement is read; each posting's account as
 * one byte, funders without a code of their own named once; each lot it touched as its 26 digits.
 */

/** The stored number of each template. Numbers are never reused or changed: add new codes at the end. */
export const EXPLANATION_CODES = {
  text: 0,
  credit: 1,
  made_available: 2,
  debt_offset: 3,
  hold: 4,
  spent: 5,
  release: 6,
  expire: 7,
  clawback: 8,
  refund: 9,
  adjust: 10,
  order_shipped: 11,
  order_seller_points: 12,
  savings_interest: 13,
  review_submitted: 14,
  review_approved: 15,
  review_rejected: 16,
  savings_cashback: 17,
  invite_reward: 18,
  referral_credited: 19,
  referral_confirmed: 20,
  referral_cancelled: 21,
  expiring_soon: 22,
  order_campaign: 23,
} as const satisfies Record<ExplanationCode, number>;

export const CODE_OF_NUMBER = new Map<number, ExplanationCode>(
  Object.entries(EXPLANATION_CODES).map(([code, n]) => [n, code as ExplanationCode]),
);

/** R32: accounts with a code of their own (kopilka_account in migration 5 has the same list). */
const ACCOUNT_CODES = new Map<string, number>([
  [WALLET.available, 1],
  [WALLET.pending, 2],
  [WALLET.held, 3],
  [WALLET.debt, 4],
  [SINK.redeemed, 5],
  [SINK.expired, 6],
  [SINK.clawedBack, 7],
  [funderAccount("marketplace"), 8],
  [funderAccount("savings_interest"), 9],
  [funderAccount("manager_programme"), 10],
]);
const ACCOUNT_OF_CODE = new Map([...ACCOUNT_CODES].map(([account, code]) => [code, account]));
const FUNDER_PREFIX = funderAccount("");
/** Any other funder is named in `funders`; its code is 127 + its place there (from 1). */
const NAMED_FUNDERS = 127;

/** One byte per account, as bytea's hex text, and the funders they name. */
export function accountColumns(accounts: string[]): { accounts: string; funders: string[] | null } {
  const funders: string[] = [];
  const codes = accounts.map((account) => {
    const code = ACCOUNT_CODES.get(account);
    if (code !== undefined) return code;
    if (!account.startsWith(FUNDER_PREFIX)) throw new Error(`no code for account ${account}`);
    const funder = account.slice(FUNDER_PREFIX.length);
    const known = funders.indexOf(funder);
    return NAMED_FUNDERS + (known >= 0 ? known + 1 : funders.push(funder));
  });
  if (funders.length > 255 - NAMED_FUNDERS) throw new Error(`a movement posts to ${funders.length} funders`);
  return {
    accounts: bytea(Buffer.from(codes).toString("hex")),
    funders: funders.length > 0 ? funders : null,
  };
}

function accountOf(code: number, funders: string[] | null): string {
  const funder = code > NAMED_FUNDERS ? funders?.[code - NAMED_FUNDERS - 1] : undefined;
  const account = funder === undefined ? ACCOUNT_OF_CODE.get(code) : funderAccount(funder);
  if (account === undefined) throw new Error(`no account for code ${code}`);
  return account;
}

/** Hex digits in bytea's input format. */
function bytea(hexDigits: string): string {
  return `\\x${hexDigits}`;
}

/** A lot id is `lot_` and 26 base-32 digits; a movement references it by the digits (26 bytes). */
const LOT_ID = /^lot_([0-9A-HJKMNP-TV-Z]{26})$/;
export const LOT_REF_BYTES = 26;

function lotRef(lotId: string): string {
  const digits = LOT_ID.exec(lotId)?.[1];
  if (digits === undefined) throw new Error(`lot id ${lotId} is not lot_ and 26 base-32 digits`);
  return Buffer.from(digits, "latin1").toString("hex");
}

/** The same reference computed in SQL from a lot id column (migration 5's kopilka_lot_ref). */
export function LOT_REF_SQL(column: string): string {
  return `kopilka_lot_ref(${column})`;
}

/** The code a posting to `account` is stored with, for accounts that have one (wallets, sinks, three funders). */
export function accountCode(account: string): number {
  const code = ACCOUNT_CODES.get(account);
  if (code === undefined) throw new Error(`${account} has no code of its own`);
  return code;
}

/*
 * Set-based reads across movements (finance reports, the reconciliation) decode the stored shape in
 * SQL with these, so that the encoding stays defined here: each is a lateral subquery over the
 * movement row aliased `m`, one row per posting or per lot delta, in the movement's order.
 */

/**
 * A movement's postings: `i` (from 1), `code` (null past the end of `accounts`), the `funder` it
 * names (null for wallets and sinks, and for a code naming no funder), `amount`.
 */
export function postingRowsSql(): RawBuilder<unknown> {
  const ownCodes = [...ACCOUNT_CODES]
    .filter(([account]) => account.startsWith(FUNDER_PREFIX))
    .map(([account, n]) => sql`when ${sql.lit(n)} then ${sql.lit(account.slice(FUNDER_PREFIX.length))}`);
  const named = sql.lit(NAMED_FUNDERS);
  return sql`lateral (
    select c.i, c.code, c.amount,
      case when c.code > ${named} then m.funders[c.code - ${named}] else case c.code ${sql.join(ownCodes, sql` `)} end end
        as funder
    from (select p.i, case when p.i <= length(m.accounts) then get_byte(m.accounts, p.i::int - 1) end as code, p.amount
          from unnest(m.amounts) with ordinality as p(amount, i)) as c)`;
}

/** A movement's lot deltas: `lot_id` (as lots store it), `delta`. */
export function lotDeltaRowsSql(): RawBuilder<unknown> {
  const bytes = sql.lit(LOT_REF_BYTES);
  return sql`lateral (
    select 'lot_' || convert_from(substring(m.lot_refs from (d.i::int - 1) * ${bytes} + 1 for ${bytes}), 'SQL_ASCII')
             as lot_id,
           d.delta
    from unnest(m.lot_deltas) with ordinality as d(delta, i))`;
}

/** The accounts of a movement's postings, from its stored codes and funders. */
export function accountsOf(codes: Uint8Array, funders: string[] | null): string[] {
  return [...codes].map((code) => accountOf(code, funders));
}

/** The lots a movement touched, from its stored refs. */
export function lotIdsOf(refs: Uint8Array): string[] {
  const digits = Buffer.from(refs).toString("latin1");
  const ids: string[] = [];
  for (let i = 0; i < digits.length; i += LOT_REF_BYTES)
    ids.push(`lot_${digits.slice(i, i + LOT_REF_BYTES)}`);
  return ids;
}

/**
 * A movement as the write statement's JSON carries it: bytes as bytea's hex text, the params as JSON
 * text (kept as written, not as jsonb would rewrite it).
 */
export function movementRow(customerId: string, m: Movement, actor: string) {
  return {
    customer_id: customerId,
    movement_id: m.movementId,
    occurred_at: m.occurredAt,
    kind: m.kind,
    type: m.type,
    reference: m.reference,
    actor,
    explanation_code: EXPLANATION_CODES[m.explanation.code],
    explanation_params: JSON.stringify(m.explanation.params),
    ...accountColumns(m.postings.map((p) => p.account)),
    amounts: m.postings.map((p) => p.amount),
    lot_refs: bytea(m.lotDeltas.map((d) => lotRef(d.lotId)).join("")),
    lot_deltas: m.lotDeltas.map((d) => d.delta),
  };
}

export function movementFromRow(r: Database["movements"]): HistoryPage["movements"][number] {
  const code = CODE_OF_NUMBER.get(r.explanation_code);
  if (code === undefined)
    throw new Error(`movement ${r.movement_id} has explanation code ${r.explanation_code}`);
  const lotIds = lotIdsOf(r.lot_refs);
  return {
    movementId: r.movement_id,
    customerId: r.customer_id,
    kind: r.kind as PointKind,
    type: r.type as Movement["type"],
    postings: accountsOf(r.accounts, r.funders).map((account, i) => ({ account, amount: r.amounts[i] ?? 0 })),
    lotDeltas: lotIds.map((lotId, i) => ({ lotId, delta: r.lot_deltas[i] ?? 0 })),
    reference: r.reference,
    explanation: { code, params: r.explanation_params } as ExplanationRef,
    occurredAt: r.occurred_at,
    actor: r.actor,
  };
}
