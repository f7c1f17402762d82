/**
 * Embeddings that ride the window (issue 14, item 2): the embedder's calls, shared by every batch of one pipeline,
 * and embed-ahead, which asks for a request's vector when it is queued rather than when its batch forms.
 *
 * - `Embeddings` (one per similarity deduper) makes the calls: each call is bounded by `embedTimeoutMs` from the
 *   moment it is made, its answer is checked, and its vectors go to the embedding cache.
 * - `EmbedSession` (one per pipeline run: per engine, per `dedupBy` subscription) holds what is in flight, so a text
 *   asked twice while its call runs is not embedded twice, and, for embed-ahead, the texts wanted by requests
 *   waiting in the queue. Everything in it is keyed by those requests and let go when they are batched, leave the
 *   queue (deadline, abort, withdrawal) or the run ends.
 *
 * Embed-ahead micro-batches by scheduler tick: the texts wanted during one tick go in one call, made by a 0 ms
 * action on the pipeline's scheduler (in `TestScheduler`, at the end of the frame; on `asyncScheduler`, a timer of
 * about 1 ms). A request is embedded ahead only once another queued request could be compared with it (same scope,
 * same rest of the request, same guard signature): a request alone in its group is never embedded, as at batch
 * time. See docs/embedders.md, "Embed-ahead".
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { BatchTimeoutError } from '../errors.js';
import { scheduleAfter } from '../base/timer.js';
import type { EmbeddingCache } from './embeddingCache.js';
import type { Embedder } from './embedder.js';
import { copyVectors } from './vectorLeaders.js';

export type CallOutcome = { readonly ok: true; readonly vectors: readonly Float32Array[] } | { readonly ok: false; readonly error: unknown };

/** One call of the embedder. */
export interface EmbedCall {
  readonly texts: readonly string[];
  /** Set once it has settled (answered, failed, timed out, or its run ended); never changes after. */
  outcome: CallOutcome | undefined;
  /** Told once, when it settles; undefined after (or when its run ended: they are never told). */
  waiters: ((call: EmbedCall) => void)[] | undefined;
  timer: Subscription | undefined;
  /** When its bound ends, on the pipeline's clock (`Infinity`: none). */
  readonly deadline: number;
  /**
   * The batches that read its vectors and have not finished (see `Embeddings.release`); with `kept` (a vector went
   * to a session's ready vectors) and `buffer` (the one buffer its vectors are views of, when shared), what decides
   * whether that buffer may serve the next answer.
   */
  holders: number;
  kept: boolean;
  buffer: Float32Array | undefined;
  readonly session: EmbedSession | undefined;
  /**
   * What the embedder's answer reaches: emptied once the call has settled or its run ended, so an embedder that
   * keeps its promise (or never settles it) holds an empty object, not the call, the cache nor the run.
   */
  readonly link: { settle?: ((ok: boolean, value: unknown) => void) | undefined };
}

/** The embedder of one similarity deduper, with what is learned from its answers. */
export class Embeddings {
  /** The vectors' length, learned from the first well-formed answer: a later answer of another length is malformed. */
  dimensions: number | undefined;
  /**
   * True once a call answered with a promise (or any thenable); undefined before. Only `=== true` is read, so a
   * synchronous answer sets nothing (a `??= false` there was an equivalent mutant).
   */
  asynchronous: true | undefined;

  /** The session of each pipeline run (engine, dedupBy subscription) it embeds for. */
  private readonly sessions = new WeakMap<Subscription, EmbedSession>();
  /** The same sessions, while their run lasts: what `retire` lets go of (a session leaves it as its run ends). */
  readonly live = new Set<EmbedSession>();

  constructor(
    readonly embed: Embedder,
    readonly cache: EmbeddingCache,
    private readonly scheduler: SchedulerLike,
    /** Read when a call is made: `configure({ embedTimeoutMs })` bounds the calls made after it. */
    public timeoutMs: number,
    /**
     * Whether the vectors of one answer may be views of one buffer: only when nothing keeps them past their batch
     * and its queued requests (no embedding cache, no semantic result cache), as any one of them keeps it alive.
     */
    readonly shareBuffers = false,
  ) {}

  /** A shared buffer no batch reads any more, for the next answer (see `release`). */
  private spare: Float32Array | undefined;

