/**
 * The buffer behind an async iterator of messages: at most `capacity` waiting; when full the
 * oldest is dropped and counted (a reader that falls behind sees the newest messages, not an
 * ever-growing backlog). `end()` lets the reader finish what is buffered, then stops it.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly readers: ((r: IteratorResult<T>) => void)[] = [];
  private ended = false;
  /** Messages dropped because the reader was behind. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onReturn: () => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`queue capacity must be an integer >= 1, got ${capacity}`);
  }

  push(item: T): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader) return reader({ value: item, done: false });
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.dropped++;
    }
    this.items.push(item);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const r of this.readers.splice(0)) r({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** A `break` out of `for await`: the queue stops and forgets its messages. */
  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
