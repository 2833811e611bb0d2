import type { WifiStatusAnswer } from '../protocol/methods.js';

/**
 * The device's simulated Wi-Fi adapter: off until the platform sets an SSID, then "connected".
 * The password is kept only to be reported back by GetWifiStatusAndConfig (the protocol's
 * answer carries it); it never goes to an observer, a log or an error message.
 */
export class Wifi {
  private ssid = '';
  private password = '';

  constructor(private readonly index: number) {}

  /** SetWifiConfig: absent fields keep their value; an SSID turns the adapter on. */
  configure(ssid: string | undefined, password: string | undefined): void {
    if (ssid !== undefined) this.ssid = ssid;
    if (password !== undefined) this.password = password;
  }

  get enabled(): boolean {
    return this.ssid !== '';
  }

  get currentSsid(): string {
    return this.ssid;
  }

  status(): WifiStatusAnswer {
    if (!this.enabled) return { enable: false, status: 'disabled' };
    const i = this.index;
    return {
      enable: true,
      ip: `192.168.${(i >> 8) & 255}.${i & 255 || 1}`,
      gateway: `192.168.${(i >> 8) & 255}.254`,
      netmask: '255.255.255.0',
      dhcp: true,
      ssid: this.ssid,
      password: this.password,
      encrypt: this.password === '' ? 'NONE' : 'WPA2-PSK',
      status: 'connected',
      signal: 72,
    };
  }
}
