// The one polling helper of the tests: waits for a condition a real server reaches in its own
// time, with a deadline, instead of a fixed sleep.

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined, null or
 * false, and resolves with that value. After `timeoutMs` it fails naming `what` (and the probe's
 * last error: a probe that throws, e.g. a request to a server still starting, counts as not yet).
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
