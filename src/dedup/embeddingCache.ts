/**
 * A bounded least-recently-used map from text to its embedding. A `Map` keeps insertion order, so re-inserting
 * on every hit makes its first key the least recently used one.
 */
export class EmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached vector of `text`, marking it as recently used. */
  get(text: string): Float32Array | undefined {
    const vector = this.entries.get(text);
    if (vector !== undefined) {
      this.entries.delete(text);
      this.entries.set(text, vector);
    }
    return vector;
  }

  set(text: string, vector: Float32Array): void {
    if (this.capacity === 0) return;
    this.entries.delete(text);
    this.entries.set(text, vector);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
