// Moved to support/nginx-rtmp.ts (shared with the benches). This re-export keeps branches in
// flight compiling; delete it after the merge.
export * from '../support/nginx-rtmp.js';
