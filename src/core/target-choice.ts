// Which of the scenario's target URLs (a platform's access gateways) a device logs in to.
// Rendezvous hashing: each device takes the URL with the highest hash of (URL, login code), so
// the choice depends only on the device and the list — the same device goes to the same URL in
// every run, on any thread, agent or shard; the order of the list does not matter; and adding or
// removing one URL moves only the devices that must move (about 1/n of them).

/** FNV-1a, 32 bits, over the UTF-16 code units of `text`, continued from `hash`. */
function fnv1a(text: string, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The URL of `urls` that device `loginCode` uses (the only one when there is one). */
export function targetUrlFor(loginCode: string, urls: readonly string[]): string {
  if (urls.length === 1) return urls[0]!;
  let best = urls[0]!;
  let bestScore = -1;
  const device = fnv1a(loginCode);
  for (const url of urls) {
    // Mixed once more so that close URLs (…:8081, …:8082) do not get close scores.
    const score = Math.imul(fnv1a(url, device) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    if (score > bestScore || (score === bestScore && url < best)) {
      best = url;
      bestScore = score;
    }
  }
  return best;
}
