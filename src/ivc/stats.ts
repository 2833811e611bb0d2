/** Platform-wide counters for `GET /api/stats` and the farm's report. */
export class IvcStats {
  readonly startedAt = Date.now();
  online = 0;
  loginsOk = 0;
  /** Refused logins by HTTP status (400, 401, 403, 503). */
  readonly loginsRefused: Record<string, number> = {};
  /** Logins that replaced an existing connection of the same login code. */
  loginsReplaced = 0;
  keepalives = 0;
  alarms = 0;
  alarmPictures = 0;
  alarmPictureBytes = 0;
  rpcCalls = 0;
  rpcTimeouts = 0;
  eventsSent = 0;
  recordCreates = 0;
  recordSegments = 0;
  recordBytes = 0;
  recordFails = 0;
  recordSaves = 0;
  firmwareDownloads = 0;
  /** Offline device records forgotten past `limits.maxOfflineDevices`. */
  devicesEvicted = 0;
  /** Connections closed for a request head, body or upgrade not complete in time (handshake/request timeouts). */
  connectionTimeouts = 0;
  /** Recording callbacks and uploads for a session the platform never ordered (answered 404). */
  recordUnknown = 0;
  /** The user API (user-api.ts): token logins, refused logins, expired tokens shown, orders placed. */
  readonly userApi = { logins: 0, loginsRefused: 0, tokensExpired: 0, liveOpened: 0, recordingsStarted: 0 };
  readonly violations: Record<string, number> = {};
  /** Deviations the vendor firmware is known to make, counted apart from violations (not strict). */
  readonly vendorQuirks: Record<string, number> = {};
  /** Why connections ended, by close reason. */
  readonly disconnects: Record<string, number> = {};

  refuse(status: number): void {
    this.loginsRefused[status] = (this.loginsRefused[status] ?? 0) + 1;
  }

  toJSON(devicesKnown: number): Record<string, unknown> {
    return {
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      online: this.online,
      devices_known: devicesKnown,
      devices_evicted: this.devicesEvicted,
      connection_timeouts: this.connectionTimeouts,
      logins: { ok: this.loginsOk, replaced: this.loginsReplaced, refused: this.loginsRefused },
      keepalives: this.keepalives,
      alarms: this.alarms,
      alarm_pictures: { count: this.alarmPictures, bytes: this.alarmPictureBytes },
      rpc: { calls: this.rpcCalls, timeouts: this.rpcTimeouts, events_sent: this.eventsSent },
      record: {
        creates: this.recordCreates,
        segments: this.recordSegments,
        bytes: this.recordBytes,
        fails: this.recordFails,
        saves: this.recordSaves,
        unknown_session: this.recordUnknown,
      },
      firmware_downloads: this.firmwareDownloads,
      user_api: {
        logins: this.userApi.logins,
        logins_refused: this.userApi.loginsRefused,
        tokens_expired: this.userApi.tokensExpired,
        live_opened: this.userApi.liveOpened,
        recordings_started: this.userApi.recordingsStarted,
      },
      violations: this.violations,
      vendor_quirks: this.vendorQuirks,
      disconnects: this.disconnects,
    };
  }
}
