// The k smallest items of an iterable, in order, in O(n log k) time and O(k)
// memory: a page of `sequence list` over a million sequences must not sort a
// million names on the event loop (the leader would miss its heartbeats).

/** The `k` smallest items of `items` by `less`, ascending. */
export function smallest<T>(items: Iterable<T>, k: number, less: (a: T, b: T) => boolean): T[] {
  if (k <= 0) return [];
  // A max-heap of the k smallest seen so far: heap[0] is the largest of them.
  const heap: T[] = [];
  const swap = (i: number, j: number): void => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!less(heap[parent]!, heap[i]!)) break;
        swap(i, parent);
        i = parent;
      }
    } else if (less(item, heap[0]!)) {
      heap[0] = item;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < k && less(heap[top]!, heap[l]!)) top = l;
        if (r < k && less(heap[top]!, heap[r]!)) top = r;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  return heap.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
}
