import { ErrorCode, RpcError } from '../protocol/errors.js';
import type {
  IvtMethod,
  IvtParams,
  NetConfig,
  Quality,
  RTMPPublishConfigEntry,
  WifiSsid,
} from '../protocol/methods.js';
import { checkParams, ivtMethodValidators } from '../protocol/validators.js';
import type { Channel } from './channel.js';
import { applyDetectConfig } from './detection.js';
import type { SimulatedDevice } from './device.js';
import { tokenList } from './ptz.js';

/**
 * The IVT methods of IVR-RPC.md ("RPC methods offered by the IVT"): one table entry per method
 * with the channel rule it needs, so the order of checks is the same for all of them —
 * unknown method 101, invalid params 1 (the schema's reason), no such channel 102, channel
 * offline 103, then the method's own errors (11, 12).
 */

/** `online`: the channel must exist and not be rebooting; `exists`: it must exist; `none`: no channel param. */
type ChannelRule = 'online' | 'exists' | 'none';

interface MethodEntry<M extends IvtMethod> {
  channel: ChannelRule;
  /** Sends media: refused with 101 by a device without a media path. */
  media?: true;
  handle(device: SimulatedDevice, params: IvtParams<M>, channel: Channel): unknown;
}

/** Shared empty answer: the peer serialises it, nobody mutates it. */
const EMPTY = Object.freeze({});

/** The empty answer of the methods the vendor firmware answers `"resp": ""`. */
function done(device: SimulatedDevice): object | string {
  return device.traits.emptyAnswerString ? '' : EMPTY;
}

const ssidList: readonly WifiSsid[] = Object.freeze([
  Object.freeze({ ssid: 'lab-2g', signal: 78, encrypt: 'WPA2-PSK' }),
  Object.freeze({ ssid: 'lab-5g', signal: 64, encrypt: 'WPA2-PSK' }),
  Object.freeze({ ssid: 'guest', signal: 41, encrypt: 'NONE' }),
]);

/** The quality's nominal bitrate, or error 11 when it exceeds `max_bitrate` > 0 (contract item 7). */
function checkBitrate(device: SimulatedDevice, quality: Quality, maxBitrate: number): number {
  const nominal = device.bitrates[quality];
  const shift = device.traits.maxBitrateShift;
  // The vendor SDK compares in kbit/s (>> 10), so a limit under 1024 bit/s becomes "no limit".
  const limit = maxBitrate >> shift;
  if (limit > 0 && nominal >> shift > limit) {
    throw new RpcError(
      ErrorCode.BitrateTooHigh,
      `stream bitrate ${nominal} exceeds max_bitrate ${maxBitrate}`,
    );
  }
  return nominal;
}

function netConfig(device: SimulatedDevice, channel: number): NetConfig[] {
  const i = device.index;
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 1}`;
  const hex = (b: number) => (b & 255).toString(16).padStart(2, '0');
  const mac = `02:1f:${hex(i >> 16)}:${hex(i >> 8)}:${hex(i)}:${hex(channel)}`;
  return [
    {
      name: 'eth0',
      ip: host,
      gateway: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.254`,
      netmask: '255.255.255.0',
      dns1: '10.0.0.53',
      dns2: '10.0.1.53',
      mac,
      dhcp: false,
    },
  ];
}

