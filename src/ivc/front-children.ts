// The platform processes as the front of `ivtfarm ivc --processes N` sees them: their admin APIs,
// called over loopback HTTP with the admin token, read as one platform — stats added up, device
// pages walked process after process, a device found where its session lives.

/** What the front knows of one platform process. */
export interface FrontChild {
  index: number;
  /** Its device endpoint `ws://host:port/ivc`. */
  url: string;
  /** Its own `http://host:port` (firmware, uploads, recordings of its devices). */
  httpUrl: string;
  port: number;
  pid: number;
  /** Times it was restarted after an exit. */
  restarts: number;
}

/** An admin API answer: HTTP status and JSON body. */
export interface ChildAnswer {
  status: number;
  body: unknown;
}

/** Where a device is: the process holding its session (or that saw it last), with its record. */
export interface DeviceHome {
  child: FrontChild;
  record: Record<string, unknown>;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** Adds `from` into `into`: numbers add up, objects recursively; anything else is kept from the first. */
function addUp(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    const current = into[key];
    if (typeof value === 'number' && (typeof current === 'number' || current === undefined))
      into[key] = (current ?? 0) + value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const nested = (typeof current === 'object' && current !== null ? current : {}) as Record<
        string,
        unknown
      >;
      addUp(nested, value as Record<string, unknown>);
      into[key] = nested;
    } else if (current === undefined) into[key] = value;
  }
}

export class PlatformChildren {
  private readonly startedAt = Date.now();

  /**
   * @param list the children now (read on every call: a restarted child replaces its entry)
   * @param connectHost how the front reaches them (loopback for a wildcard bind)
   */
  constructor(
    readonly list: () => readonly FrontChild[],
    private readonly token: string | null,
    private readonly connectHost: string,
  ) {}

  /** `http://host:port` of a child as the front calls it. */
  base(child: FrontChild): string {
    return `http://${this.connectHost}:${child.port}`;
  }

  async call(child: FrontChild, method: string, path: string, body?: string): Promise<ChildAnswer> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(`${this.base(child)}${path}`, { method, headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    } catch (error) {
      return {
        status: 502,
        body: { error: `platform process ${child.index} did not answer: ${(error as Error).message}` },
      };
    }
  }

  private all(path: string, list = this.list()): Promise<ChildAnswer[]> {
    return Promise.all(list.map((c) => this.call(c, 'GET', path)));
  }

  /** The child where `loginCode` is online now (else where it connected last), asked of all at once. */
  async home(loginCode: string): Promise<DeviceHome | null> {
    const list = this.list();
    const answers = await this.all(`/api/devices/${encodeURIComponent(loginCode)}`, list);
    let found: DeviceHome | null = null;
    for (const [i, a] of answers.entries()) {
      if (a.status !== 200) continue;
      const record = a.body as Record<string, unknown>;
      if (record.online === true) return { child: list[i]!, record };
      if (!found || String(record.connected_at) > String(found.record.connected_at))
        found = { child: list[i]!, record };
    }
    return found;
  }

  /** The first child's 200 answer to `path` (a recording lives in one process), else null. */
  async first(path: string): Promise<ChildAnswer | null> {
    return (await this.all(path)).find((a) => a.status === 200) ?? null;
  }

  /** `/api/stats` of the whole: the children's counters added up, each process, the front. */
  async stats(): Promise<Record<string, unknown>> {
    const list = this.list();
    const answers = await this.all('/api/stats', list);
    const whole: Record<string, unknown> = {};
    const processes = answers.map((a, i) => {
      const s = (a.status === 200 ? a.body : {}) as Record<string, unknown> & { process?: unknown };
      const { process: usage, uptime_s: _uptime, ...counters } = s;
      if (a.status === 200) addUp(whole, counters);
      return {
        index: list[i]!.index,
        pid: list[i]!.pid,
        url: list[i]!.url,
        answered: a.status === 200,
        restarts: list[i]!.restarts,
        online: typeof s.online === 'number' ? s.online : null,
        ...(typeof usage === 'object' && usage !== null ? usage : {}),
      };
    });
    const memory = process.memoryUsage();
    return {
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      ...whole,
      processes,
      front: {
        rss_mb: Math.round(memory.rss / 2 ** 20),
        heap_used_mb: Math.round(memory.heapUsed / 2 ** 20),
      },
    };
  }

  /** One page of `GET /api/devices` over the children in turn; `next` is `<child>.<its next>`. */
  async devicesPage(query: URLSearchParams): Promise<ChildAnswer> {
    const limitText = query.get('limit');
    const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE)
      return { status: 400, body: { error: `limit must be an integer from 0 to ${MAX_PAGE}` } };
    const list = this.list();
    const cursor = /^(\d+)\.(\d+)$/.exec(query.get('after') ?? '0.0');
    if (!cursor || Number(cursor[1]) > list.length)
      return { status: 400, body: { error: 'after must be the next of a previous page' } };
    const onlineOnly = query.get('online') === '1' || query.get('online') === 'true';
    const filter = onlineOnly ? '&online=1' : '';
    const counts = await this.all('/api/devices?limit=0', list);
    const online = counts.reduce((n, a) => n + ((a.body as { online?: number } | null)?.online ?? 0), 0);
    const devices: unknown[] = [];
    let next: string | null = null;
    let after = cursor[2]!;
    for (let c = Number(cursor[1]); c < list.length; c++, after = '0') {
      if (devices.length === limit) {
        next = `${c}.0`;
        break;
      }
      const path = `/api/devices?limit=${limit - devices.length}&after=${after}${filter}`;
      const a = await this.call(list[c]!, 'GET', path);
      if (a.status !== 200) return a;
      const page = a.body as { devices: unknown[]; next: string | null };
      devices.push(...page.devices);
      if (page.next !== null) {
        next = `${c}.${page.next}`;
        break;
      }
    }
    return { status: 200, body: { count: devices.length, online, next, devices } };
  }
}
