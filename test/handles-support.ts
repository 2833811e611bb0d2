// Node's active handles by type (sockets, timers, worker threads' ports …), to show that a job left
// nothing running behind.

export function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Handles present now that were not in `before`, e.g. `['MessagePort', 2]`. */
export function handlesAdded(before: Map<string, number>): Array<[string, number]> {
  return [...handles()]
    .filter(([type, n]) => n > (before.get(type) ?? 0))
    .map(([type, n]) => [type, n - (before.get(type) ?? 0)]);
}

/** Polls until nothing is left over `before` (closed ports go on the next turn), or gives up at the deadline. */
export async function handlesSettle(
  before: Map<string, number>,
  deadlineMs = 5000,
): Promise<Array<[string, number]>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const added = handlesAdded(before);
    if (added.length === 0 || Date.now() > deadline) return added;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
