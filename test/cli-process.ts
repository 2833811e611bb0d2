// The long-running CLI child of the end-to-end tests (bench/cli-child.ts, shared with the
// benches); every child still running when the test file ends is killed.
import { after } from 'node:test';
import { killCliChildren } from '../support/cli-child.js';

export { type Running, startCli } from '../support/cli-child.js';

after(killCliChildren);
