// A set that forgets: it remembers at least the last `capacity` keys added and at most twice that,
// in two generations (the older one is dropped whole when the newer one fills), so memory stays
// bounded however many keys pass through it.

export class RecentSet {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`RecentSet capacity must be at least 1, got ${capacity}`);
  }

  has(key: string): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  add(key: string): void {
    if (this.current.has(key)) return;
    this.current.add(key);
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
