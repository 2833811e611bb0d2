// `ivtfarm ivc --processes N` started as a user starts it, for the end-to-end tests: what its
// startup lines print (the children's device URLs, the front's admin API, the front's ingest).
import { eventually } from '../support/eventually.js';
import { type Running, startCli } from './cli-process.js';

export interface StartedPlatform {
  ivc: Running;
  /** The children's device endpoints, in process order. */
  urls: string[];
  /** `http://host:port` of the front. */
  admin: string;
  /** `rtmp://host:port/live` of the front's ingest, or null without `--rtmp-port`. */
  rtmp: string | null;
}

/** Starts `ivtfarm ivc --processes N --port 0 …extra` and waits until it printed where it listens. */
export async function startIvcProcesses(
  processes: number,
  extra: string[],
  env: NodeJS.ProcessEnv,
): Promise<StartedPlatform> {
  const ivc = startCli(['ivc', '--processes', String(processes), '--port', '0', ...extra], env);
  const ingest = extra.includes('--rtmp-port');
  return eventually(
    'the platform processes listening',
    () => {
      const out = ivc.output();
      const urls = /devices connect to: (.+)/.exec(out)?.[1]?.trim().split(' ');
      const admin = /admin API: +(http:\/\/[^/]+)/.exec(out)?.[1];
      const rtmp = /RTMP ingest: +(\S+)/.exec(out)?.[1] ?? null;
      return urls && admin && (rtmp || !ingest) ? { ivc, urls, admin, rtmp } : null;
    },
    60_000,
  );
}
