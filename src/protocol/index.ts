export * from './close-reason.js';
export * from './deadline-sweeper.js';
export * from './envelope.js';
export * from './errors.js';
export * from './methods.js';
export * from './peer.js';
export * from './validators.js';
