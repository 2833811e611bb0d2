// RTMP "simple" handshake (C0/C1/C2, S0/S1/S2), both sides. A C1/S1 with zero version bytes makes
// nginx-rtmp, SRS and FFmpeg fall back to this form instead of the digest (Flash) handshake.
import { randomBytes } from 'node:crypto';

export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;

export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

export interface HandshakeStep {
  /** Bytes to send now (may be empty). */
  readonly reply: Buffer | null;
  /** Set when the handshake is complete: the bytes that followed it (the first chunks). */
  readonly rest: Buffer | null;
}

function packet1(): Buffer {
  const p = randomBytes(HANDSHAKE_SIZE);
  p.writeUInt32BE(0, 0); // time
  p.writeUInt32BE(0, 4); // zero: "simple handshake"
  return p;
}

/** Accumulates bytes until `size` are there; returns them (and keeps the surplus). */
class Accumulator {
  private parts: Buffer[] = [];
  private length = 0;

  push(data: Buffer): void {
    this.parts.push(data);
    this.length += data.length;
  }

  take(size: number): Buffer | null {
    if (this.length < size) return null;
    const all = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
    this.parts = size < all.length ? [all.subarray(size)] : [];
    this.length -= size;
    return all.subarray(0, size);
  }

  rest(): Buffer {
    const r = Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return r;
  }
}

export class ClientHandshake {
  private readonly acc = new Accumulator();
  private state: 'S0S1' | 'S2' | 'done' = 'S0S1';

  /** C0 + C1, to send first. */
  start(): Buffer {
    return Buffer.concat([Buffer.of(RTMP_VERSION), packet1()]);
  }

  push(data: Buffer): HandshakeStep {
    this.acc.push(data);
    let reply: Buffer | null = null;
    if (this.state === 'S0S1') {
      const s0s1 = this.acc.take(1 + HANDSHAKE_SIZE);
      if (!s0s1) return { reply: null, rest: null };
      if (s0s1[0] !== RTMP_VERSION) throw new HandshakeError(`server RTMP version ${s0s1[0]}, expected 3`);
      reply = s0s1.subarray(1); // C2 echoes S1
      this.state = 'S2';
    }
    if (this.state === 'S2') {
      if (!this.acc.take(HANDSHAKE_SIZE)) return { reply, rest: null };
      this.state = 'done';
      return { reply, rest: this.acc.rest() };
    }
    throw new HandshakeError('handshake already complete');
  }
}

export class ServerHandshake {
  private readonly acc = new Accumulator();
  private state: 'C0C1' | 'C2' | 'done' = 'C0C1';

  push(data: Buffer): HandshakeStep {
    this.acc.push(data);
    let reply: Buffer | null = null;
    if (this.state === 'C0C1') {
      const c0c1 = this.acc.take(1 + HANDSHAKE_SIZE);
      if (!c0c1) return { reply: null, rest: null };
      if (c0c1[0] !== RTMP_VERSION) throw new HandshakeError(`client RTMP version ${c0c1[0]}, expected 3`);
      // S0 + S1 + S2 (S2 echoes C1); copied because C1 is a view of a socket buffer.
      reply = Buffer.concat([Buffer.of(RTMP_VERSION), packet1(), c0c1.subarray(1)]);
      this.state = 'C2';
    }
    if (this.state === 'C2') {
      if (!this.acc.take(HANDSHAKE_SIZE)) return { reply, rest: null };
      this.state = 'done';
      return { reply, rest: this.acc.rest() };
    }
    throw new HandshakeError('handshake already complete');
  }
}
