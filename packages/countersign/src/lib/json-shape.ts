/**
 * Nesting depth of a JSON value (a scalar is 0, `{}` is 1, `{"a":[]}` is 2).
 * Iterative so a hostile, deeply nested document cannot blow the stack while
 * being checked; stops counting as soon as `limit` is exceeded.
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  if (value === null || typeof value !== 'object') return 0;
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) {
      max = d;
      if (max > limit) return max;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
