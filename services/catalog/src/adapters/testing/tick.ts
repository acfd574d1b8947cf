/** Waits long enough for a millisecond clock to move, so `updatedAt` comparisons mean something. */
export function tick(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