const methods: { [M in IvtMethod]: MethodEntry<M> } = {
  RTMPPublish: {
    channel: 'online',
    media: true,
    handle(device, p, ch) {
      const current = ch.publishing;
      if (current) {
        // "resp empty (published, or that stream already exists)"; another stream is a duplicate.
        if (current.streamId === p.stream_id) return done(device);
        throw new RpcError(ErrorCode.DuplicatePublish);
      }
      checkBitrate(device, p.quality, p.max_bitrate);
      device.startPush(ch, p.quality, p.url, p.stream_id);
      return done(device);
    },
  },
  RTMPStopPublish: {
    // Stopping on a rebooting channel finds nothing running: still "stopped".
    channel: 'exists',
    handle(device, p, ch) {
      if (ch.publishing?.streamId === p.stream_id) ch.stopPublish();
      return done(device);
    },
  },
  StartCloudRecord: {
    channel: 'online',
    media: true,
    handle(device, p, ch) {
      const current = ch.recording;
      if (current) {
        if (current.sessionId === p.session_id) return done(device);
        // One recording per channel: another session while one runs is a duplicate request.
        throw new RpcError(ErrorCode.DuplicatePublish, `channel ${ch.channel} is already recording`);
      }
      const bitrate = checkBitrate(device, p.quality, p.max_bitrate);
      const startTs = p.start_ts > 0 ? p.start_ts : Math.floor(device.now() / 1000);
      const params = Object.freeze({ ...p });
      const task = device.media.startRecord(
        {
          loginCode: device.loginCode,
          channel: ch.channel,
          bitrate,
          params,
          startTs,
          connectionPerRequest: device.traits.connectionPerUpload,
        },
        ch,
      );
      ch.startRecord({ sessionId: p.session_id, params, task });
      return done(device);
    },
  },
  StopCloudRecord: {
    channel: 'exists',
    handle(device, p, ch) {
      if (ch.recording?.sessionId === p.session_id) ch.stopRecord(device.traits.recordSessionAfterStop);
      return done(device);
    },
  },
  RebootChannel: {
    channel: 'online',
    handle(device, _p, ch) {
      device.rebootChannelAfterAnswer(ch);
      return done(device);
    },
  },
  GetPTZPresetList: {
    channel: 'online',
    handle: (device) => tokenList('preset', device.ptzPresets),
  },
  GetPTZPresetTourList: {
    channel: 'online',
    handle: (device) =>
      device.ptzTours === 0 && device.traits.nullEmptyTourList ? null : tokenList('tour', device.ptzTours),
  },
  AlarmMoveDetectConfig: {
    channel: 'online',
    handle(device, p, ch) {
      ch.moveDetect = applyDetectConfig(ch.moveDetect, p);
      return done(device);
    },
  },
  AlarmRectIntrusionDetectConfig: {
    channel: 'online',
    handle(device, p, ch) {
      ch.rectDetect = applyDetectConfig(ch.rectDetect, p);
      return done(device);
    },
  },
  GetNetConfig: {
    channel: 'online',
    handle: (device, _p, ch) => netConfig(device, ch.channel),
  },
  GetRTMPPublishConfig: {
    channel: 'none',
    handle: (device) => device.rtmpPublishConfig,
  },
  SetRTMPPublishConfig: {
    channel: 'none',
    handle(device, p) {
      for (const entry of p) {
        if (!device.channelOf(entry.channel)) throw new RpcError(ErrorCode.NoSuchChannel);
        // A standing push the device cannot send would show the channel live: refuse it.
        if (entry.enable && device.media.available === false)
          throw new RpcError(
            ErrorCode.MethodNotSupported,
            'standing push not supported: this device has no media path',
          );
      }
      device.rtmpPublishConfig = p.map(
        (e): RTMPPublishConfigEntry => ({
          enable: e.enable,
          channel: e.channel,
          quality: e.quality,
          url: e.url,
        }),
      );
      return done(device);
    },
  },
  GetWifiStatusAndConfig: {
    channel: 'online',
    handle: (device) => device.wifi.status(),
  },
  SetWifiConfig: {
    channel: 'online',
    handle(device, p) {
      device.wifi.configure(p.ssid, p.password);
      return EMPTY;
    },
  },
  GetWifiSSIDList: {
    channel: 'online',
    handle: () => ssidList,
  },
};

const table = new Map<string, MethodEntry<IvtMethod>>(
  Object.entries(methods) as Array<[string, MethodEntry<IvtMethod>]>,
);

/** Answers one platform request on `device`, or throws the `RpcError` the protocol asks for. */
export function serveIvtRequest(device: SimulatedDevice, method: string, params: unknown): unknown {
  const entry = table.get(method);
  // The name is cut: a platform's megabyte-long method name is not echoed back in full.
  if (!entry)
    throw new RpcError(
      ErrorCode.MethodNotSupported,
      device.traits.plainUnsupported ? 'error' : `method ${method.slice(0, 80)} not supported`,
    );
  if (entry.media && device.media.available === false)
    throw new RpcError(
      ErrorCode.MethodNotSupported,
      `method ${method.slice(0, 80)} not supported: this device has no media path`,
    );
  const invalid = checkParams(ivtMethodValidators, method, params);
  if (invalid !== null) throw new RpcError(ErrorCode.Internal, `invalid params: ${invalid}`);
  let channel: Channel | null = null;
  if (entry.channel !== 'none') {
    const n = (params as { channel: number }).channel;
    channel = device.channelOf(n);
    if (!channel) throw new RpcError(ErrorCode.NoSuchChannel, `channel ${n} does not exist`);
    if (entry.channel === 'online' && channel.state === 0) {
      throw new RpcError(ErrorCode.ChannelOffline, `channel ${n} is offline`);
    }
  }
  return entry.handle(device, params as never, channel as Channel);
}
