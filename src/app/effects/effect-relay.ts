import type { LedgerChange } from "../../domain/ledger/index.js";
import type { CustomerWork, GroupCommitter } from "../group-commit.js";
import { ledgerWrite } from "../ledger-service.js";
import type { Clock, CustomerState, OutgoingEffect, ProgrammesWrite } from "../ports.js";

/** An effect as the outbox keeps it: recorded in `sourceCustomerId`'s work, for `targetCustomerId`'s. */
export interface StoredEffect extends OutgoingEffect {
  sourceCustomerId: string;
  createdAt: Date;
  attempts: number;
}

export interface EffectKey {
  sourceCustomerId: string;
  effectId: string;
}

/** The outbox of cross-customer effects (`customer_effects`). */
export interface EffectStore {
  /**
   * Takes up to `limit` undelivered effects nobody holds (oldest first), or only those named, for
   * this relay until `leaseUntil`: `for update skip locked`, so relays of several instances take
   * different ones.
   */
  claim(input: { now: Date; leaseUntil: Date; limit: number; only?: EffectKey[] }): Promise<StoredEffect[]>;
  markDelivered(keys: EffectKey[], at: Date): Promise<void>;
  /** Records why an effect could not be applied; its lease runs out and a later round tries again. */
  markFailed(key: EffectKey, error: string): Promise<void>;
  /** How many effects wait, and since when the oldest (for /metrics and operators). */
  backlog(): Promise<{ count: number; oldestCreatedAt: Date | null }>;
}

/**
 * What a target's work answers once it applied an effect: the ledger change (if any) and the rows
 * it keeps of the effect, written by `system` (R34: who caused a movement).
 */
export function appliedEffect(
  state: CustomerState,
  change: LedgerChange<unknown> | undefined,
  programmes: ProgrammesWrite,
): ReturnType<CustomerWork<void>["run"]> {
  return {
    result: undefined,
    write: { actor: "system", ledger: change ? ledgerWrite(state.ledger, change) : undefined, programmes },
  };
}

/** How long a relay holds the effects it took before another may take them (it died meanwhile). */
const LEASE_MS = 60_000;

/**
 * Applies effects one customer's work recorded for another (R23: a friend's first order rewards the
 * inviter; R24: a referred order earns the manager) in the other customer's own work, so one
 * customer's transaction never writes another's rows. Delivery is at least once — after the
 * source's commit (`deliver`, kicked by the service that recorded them) and on every scheduler
 * round (`deliverPending`) — and the target applies each effect once: effects are numbered snapshots
 * and the target's row keeps the last number it applied.
 */
export class EffectRelay {
  constructor(
    private readonly store: EffectStore,
    private readonly committer: GroupCommitter,
    /** The target's work that applies one effect (by the effect's type). */
    private readonly workFor: (effect: StoredEffect) => CustomerWork<void> | Promise<CustomerWork<void>>,
    private readonly clock: Clock,
    private readonly onFailure: (effect: StoredEffect, error: unknown) => void = () => {},
  ) {}

  /** Delivers the named effects now (just committed by their source); those another relay holds are left to it. */
  async deliver(keys: EffectKey[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.apply(await this.claim(keys.length, keys));
  }

  /** Delivers pages of what is waiting, until nothing is left that is not held. */
  async deliverPending(pageSize = 500): Promise<number> {
    let delivered = 0;
    for (;;) {
      const page = await this.claim(pageSize);
      if (page.length === 0) return delivered;
      delivered += await this.apply(page);
      if (page.length < pageSize) return delivered;
    }
  }

  backlog() {
    return this.store.backlog();
  }

  private claim(limit: number, only?: EffectKey[]) {
    const now = this.clock.now();
    return this.store.claim({
      now,
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      limit,
      ...(only ? { only } : {}),
    });
  }

  /** Each target's effects in the order they were recorded, all targets side by side (group commit). */
  private async apply(effects: StoredEffect[]): Promise<number> {
    const byTarget = new Map<string, StoredEffect[]>();
    for (const e of effects)
      byTarget.set(e.targetCustomerId, [...(byTarget.get(e.targetCustomerId) ?? []), e]);
    const delivered: EffectKey[] = [];
    await Promise.all(
      [...byTarget.values()].map(async (targetEffects) => {
        for (const effect of targetEffects) {
          try {
            await this.committer.submit(await this.workFor(effect));
            delivered.push({ sourceCustomerId: effect.sourceCustomerId, effectId: effect.effectId });
          } catch (error) {
            this.onFailure(effect, error);
            await this.store
              .markFailed(
                { sourceCustomerId: effect.sourceCustomerId, effectId: effect.effectId },
                error instanceof Error ? error.message : String(error),
              )
              .catch(() => {});
            // A later effect of the same target waits for this one (they are snapshots in order).
            return;
          }
        }
      }),
    );
    await this.store.markDelivered(delivered, this.clock.now());
    return delivered.length;
  }
}
