import type { HistoryPage } from "../app/ports.js";
import type { PointKind } from "../domain/kinds.js";
import type { ExplanationCode, ExplanationRef, Movement } from "../domain/ledger/index.js";
import type { Database } from "./schema.js";

/**
 * How a movement is stored (migration 4): its explanation as a template code (a smallint) and the
 * template's params as JSON, rendered when the movement is read.
 */

/** The stored number of each template. Numbers are never reused or changed: add new codes at the end. */
const EXPLANATION_CODES = {
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
} as const satisfies Record<ExplanationCode, number>;

const CODE_OF_NUMBER = new Map<number, ExplanationCode>(
  Object.entries(EXPLANATION_CODES).map(([code, n]) => [n, code as ExplanationCode]),
);

/** A movement as the write statement's JSON carries it; the params go as JSON text, kept as written. */
export function movementRow(customerId: string, m: Movement, actor: string) {
  return {
    customer_id: customerId,
    movement_id: m.movementId,
    kind: m.kind,
    type: m.type,
    accounts: m.postings.map((p) => p.account),
    amounts: m.postings.map((p) => p.amount),
    lot_ids: m.lotDeltas.map((d) => d.lotId),
    lot_deltas: m.lotDeltas.map((d) => d.delta),
    reference: m.reference,
    explanation_code: EXPLANATION_CODES[m.explanation.code],
    explanation_params: JSON.stringify(m.explanation.params),
    actor,
    occurred_at: m.occurredAt,
  };
}

export function movementFromRow(r: Database["movements"]): HistoryPage["movements"][number] {
  const code = CODE_OF_NUMBER.get(r.explanation_code);
  if (code === undefined)
    throw new Error(`movement ${r.movement_id} has explanation code ${r.explanation_code}`);
  return {
    movementId: r.movement_id,
    customerId: r.customer_id,
    kind: r.kind as PointKind,
    type: r.type as Movement["type"],
    postings: r.accounts.map((account, i) => ({ account, amount: r.amounts[i] ?? 0 })),
    lotDeltas: r.lot_ids.map((lotId, i) => ({ lotId, delta: r.lot_deltas[i] ?? 0 })),
    reference: r.reference,
    explanation: { code, params: r.explanation_params } as ExplanationRef,
    occurredAt: r.occurred_at,
    actor: r.actor,
  };
}
