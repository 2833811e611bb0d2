// Moved to core/random.ts. This re-export keeps branches written against the old path
// compiling until they are merged; delete it then.
export * from '../core/random.js';
