/** A query and its answer, as the HTTP API carries them. */
export interface Query {
  q: string;
}
export interface Answer {
  q: string;
  answer: string;
}

export interface FixedCostBackendOptions {
  /** What one call costs, whatever its size: a round trip, a model invocation. Default 20 ms. */
  callCostMs?: number;
  /** Calls it serves at once; more wait their turn, as on a GPU or a rate-limited API. Default 4. */
  capacity?: number;
}

/**
 * A stand-in for an expensive backend (an LLM, an embedding API): every call costs `callCostMs` however many
 * queries it carries, and at most `capacity` calls run at once. Counts what it was asked.
 */
export class FixedCostBackend {
  calls = 0;
  items = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly callCostMs: number;
  private readonly capacity: number;

  constructor(options: FixedCostBackendOptions = {}) {
    this.callCostMs = options.callCostMs ?? 20;
    this.capacity = options.capacity ?? 4;
  }

  async answerMany(queries: readonly Query[]): Promise<Answer[]> {
    if (this.running >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      this.calls++;
      this.items += queries.length;
      await new Promise((resolve) => setTimeout(resolve, this.callCostMs));
      return queries.map(({ q }) => ({ q, answer: q.toUpperCase() }));
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
