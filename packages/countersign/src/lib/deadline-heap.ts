/** An entry of a DeadlineHeap: its deadline, and where the heap keeps it (-1 when it is not in one). */
export interface HasDeadline {
  readonly deadline: number;
  slot: number;
}

/**
 * Entries ordered by deadline (a binary min-heap), each knowing its own position so it can be removed in
 * O(log n) when it ends early. Thousands of waits share one of these and one timer for the earliest,
 * instead of a timer each.
 */
export class DeadlineHeap<T extends HasDeadline> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The entry with the earliest deadline. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.slot = this.items.length;
    this.items.push(item);
    this.up(item.slot);
  }

  /** Removes an entry wherever it is; one not in the heap is left alone. */
  remove(item: T): void {
    const i = item.slot;
    if (i < 0 || this.items[i] !== item) return;
    item.slot = -1;
    const last = this.items.pop() as T;
    if (i === this.items.length) return;
    this.place(last, i);
    this.up(i);
    this.down(i);
  }

  private place(item: T, i: number): void {
    this.items[i] = item;
    item.slot = i;
  }

  private up(i: number): void {
    const item = this.items[i] as T;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent] as T;
      if (p.deadline <= item.deadline) break;
      this.place(p, i);
      i = parent;
    }
    this.place(item, i);
  }

  private down(i: number): void {
    const n = this.items.length;
    const item = this.items[i] as T;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (this.items[right] as T).deadline < (this.items[left] as T).deadline ? right : left;
      const c = this.items[child] as T;
      if (c.deadline >= item.deadline) break;
      this.place(c, i);
      i = child;
    }
    this.place(item, i);
  }
}
