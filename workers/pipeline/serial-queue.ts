// One task at a time, in order: batches and unmerges share it, so the in-memory identity graph
// has a single writer.

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Runs the task after every task queued before it; the result is the task's own. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // A failed task is its caller's to handle: the tasks after it still run.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Settles when every task queued so far has. */
  idle(): Promise<void> {
    return this.tail;
  }
}
