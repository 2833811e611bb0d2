import { alarmTypeName } from '../core/alarm-types.js';
import type { DisconnectLabel } from '../core/disconnect-reasons.js';
import type {
  DeviceIdentity,
  DeviceObserver,
  DeviceState,
  DisconnectReason,
  FirmwareOutcome,
  InjectedFault,
  LoginFailure,
} from '../device/observer.js';
import type {
  CounterHandle,
  Family,
  GaugeHandle,
  HistogramHandle,
  MetricsRegistry,
} from '../metrics/registry.js';

/** The farm's own actions get their own labels, so they are never mistaken for platform faults. */
const disconnectLabel: Partial<Record<DisconnectReason, DisconnectLabel>> = {
  local: 'shutdown',
  storm: 'scenario',
};

/**
 * The farm's `DeviceObserver`: turns every device outcome into metric records of one worker's
 * registry. Handles are resolved once (or cached per label value by `Family`), so a keepalive
 * round trip costs a map lookup and an HDR record, no allocation. One instance per mix entry:
 * its counters carry the entry's name as the `mix` label (histograms and gauges stay whole-run).
 */
export class DeviceMetrics implements DeviceObserver {
  private readonly states: Family<GaugeHandle>;
  private readonly firmwareChecks: Family<CounterHandle>;
  private readonly eventsRejected: Family<CounterHandle>;
  private readonly mediaFailures: Family<CounterHandle>;
  private readonly faults: Family<CounterHandle>;
  private readonly logins: Family<CounterHandle>;
  private readonly loginDuration: HistogramHandle;
  private readonly keepaliveRtt: HistogramHandle;
  private readonly keepaliveLateness: HistogramHandle;
  private readonly alarmRtt: HistogramHandle;
  private readonly rpcs: Family<CounterHandle>;
  private readonly rpcDuration: Family<HistogramHandle>;
  private readonly rpcErrors: Family<CounterHandle>;
  private readonly disconnects: Family<CounterHandle>;
  private readonly events: Family<CounterHandle>;
  private readonly unknownEvents: CounterHandle;
  private readonly alarms: Family<CounterHandle>;
  private readonly started: CounterHandle;
  private readonly reachedOnline: CounterHandle;
  /** Devices (by index) that were online once: the run checks count each device once, not each login. */
  private readonly everOnline = new Set<number>();

  constructor(
    registry: MetricsRegistry,
    private readonly mix: string,
  ) {
    this.states = registry.gaugeFamily('devices', ['state']);
    this.firmwareChecks = registry.counterFamily('firmware_checks', ['result']);
    this.eventsRejected = registry.counterFamily('events_rejected', ['event']);
    this.mediaFailures = registry.counterFamily('media_failures', ['kind']);
    this.faults = registry.counterFamily('faults_injected', ['type']);
    this.logins = registry.counterFamily('logins', ['result', 'reason', 'mix']);
    this.loginDuration = registry.histogram('login_duration');
    this.keepaliveRtt = registry.histogram('keepalive_rtt');
    this.keepaliveLateness = registry.histogram('keepalive_lateness');
    this.alarmRtt = registry.histogram('alarm_rtt');
    this.rpcs = registry.counterFamily('rpcs', ['method', 'direction', 'mix']);
    this.rpcDuration = registry.histogramFamily('rpc_duration', ['method', 'direction']);
    this.rpcErrors = registry.counterFamily('rpc_errors', ['method', 'code', 'mix']);
    this.disconnects = registry.counterFamily('disconnects', ['reason', 'mix']);
    this.events = registry.counterFamily('events_received', ['event', 'mix']);
    this.unknownEvents = registry.counter('unknown_events');
    this.alarms = registry.counterFamily('alarms', ['type', 'mix']);
    this.started = registry.counter('devices_started');
    this.reachedOnline = registry.counter('devices_reached_online');
    // Make the common states visible as 0 from the first second.
    for (const s of ['waiting', 'connecting', 'online', 'backoff'] as const) this.states.get(s);
  }

  stateChanged(d: DeviceIdentity, from: DeviceState, to: DeviceState): void {
    // `idle` is only the state before the first start (a stopped device comes back from `stopped`).
    if (from === 'idle') this.started.add(1);
    if (to === 'online' && !this.everOnline.has(d.index)) {
      this.everOnline.add(d.index);
      this.reachedOnline.add(1);
    }
    if (from !== 'idle' && from !== 'stopped') this.states.get(from).add(-1);
    if (to !== 'idle' && to !== 'stopped') this.states.get(to).add(1);
  }

  loginSucceeded(_d: DeviceIdentity, ms: number): void {
    this.logins.get('ok', 'ok', this.mix).add(1);
    this.loginDuration.record(ms);
  }

  loginFailed(_d: DeviceIdentity, failure: LoginFailure, _ms: number): void {
    if (failure.kind === 'refused') this.logins.get('refused', `http_${failure.status}`, this.mix).add(1);
    else this.logins.get('failed', failure.reason, this.mix).add(1);
  }

  rpcCompleted(
    _d: DeviceIdentity,
    direction: 'to_ivc' | 'from_ivc',
    method: string,
    ms: number,
    errCode: number | null,
  ): void {
    this.rpcs.get(method, direction, this.mix).add(1);
    this.rpcDuration.get(method, direction).record(ms);
    if (errCode !== null) this.rpcErrors.get(method, errCode, this.mix).add(1);
    if (direction === 'to_ivc') {
      if (method === 'Keepalive') this.keepaliveRtt.record(ms);
      else if (method === 'AlarmNotify') this.alarmRtt.record(ms);
    }
  }

  keepaliveLate(_d: DeviceIdentity, ms: number): void {
    this.keepaliveLateness.record(ms);
  }

  disconnected(_d: DeviceIdentity, reason: DisconnectReason, _detail: string): void {
    this.disconnects.get(disconnectLabel[reason] ?? reason, this.mix).add(1);
  }

  eventReceived(_d: DeviceIdentity, event: string, known: boolean): void {
    if (known) this.events.get(event, this.mix).add(1);
    else this.unknownEvents.add(1);
  }

  alarmRaised(_d: DeviceIdentity, _channel: number, type: number): void {
    this.alarms.get(alarmTypeName(type) ?? String(type), this.mix).add(1);
  }

  firmwareChecked(_d: DeviceIdentity, outcome: FirmwareOutcome, _bytes: number): void {
    this.firmwareChecks.get(outcome).add(1);
  }

  eventRejected(_d: DeviceIdentity, event: string): void {
    this.eventsRejected.get(event).add(1);
  }

  mediaFailed(_d: DeviceIdentity, _channel: number, kind: 'publish' | 'record', _detail: string): void {
    this.mediaFailures.get(kind).add(1);
  }

  faultInjected(_d: DeviceIdentity, fault: InjectedFault): void {
    this.faults.get(fault).add(1);
  }
}
