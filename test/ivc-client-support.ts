// Moved to support/ivc-client.ts (shared with the benches). This re-export, and waitFor (now
// support/eventually.ts), keep branches in flight compiling; delete them after the merge.

export { eventually as waitFor } from '../support/eventually.js';
export * from '../support/ivc-client.js';
