/** The most recent `capacity` samples, for percentiles that follow current behaviour and use bounded memory. */
export class SampleWindow {
  private readonly samples: Float64Array;
  private next = 0;
  /** Samples added since the last clear: the window holds the last `capacity` of them (`slice` clamps). */
  private added = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  add(value: number): void {
    this.samples[this.next] = value;
    // A compare, not `%`: an integer division per sample was a visible share of a request's cost.
    if (++this.next === this.samples.length) this.next = 0;
    this.added++;
  }

  /** Nearest-rank percentiles (p in (0, 100]) of the samples held; 0 when there are none. */
  percentiles<const P extends readonly number[]>(ps: P): { [K in keyof P]: number } {
    const sorted = this.samples.slice(0, this.added).sort();
    return ps.map((p) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!,
    ) as { [K in keyof P]: number };
  }

  clear(): void {
    this.next = 0;
    this.added = 0;
  }
}