  /**
   * A batch that counted itself in `call.holders` is done with its vectors (its leaders are found). When no other
   * batch reads them and none was kept for queued requests (nor cached: buffers are shared only without a cache),
   * nothing can see them any more, and their buffer serves the next answer instead of a new one (buffers over
   * 64 MB are let go). Only with the built-in cosine: a custom metric is handed the vectors and might keep them.
   */
  release(call: EmbedCall): void {
    if (--call.holders > 0 || call.kept) return;
    const buffer = call.buffer;
    call.buffer = undefined;
    if (buffer !== undefined && buffer.length <= 2 ** 24 && (this.spare === undefined || this.spare.length < buffer.length)) this.spare = buffer;
  }

  /** The end of the bound of a call made now. */
  private deadline(): number {
    // now + Infinity is Infinity: no case for it (the case was an equivalent mutant).
    return this.scheduler.now() + this.timeoutMs;
  }

  /**
   * Whether a batch formed now may wait for `call`, in flight: when its bound ends no later than that of a call
   * the batch would make. Always, unless `configure()` shortened `embedTimeoutMs` since the call was made (or the
   * clock stepped back): such a batch makes its own call, so it waits no longer than the bound in effect.
   */
  joinable(call: EmbedCall): boolean {
    return call.deadline <= this.deadline();
  }

  /** The session of the run `lifetime` ends: made at first use, unless `existing` (then undefined for none). */
  sessionOf<T>(lifetime: Subscription, existing?: boolean): EmbedSession<T> | undefined {
    let session = this.sessions.get(lifetime);
    if (session === undefined && !existing) {
      session = new EmbedSession(this, this.scheduler, lifetime);
      this.sessions.set(lifetime, session);
      this.live.add(session);
    }
    return session as EmbedSession<T> | undefined;
  }

  /**
   * `configure()` replaced this embedder's dedup stage by one that embeds otherwise (another `embed`, cache size):
   * every session lets go of its queued requests and sends none of their texts; its calls in flight still settle,
   * for the batches waiting for them.
   */
  retire(): void {
    for (const session of this.live) session.retire();
    this.live.clear();
  }

  /**
   * Calls the embedder for `texts` (distinct, none in flight in `session`). A synchronous answer settles the call
   * before this returns. An asynchronous one is bounded by `embedTimeoutMs` from now; its timer ends with
   * `lifetime`, and the call is in flight in `session` until it settles.
   */
  call(texts: string[], lifetime: Subscription | undefined, session: EmbedSession | undefined, holders = 0): EmbedCall {
    const call: EmbedCall = { texts, outcome: undefined, waiters: [], timer: undefined, deadline: this.deadline(), session, link: {}, holders, kept: false, buffer: undefined };
    if (session) for (const text of texts) session.inFlight.set(text, call);
    let answer: ReturnType<Embedder>;
    let then: unknown;
    try {
      // A copy: the embedder may do what it likes with its argument.
      answer = this.embed(texts.slice());
      // Read without `?.`: an answer of null or undefined throws here and fails the call, as the malformed answer
      // it is (the `?.` only moved that failure to the check of the vectors: an equivalent mutant).
      then = (answer as { then?: unknown }).then;
    } catch (error) {
      this.settle(call, lifetime, false, error);
      return call;
    }
    if (typeof then !== 'function') {
      this.settle(call, lifetime, true, answer);
      return call;
    }
    this.asynchronous = true;
    const link = call.link;
    link.settle = (ok, value) => this.settle(call, lifetime, ok, value);
    const timeoutMs = this.timeoutMs;
    // Any length, on the pipeline's scheduler; none for `Infinity`. The owner's end cancels it too.
    call.timer = scheduleAfter(
      this.scheduler,
      () =>
        this.settle(
          call,
          lifetime,
          false,
          new BatchTimeoutError(`dedupBy: embed() did not answer within ${timeoutMs} ms (embedTimeoutMs); the batch went on with exact dedup`, timeoutMs),
        ),
      timeoutMs,
    );
    lifetime?.add(call.timer);
    try {
      // Called as a method of the answer, not through Promise.resolve: a thenable that answers synchronously
      // (in virtual time) is settled in that same moment.
      (then as PromiseLike<unknown>['then']).call(
        answer,
        (vectors) => link.settle?.(true, vectors),
        (error: unknown) => link.settle?.(false, error),
      );
    } catch (error) {
      this.settle(call, lifetime, false, error);
    }
    return call;
  }

