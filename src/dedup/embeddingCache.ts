/**
 * A bounded least-recently-used map from text to what was computed from it (an embedding, a guard signature).
 * A `Map` keeps insertion order, so re-inserting on every hit makes its first key the least recently used one.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether `text` is cached, without marking it as used. */
  has(text: string): boolean {
    return this.entries.has(text);
  }

  /** The cached value of `text`, marking it as recently used. */
  get(text: string): V | undefined {
    const vector = this.entries.get(text);
    if (vector !== undefined) {
      this.entries.delete(text);
      this.entries.set(text, vector);
    }
    return vector;
  }

  set(text: string, vector: V): void {
    // Stryker disable next-line ConditionalExpression: made false, with capacity 0 the entry just set is the oldest and evicted at once (size 1 > 0): nothing kept either; made true it is killed (test/dedup-cache.test.ts).
    if (this.capacity === 0) return;
    this.entries.delete(text);
    this.entries.set(text, vector);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** The embedding cache: vectors by text. */
export class EmbeddingCache extends LruCache<Float32Array> {}
