import type { Observable, Subscriber, Subscription } from 'rxjs';

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
 * function has returned, by which time a batch sent meanwhile would have reached the backend. What the source
 * still sends after the subscriber left reaches nothing.
 *
 * @param subscriber the operator's own subscriber
 * @param source the operator's source
 * @param observer what the stage does with each notification, called only while `subscriber` is open
 * @param stop frees the stage's timers, executions and buffers; runs once, when `subscriber` closes
 * @return the source's subscription (already closed if the subscriber left during the subscription)
 */
export function subscribeSource<V>(subscriber: Subscriber<unknown>, source: Observable<V>, observer: SourceObserver<V>, stop: () => void): Subscription {
  let subscription: Subscription | undefined;
  subscriber.add(() => {
    subscription?.unsubscribe();
    stop();
  });
  subscription = source.subscribe({
    next: (value) => {
      if (!subscriber.closed) observer.next(value);
    },
    error: (error: unknown) => {
      if (!subscriber.closed) observer.error(error);
    },
    complete: () => {
      if (!subscriber.closed) observer.complete();
    },
  });
  if (subscriber.closed) subscription.unsubscribe();
  return subscription;
}
