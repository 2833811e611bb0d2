/** What the live display shows each second. */
export interface ProgressSnapshot {
  elapsedMs: number;
  totalMs: number;
  online: number;
  target: number;
  loginsPerSec: number;
  keepaliveP99Ms: number | null;
  errors: number;
  streamsLive: number;
  note?: string;
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export function formatProgress(p: ProgressSnapshot): string {
  const rtt =
    p.keepaliveP99Ms === null ? '-' : `${p.keepaliveP99Ms.toFixed(p.keepaliveP99Ms < 10 ? 1 : 0)}ms`;
  const parts = [
    `${clock(p.elapsedMs)}/${clock(p.totalMs)}`,
    `online ${p.online}/${p.target}`,
    `logins ${p.loginsPerSec.toFixed(0)}/s`,
    `keepalive p99 ${rtt}`,
    `streams ${p.streamsLive}`,
    `errors ${p.errors}`,
  ];
  if (p.note) parts.push(p.note);
  return parts.join('  ');
}

/**
 * One line rewritten in place on a terminal; on a pipe (CI logs), a plain line every
 * `logEveryMs` so logs stay readable.
 */
export class ProgressDisplay {
  private lastLogAt = -Infinity;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly logEveryMs = 5000,
    private readonly enabled = true,
  ) {}

  update(p: ProgressSnapshot): void {
    if (!this.enabled) return;
    const line = formatProgress(p);
    if (this.out.isTTY) {
      const width = this.out.columns ?? 120;
      this.out.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      this.drawn = true;
    } else if (p.elapsedMs - this.lastLogAt >= this.logEveryMs) {
      this.lastLogAt = p.elapsedMs;
      this.out.write(`${line}\n`);
    }
  }

  /** Prints a message above the live line without garbling it. */
  log(message: string): void {
    if (this.drawn && this.out.isTTY) this.out.write('\r\x1b[2K');
    this.out.write(`${message}\n`);
  }

  finish(): void {
    if (this.drawn && this.out.isTTY) this.out.write('\n');
    this.drawn = false;
  }
}
