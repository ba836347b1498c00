import type { OperationContext } from "../domain/ledger/index.js";
import type { CustomerChanges, CustomerWork } from "./group-commit.js";
import {
  answerToUsedKey,
  type ConflictRefusal,
  type Outcome,
  type WriteRequest,
  type WriteResult,
} from "./ledger-service.js";
import { type CustomerState, idempotencySlot } from "./ports.js";

export type KeyedAnswer<V> = WriteResult<V> | ConflictRefusal;

/**
 * A customer's work behind an Idempotency-Key: a key the caller used before gets its stored answer
 * (refusals too; another body is a conflict, another operation a reuse), a new one runs `step` and
 * stores its answer in the same transaction as what it writes.
 */
export function keyedWork<V>(
  customerId: string,
  scope: string,
  request: WriteRequest,
  load: CustomerWork<unknown>["load"],
  step: (
    state: CustomerState,
    ctx: OperationContext,
  ) => { outcome: Outcome<V>; write?: Omit<CustomerChanges, "actor" | "outcomes"> | undefined },
): CustomerWork<KeyedAnswer<V>> {
  const slot = { caller: request.actor, key: request.idempotencyKey, scope };
  return {
    customerId,
    load: { ...load, idempotency: [...(load.idempotency ?? []), slot] },
    run: (state, ctx) => {
      const prior = state.outcomes.get(idempotencySlot(slot));
      if (prior) return { result: answerToUsedKey<V>(prior, scope, request) };
      const { outcome, write } = step(state, ctx);
      return {
        result: { ...outcome, replayed: false, requestId: request.requestId },
        write: {
          ...write,
          actor: request.actor,
          outcomes: [
            {
              ...slot,
              stored: { scope, fingerprint: request.fingerprint, requestId: request.requestId, outcome },
            },
          ],
        },
      };
    },
  };
}
