import { SimulatedDevice } from '../device/device.js';
import type {
  DeviceIdentity,
  DeviceObserver,
  DeviceState,
  DisconnectReason,
  LoginFailure,
} from '../device/observer.js';
import { Scheduler } from '../device/scheduler.js';
import { compileLoginCode } from '../scenario/template.js';

export interface FleetOptions {
  url: string;
  count: number;
  channels: number;
  loginCode: string;
  firstIndex: number;
  password: string;
  profile: 'spec' | 'vendor';
  hardwareModel: string;
  firmwareModel: string;
  sourceAddress?: string[];
  ca?: string;
  insecure?: boolean;
  startupJitterMs: number;
  out: NodeJS.WritableStream;
  /** Resolves to stop the fleet (default: SIGINT/SIGTERM). */
  until?: Promise<unknown>;
  statusEveryMs?: number;
}

export const refusalMeaning: Record<number, string> = {
  400: 'the platform says the login request is incomplete',
  401: 'bad login code or password',
  403: 'the device is disabled on the platform',
  503: 'the platform refuses more devices',
};

/** Counts outcomes for the status line, and explains the first failure of each kind once. */
class FleetStatus implements DeviceObserver {
  readonly states = new Map<DeviceState, number>();
  loginsOk = 0;
  loginsRefused = 0;
  loginsFailed = 0;
  disconnects = 0;
  keepalives = 0;
  private readonly explained = new Set<string>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly target: string,
  ) {}

  stateChanged(_d: DeviceIdentity, from: DeviceState, to: DeviceState): void {
    this.states.set(from, (this.states.get(from) ?? 0) - 1);
    this.states.set(to, (this.states.get(to) ?? 0) + 1);
  }
  loginSucceeded(): void {
    this.loginsOk++;
  }
  loginFailed(d: DeviceIdentity, failure: LoginFailure): void {
    if (failure.kind === 'refused') {
      this.loginsRefused++;
      this.explainOnce(
        `refused ${failure.status}`,
        `${d.loginCode}: login refused with HTTP ${failure.status} (${refusalMeaning[failure.status] ?? 'see the platform'}); retrying with back-off`,
      );
    } else {
      this.loginsFailed++;
      const why =
        failure.reason === 'connection_refused'
          ? `cannot connect to ${this.target}: connection refused — is the platform running on that port?`
          : failure.reason === 'timeout'
            ? `no answer from ${this.target} within the handshake timeout`
            : failure.reason === 'tls'
              ? `TLS handshake with ${this.target} failed (use --ca FILE or --insecure for a test certificate)`
              : `cannot connect to ${this.target} (${failure.reason})`;
      this.explainOnce(`failed ${failure.reason}`, `${why}; retrying with back-off`);
    }
  }
  rpcCompleted(_d: DeviceIdentity, direction: string, method: string): void {
    if (direction === 'to_ivc' && method === 'Keepalive') this.keepalives++;
  }
  disconnected(d: DeviceIdentity, reason: DisconnectReason, detail: string): void {
    this.disconnects++;
    this.explainOnce(
      `disconnect ${reason}`,
      `${d.loginCode}: disconnected (${reason}${detail ? `: ${detail}` : ''})`,
    );
  }
  eventReceived(): void {}
  alarmRaised(): void {}

  line(count: number): string {
    const n = (s: DeviceState) => this.states.get(s) ?? 0;
    const waiting = n('waiting') > 0 ? `  waiting ${n('waiting')}` : '';
    return `online ${n('online')}/${count}${waiting}  connecting ${n('connecting')}  backoff ${n('backoff')}  logins ok ${this.loginsOk} refused ${this.loginsRefused} failed ${this.loginsFailed}  keepalives ${this.keepalives}  disconnects ${this.disconnects}`;
  }

  private explainOnce(key: string, message: string): void {
    if (this.explained.has(key)) return;
    this.explained.add(key);
    this.out.write(`${message}\n`);
  }
}

/** Runs `count` devices in this process until stopped (`ivtfarm device`). */
export async function runDevices(options: FleetOptions): Promise<void> {
  const scheduler = new Scheduler();
  const target = new URL(options.url).host;
  const status = new FleetStatus(options.out, target);
  const code = compileLoginCode(options.loginCode);
  const kind = options.channels > 1 ? 'nvr' : 'camera';
  const tls = options.ca || options.insecure ? { caFile: options.ca, insecure: options.insecure } : undefined;
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < options.count; i++) {
    const index = options.firstIndex + i;
    const addresses = options.sourceAddress ?? [];
    devices.push(
      new SimulatedDevice(
        {
          url: options.url,
          loginCode: code(index, 0),
          password: options.password,
          index,
          kind,
          channels: options.channels,
          profile: options.profile,
          hardwareModel: options.hardwareModel,
          firmwareModel: options.firmwareModel,
          localAddress: addresses.length > 0 ? addresses[i % addresses.length] : undefined,
          tls,
          timings: { startDelayMaxMs: options.startupJitterMs },
        },
        { scheduler, observer: status },
      ),
    );
  }
  options.out.write(
    `starting ${options.count} ${kind === 'nvr' ? `NVR-${options.channels}` : 'camera'} device(s) against ${options.url}\n`,
  );
  for (const d of devices) d.start();
  const timer = setInterval(
    () => options.out.write(`${status.line(options.count)}\n`),
    options.statusEveryMs ?? 5000,
  );
  const until =
    options.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await until;
  clearInterval(timer);
  options.out.write('stopping devices…\n');
  await Promise.race([Promise.all(devices.map((d) => d.stop())), new Promise((r) => setTimeout(r, 3000))]);
  options.out.write(`${status.line(options.count)}\n`);
}
