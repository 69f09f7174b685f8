// A counting semaphore for the poll's two budgets: CPU-heavy phases (`concurrency`) and open
// connections. FIFO, with a front lane for work that finishes a host; a waiter can give up.

interface Waiter {
  readonly grant: (granted: boolean) => void;
  done: boolean;
}

// Holds at most `limit` slots; everyone else waits in order.
export class Gate {
  private held = 0;
  private queued = 0;
  private peakHeld = 0;
  private readonly front: Waiter[] = [];
  private readonly back: Waiter[] = [];
  // Index of the next waiter in `back`: shift() on a 10,000-host queue would copy it every time.
  private backHead = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a gate needs a limit of at least 1 (got ${limit})`);
  }

  /** Slots held now. */
  get active(): number {
    return this.held;
  }

  /** Waiters in the queue now. */
  get waiting(): number {
    return this.queued;
  }

  /** The most slots held at once since this gate was made (for tests and benchmarks). */
  get peak(): number {
    return this.peakHeld;
  }

  /** Takes a slot if one is free right now, without waiting. */
  tryAcquire(): boolean {
    if (this.held >= this.limit || this.queued > 0) return false;
    this.take();
    return true;
  }

  /**
   * Resolves true once a slot is held (release() it later), or false when `signal` aborts first.
   * `first` puts the waiter ahead of the others (a retry, or parsing an answer already received).
   */
  acquire(signal?: AbortSignal, first = false): Promise<boolean> {
    if (signal?.aborted === true) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolveWait) => {
      const onAbort = (): void => {
        if (waiter.done) return;
        waiter.done = true;
        this.queued -= 1;
        resolveWait(false);
      };
      const waiter: Waiter = {
        done: false,
        grant: (granted) => {
          signal?.removeEventListener('abort', onAbort);
          resolveWait(granted);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      (first ? this.front : this.back).push(waiter);
      this.queued += 1;
    });
  }

  /** Gives a slot back; the next waiter, if any, gets it. */
  release(): void {
    if (this.held === 0) throw new Error('gate released more often than acquired');
    this.held -= 1;
    for (;;) {
      // The head never moves past the end: a waiter queued later lands at the end, and a head beyond
      // it would skip that waiter for good (an idle gate would then starve everyone who queues).
      const next = this.front.length > 0 ? this.front.shift() : this.backHead < this.back.length ? this.back[this.backHead++] : undefined;
      if (next === undefined) break;
      if (next.done) continue;
      next.done = true;
      this.queued -= 1;
      this.take();
      next.grant(true);
      break;
    }
    if (this.backHead > 1024 && this.backHead * 2 > this.back.length) {
      this.back.splice(0, this.backHead);
      this.backHead = 0;
    }
  }

  private take(): void {
    this.held += 1;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
  }
}
