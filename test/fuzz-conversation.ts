// Plays fuzzed packets to a receiver over one WebSocket and checks each outcome against what
// the packet expects (see fuzz-packets.ts). Requests the receiver itself sends (a device's
// Keepalive, GetFirmware) are answered by `answerPeer` and kept out of the check.
import type { WebSocket } from 'ws';
import type { FuzzPacket } from './fuzz-packets.js';

/** The error codes of IVR-RPC.md: any `err` answer must carry one of them. */
const PROTOCOL_ERROR_CODES = new Set([1, 11, 12, 101, 102, 103]);
const WAIT_MS = 10_000;
/** An error answer explains, it does not echo what it refuses. */
const MAX_ERROR_MESSAGE = 1000;

type Incoming = Record<string, unknown>;

export class Conversation {
  private readonly queue: Incoming[] = [];
  private closeCode: number | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly ws: WebSocket,
    answerPeer: (request: Incoming) => unknown,
  ) {
    ws.on('message', (data: Buffer) => {
      let value: Incoming;
      try {
        value = JSON.parse(data.toString()) as Incoming;
      } catch {
        value = { unparsable: data.toString().slice(0, 200) };
      }
      if (typeof value.req === 'string' && typeof value.seq === 'number') {
        ws.send(JSON.stringify({ seq: value.seq, resp: answerPeer(value) }));
        return;
      }
      this.queue.push(value);
      this.wake?.();
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.wake?.();
    });
    ws.on('error', () => {});
  }

  get isOpen(): boolean {
    return this.closeCode === null;
  }

  /**
   * Sends each packet and checks its outcome; stops at the first close. Returns the close code
   * (null when the connection is still open). `probe` is a harmless request sent after an
   * event, whose answer must be the next message.
   */
  async play(packets: readonly FuzzPacket[], probe: (seq: number) => string): Promise<number | null> {
    for (const [i, p] of packets.entries()) {
      const at = `packet ${i + 1} (${p.label})`;
      if (!this.isOpen)
        throw new Error(`${at}: connection closed before it was sent (code ${this.closeCode})`);
      this.ws.send(p.data, { binary: p.binary });
      const expect = p.expect;
      if (expect.kind === 'close') {
        await this.until(() => !this.isOpen, `${at}: close ${expect.code}`);
        if (this.closeCode !== expect.code)
          throw new Error(`${at}: closed with ${this.closeCode}, protocol says ${expect.code}`);
        if (this.queue.length > 0)
          throw new Error(`${at}: answered ${JSON.stringify(this.queue[0])} before closing`);
        return this.closeCode;
      }
      const seq = expect.kind === 'answer' ? expect.seq : 424242;
      if (expect.kind === 'ignored') this.ws.send(probe(seq));
      const answer = await this.next(`${at}: answer with seq ${seq}`);
      if (answer.seq !== seq)
        throw new Error(
          `${at}: got ${JSON.stringify(answer).slice(0, 300)}, expected the answer to seq ${seq}`,
        );
      const err = answer.err as { code?: unknown } | undefined;
      if (err !== undefined && !PROTOCOL_ERROR_CODES.has(err.code as number))
        throw new Error(`${at}: error code ${String(err.code)} is not one of the protocol's`);
      const msg = (err as { msg?: unknown } | undefined)?.msg;
      if (typeof msg === 'string' && msg.length > MAX_ERROR_MESSAGE)
        throw new Error(`${at}: error message of ${msg.length} chars (echoes the input?)`);
      if (expect.kind === 'answer' && expect.errCode !== undefined && err?.code !== expect.errCode)
        throw new Error(
          `${at}: answered ${JSON.stringify(answer).slice(0, 300)}, expected error ${expect.errCode}`,
        );
      if (err === undefined && !('resp' in answer))
        throw new Error(`${at}: answer ${JSON.stringify(answer)} has neither resp nor err`);
    }
    return null;
  }

  /** Closes our side and waits for the close to complete. */
  async end(): Promise<void> {
    if (!this.isOpen) return;
    this.ws.close(1000);
    await this.until(() => !this.isOpen, 'our close to complete');
  }

  private async next(what: string): Promise<Incoming> {
    await this.until(() => this.queue.length > 0 || !this.isOpen, what);
    const value = this.queue.shift();
    if (!value) throw new Error(`${what}: the connection closed instead (code ${this.closeCode})`);
    return value;
  }

  private until(ok: () => boolean, what: string): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        reject(new Error(`no outcome within ${WAIT_MS} ms, waiting for ${what}`));
      }, WAIT_MS);
      this.wake = () => {
        if (!ok()) return;
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
