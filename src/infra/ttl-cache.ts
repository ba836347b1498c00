/**
 * Answers remembered for a short time, so that a check every request makes (is this API key known?
 * were this customer's tokens revoked?) costs a database round trip at most once per `ttlMs` per
 * entry. Bounded: when full it starts over rather than tracking recency, which costs at most one
 * extra lookup per entry.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The answer remembered less than `ttlMs` ago (wrapped: an answer may itself be `undefined`). */
  get(key: K): { value: V } | undefined {
    const entry = this.entries.get(key);
    return entry && Date.now() - entry.at < this.ttlMs ? { value: entry.value } : undefined;
  }

  set(key: K, value: V): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, at: Date.now() });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}
