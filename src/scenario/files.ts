// Reading files a scenario names (the scenario itself, a password file) without trusting them:
// only a regular file under a size cap is read. A FIFO with no writer would block `open` and
// `read` forever; /dev/zero or a huge file would be read until memory runs out.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';

export class FileReadError extends Error {}

function describeKind(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkRegular(stat: import('node:fs').Stats, maxBytes: number): void {
  if (!stat.isFile()) throw new FileReadError(`is ${describeKind(stat)}, not a regular file`);
  if (stat.size > maxBytes) throw new FileReadError(`is larger than ${maxBytes} bytes`);
}

/**
 * The text of `path`, which must be a regular file of at most `maxBytes`. Checked with stat
 * before opening; opened non-blocking and checked again on the descriptor (the path may have
 * been swapped in between); never reads more than `maxBytes + 1` bytes.
 */
export function readRegularFile(path: string, maxBytes: number): string {
  try {
    checkRegular(statSync(path), maxBytes);
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new FileReadError(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  try {
    checkRegular(fstatSync(fd), maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new FileReadError(`is larger than ${maxBytes} bytes`);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