  /**
   * The first of answer, failure and bound decides; the others are ignored (a late answer is neither cached nor
   * taken as the vectors' length). Well-formed vectors go to the cache, and to the session's ready vectors when a
   * queued request still wants them.
   */
  private settle(call: EmbedCall, lifetime: Subscription | undefined, ok: boolean, value: unknown): void {
    if (call.outcome !== undefined) return;
    call.link.settle = undefined;
    if (call.timer) {
      call.timer.unsubscribe();
      lifetime?.remove(call.timer);
      call.timer = undefined;
    }
    const { session, texts } = call;
    if (session) for (const text of texts) if (session.inFlight.get(text) === call) session.inFlight.delete(text);
    if (!ok) {
      call.outcome = { ok: false, error: value };
      session?.failed(texts, value);
    } else {
      try {
        const spare = this.spare;
        this.spare = undefined;
        const { length, vectors, buffer } = copyVectors(value, texts.length, this.dimensions, this.shareBuffers, spare);
        if (buffer !== spare) this.spare = spare; // too small for this answer: kept for another
        call.buffer = buffer;
        // copyVectors returns the length it checked every vector against (the one known so far, when there were none).
        this.dimensions = length;
        for (let i = 0; i < texts.length; i++) {
          const vector = vectors[i]!;
          this.cache.set(texts[i]!, vector);
          if (session?.answered(texts[i]!, vector)) call.kept = true;
        }
        call.outcome = { ok: true, vectors };
      } catch (error) {
        call.outcome = { ok: false, error };
        session?.failed(texts, error);
      }
    }
    // Set until the call settles or its run ends, and neither has happened here (see the check above).
    const waiters = call.waiters!;
    call.waiters = undefined;
    for (const waiter of waiters) waiter(call);
  }
}

/** What one queued request holds in the session. */
interface Hold {
  readonly group: string;
  readonly text: string;
  /** The texts it made wanted: its own, and that of the first request of its group when it was the second. */
  texts: string[] | undefined;
}


/** What a call made ahead gave for a text still wanted by queued requests: its vector, or why it has none. */
export interface Ready {
  readonly vector: Float32Array | undefined;
  /** Set when `vector` is not: the call failed (threw, rejected, malformed, timed out). */
  readonly error: unknown;
  /** Counted as a cache miss by the batch that used it first; later batches count it as a hit. */
  used: boolean;
}

/** The in-flight calls of one pipeline run, and its embed-ahead state. See the file's comment. */
export class EmbedSession<T = unknown> {
  /** The call each text is in flight in. */
  readonly inFlight = new Map<string, EmbedCall>();
  /** How many queued requests want each text embedded. */
  private readonly wanted = new Map<string, number>();
  /** What calls gave for texts still wanted: vectors, or failures. */
  private readonly ready = new Map<string, Ready>();
  /** Texts wanted and not yet sent: the next tick's call. */
  private readonly tick = new Set<string>();
  private readonly holds = new Map<T, Hold>();
  /** The queued requests of each group: one alone is not embedded (nothing to compare it with). */
  private readonly groups = new Map<string, Set<T>>();
  private flush: Subscription | undefined;
  private ended = false;
  /** Its embedder was replaced: no request is held any more (calls in flight still settle). */
  private retired = false;

  constructor(
    private readonly embeddings: Embeddings,
    private readonly scheduler: SchedulerLike,
    readonly lifetime: Subscription,
  ) {
    lifetime.add(() => this.end());
  }

  /** A request was queued, with its text and its group (see the file's comment). */
  arrived(item: T, text: string, group: string): void {
    if (this.ended || this.retired || this.holds.has(item)) return;
    const hold: Hold = { group, text, texts: undefined };
    this.holds.set(item, hold);
    const members = this.groups.get(group);
    if (members === undefined) {
      this.groups.set(group, new Set([item]));
      return;
    }
    // The first of the group has a partner now: both are embedded (asked again for a third member, `want` finds the
    // text already wanted by it and does nothing: no size check here, which was an equivalent mutant).
    const first = this.holds.get(members.values().next().value as T)!;
    this.want(first, first.text);
    members.add(item);
    this.want(hold, text);
  }

