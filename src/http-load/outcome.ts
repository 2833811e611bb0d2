// How an HTTP request ended, as the `result` and `status` labels of `http_requests` say it — for
// autocannon's answers and for k6's `http_reqs` alike.

/** ok below 400, error from 400 on (an answer came either way). */
export function resultOf(status: number): 'ok' | 'error' {
  return status < 400 ? 'ok' : 'error';
}

/** What a request that got no answer is counted as (`status` label). */
export function failureStatus(error: unknown): 'timeout' | 'network' {
  return error instanceof Error && /timed out/i.test(error.message) ? 'timeout' : 'network';
}
