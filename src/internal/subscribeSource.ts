import { config, Subscription, type Observable, type Observer, type Subscriber } from 'rxjs';

/** What a stage does with what its source sends. */
export interface SourceObserver<V> {
  next(value: V): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * Subscribes an operator's `source` for `subscriber`, with `stop` registered first. A subscriber that leaves while
 * a synchronous source is still sending (a `take(1)` downstream of an answer given synchronously) stops the stage
 * in that very moment: RxJS runs a teardown returned from an Observable's subscribe function only once that
 * function has returned, by which time a batch sent meanwhile would have reached the backend. The source itself is
 * let go in that moment too (`SourceSubscription`): a synchronous source checks it and stops sending, as behind
 * RxJS's own operators (`range(0, Infinity)` then `take(1)` ends). What it still sends reaches nothing.
 *
 * @param subscriber the operator's own subscriber
 * @param source the operator's source
 * @param observer what the stage does with each notification, called only while `subscriber` is open
 * @param stop frees the stage's timers, executions and buffers; runs once, when `subscriber` closes
 * @return the source's subscription (already closed if the subscriber left during the subscription)
 */
export function subscribeSource<V>(subscriber: Subscriber<unknown>, source: Observable<V>, observer: SourceObserver<V>, stop: () => void): Subscription {
  const subscription = new SourceSubscription(subscriber, observer);
  subscriber.add(() => {
    subscription.unsubscribe();
    stop();
  });
  source.subscribe(subscription);
  return subscription;
}

/**
 * The stage's subscription of its source, made before `subscribe` is called: an observer and a subscription in
 * one, which RxJS then uses as the source's subscriber as it is. So it exists, and closes with `subscriber`, while a
 * synchronous source is still sending inside `subscribe` (the subscription `subscribe` returns comes only after).
 * As RxJS's own subscriber of an observer: nothing after the first ending or once closed (without the
 * stopped-notification report: what a source sends after the stage let it go is no mistake of the source), and what
 * the stage throws is reported as an unhandled error instead of thrown into the source.
 */
class SourceSubscription<V> extends Subscription implements Observer<V> {
  private stopped = false;

  constructor(
    private readonly subscriber: Subscriber<unknown>,
    private readonly observer: SourceObserver<V>,
  ) {
    super();
  }

  // No closure per value: this runs for every request.
  next(value: V): void {
    if (this.stopped || this.subscriber.closed) return;
    try {
      this.observer.next(value);
    } catch (error) {
      reportUnhandled(error);
    }
  }

  error(error: unknown): void {
    this.end(this.observer.error, error);
  }

  complete(): void {
    this.end(this.observer.complete);
  }

  override unsubscribe(): void {
    this.stopped = true;
    super.unsubscribe();
  }

  private end(notify: (error?: unknown) => void, error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (!this.subscriber.closed) notify.call(this.observer, error);
    } catch (thrown) {
      reportUnhandled(thrown);
    } finally {
      this.unsubscribe();
    }
  }
}

/** As RxJS reports what an observer throws: from a timeout, to `config.onUnhandledError` if set. */
function reportUnhandled(error: unknown): void {
  setTimeout(() => {
    if (config.onUnhandledError) config.onUnhandledError(error);
    else throw error;
  });
}