  /** A request left the queue: batched (see `take`), or dropped unbatched. What only it wanted is let go. */
  left(item: T): void {
    const hold = this.holds.get(item);
    if (hold === undefined) return;
    this.holds.delete(item);
    this.release(hold);
    const members = this.groups.get(hold.group)!;
    members.delete(item);
    if (members.size === 0) {
      this.groups.delete(hold.group);
    } else if (members.size === 1) {
      // Alone again: what it wanted and was not sent yet is not sent (it has nothing to be compared with).
      this.release(this.holds.get(members.values().next().value as T)!);
    }
  }

  /** Lets go of the texts `hold` made wanted. */
  private release(hold: Hold): void {
    const texts = hold.texts;
    if (texts === undefined) return;
    hold.texts = undefined;
    for (const text of texts) {
      const n = this.wanted.get(text)! - 1;
      if (n > 0) {
        this.wanted.set(text, n);
        continue;
      }
      this.wanted.delete(text);
      this.ready.delete(text);
      // Not sent yet: it will not be (an aborted request's text costs no call).
      this.tick.delete(text);
    }
  }

  /**
   * A batch takes the vector of `text`: embedded ahead (and whether this is its first use), or undefined. A text
   * still waiting for the tick's call is taken out of it: the batch's own call sends it.
   */
  take(text: string): Ready | undefined {
    this.tick.delete(text);
    return this.ready.get(text);
  }

  /** A call answered `vector` for `text`: kept for the queued requests that want it (then true). */
  answered(text: string, vector: Float32Array): boolean {
    if (!this.wanted.has(text)) return false;
    this.ready.set(text, { vector, error: undefined, used: false });
    return true;
  }

  /**
   * A call failed: the batches of the queued requests that wanted its texts fall back to exact dedup without a
   * second call (one failure, one fallback per batch, bounded by the first call's bound).
   */
  failed(texts: readonly string[], error: unknown): void {
    if (this.ended) return;
    for (const text of texts) if (this.wanted.has(text)) this.ready.set(text, { vector: undefined, error, used: false });
  }

  /** Everything it holds (texts wanted, ready or unsent, requests, groups, calls in flight), for the tests. */
  get held(): number {
    return this.wanted.size + this.ready.size + this.tick.size + this.holds.size + this.groups.size + this.inFlight.size;
  }

  private want(hold: Hold, text: string): void {
    const texts = (hold.texts ??= []);
    if (texts.includes(text)) return;
    texts.push(text);
    const n = this.wanted.get(text) ?? 0;
    this.wanted.set(text, n + 1);
    if (n > 0 || this.inFlight.has(text) || this.ready.has(text) || this.embeddings.cache.has(text)) return;
    this.tick.add(text);
    if (this.flush !== undefined) return;
    let flush: Subscription | undefined;
    flush = scheduleAfter(
      this.scheduler,
      () => {
        if (flush) this.lifetime.remove(flush);
        this.flush = undefined;
        if (this.tick.size === 0) return;
        const texts = [...this.tick];
        this.tick.clear();
        this.embeddings.call(texts, this.lifetime, this);
      },
      0,
    );
    // A scheduler that ran it at once (queueScheduler) left nothing to hold.
    if (flush.closed) return;
    this.flush = flush;
    this.lifetime.add(flush);
  }

  /**
   * Its embedder was replaced (see `Embeddings.retire`): the queued requests, the texts they want and the tick's
   * call are let go; the calls in flight are kept, as batches wait for them, and leave as they settle.
   */
  retire(): void {
    this.retired = true;
    if (this.flush) {
      this.flush.unsubscribe();
      this.lifetime.remove(this.flush);
      this.flush = undefined;
    }
    this.wanted.clear();
    this.ready.clear();
    this.tick.clear();
    this.holds.clear();
    this.groups.clear();
  }

  /**
   * The run ended (unsubscription, dispose): the tick's call is not made, calls in flight are let go (their
   * bounds cancelled; an answer that comes later is ignored, and the batches waiting for them never hear back,
   * as their owner no longer listens), and nothing is held any more.
   */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.embeddings.live.delete(this);
    for (const call of this.inFlight.values()) {
      call.timer?.unsubscribe();
      call.timer = undefined;
      call.waiters = undefined;
      call.link.settle = undefined;
      call.outcome ??= { ok: false, error: undefined }; // nobody is told: the run's owner no longer listens
    }
    this.inFlight.clear();
    this.retire();
  }
}
