#!/usr/bin/env node
/**
 * `ivtfarm` — the command line. Each command loads only the modules it needs, so
 * `ivtfarm --help` and `ivtfarm validate` start fast.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_HARDWARE_MODEL } from './core/device-defaults.js';
import { type VendorTraits, vendorTraitNames } from './device/profile.js';
import type { FleetOptions } from './farm/fleet.js';
import type { IvcOptions } from './ivc/options.js';
import { ExitCode, RunRefused } from './run/exit-codes.js';
import { readRegularFile } from './scenario/files.js';
import { MAX_PASSWORD_FILE_BYTES } from './scenario/secrets.js';

/** An error whose message is for the person at the terminal: printed without a stack trace. */
class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.UsageError,
  ) {
    super(message);
  }
}

/**
 * Runs cancellable pool work with Ctrl-C wired to its signal: an interruption stops the tasks and
 * exits 105 saying what was left unwritten.
 */
async function interruptible<T>(unwritten: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { onInterrupt, InterruptedError } = await import('./core/interrupt.js');
  const interrupt = onInterrupt();
  try {
    return await work(interrupt.signal);
  } catch (error) {
    if (error instanceof InterruptedError)
      throw new UserError(`${error.message}: ${unwritten}`, ExitCode.Interrupted);
    throw error;
  } finally {
    interrupt.dispose();
  }
}

function positiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`);
    return n;
  };
}

/** A TCP port, 0–65535 (0: any free port), checked here so no raw Node message reaches the user. */
function portNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n > 65535)
      throw new InvalidArgumentError(`${name} must be a port number from 0 to 65535 (got "${text}")`);
    return n;
  };
}

/** Throws the usage error for a `--url` that is not a plain ws:// or wss:// URL. */
function checkWsUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`"${text}" is not a URL (expected ws://host:port/ivc or wss://…)`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidArgumentError(`"${text}" must start with ws:// or wss:// (got ${url.protocol}//)`);
  }
  if (url.search)
    throw new InvalidArgumentError(
      `"${url.origin}${url.pathname}…" has a query: give the URL without one (the device adds the login fields)`,
    );
}

/**
 * `ivtfarm device --url`, repeatable and/or comma-separated: each URL checked by `checkWsUrl`, each
 * once. Kept as typed, like a scenario's `target:` list, so a device hashes to the same URL as in a run.
 */
function wsUrlList(text: string, previous: string[] | undefined): string[] {
  const urls = [...(previous ?? [])];
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') throw new InvalidArgumentError(`an empty entry in the URL list "${text}"`);
    checkWsUrl(entry);
    if (urls.includes(entry)) throw new InvalidArgumentError(`${entry} is given twice (list each URL once)`);
    urls.push(entry);
  }
  return urls;
}

/** `HOST:PORT` for a listening socket (`[::1]:7000` for IPv6). */
function hostPort(name: string) {
  return (text: string): { host: string; port: number } => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
    const port = Number(m?.[3]);
    if (!m || port > 65535)
      throw new InvalidArgumentError(`${name} must be HOST:PORT, e.g. 0.0.0.0:7000 (got "${text}")`);
    return { host: m[1] ?? m[2] ?? '', port };
  };
}

/** The agent options of `ivtfarm run`; usage mistakes are UserErrors (exit 2). */
async function agentRunOptions(opts: RunFlags) {
  if ((opts.listen === undefined) !== (opts.expectAgents === undefined))
    throw new UserError('--listen HOST:PORT and --expect-agents N go together');
  if (opts.listen && opts.agents !== undefined)
    throw new UserError('--agents starts local agents; with --listen the agents join by themselves');
  if (opts.expectAgents === 0) throw new UserError('--expect-agents must be at least 1');
  const { readAgentToken, TokenError } = await import('./agent/token.js');
  let token = '';
  try {
    if (opts.listen) token = readAgentToken(opts);
  } catch (error) {
    if (error instanceof TokenError) throw new UserError(error.message);
    throw error;
  }
  return {
    listen: opts.listen && { ...opts.listen, expect: opts.expectAgents ?? 0, token },
    localAgents: opts.agents,
    devicesPerProcess: opts.devicesPerProcess || undefined,
    joinTimeoutMs: opts.joinTimeout !== undefined ? opts.joinTimeout * 1000 : undefined,
    silenceMs: opts.agentTimeout !== undefined ? opts.agentTimeout * 1000 : undefined,
    recordDeltasDir: opts.recordAgentDeltas,
  };
}

/** A password from an env variable or a file, never from the command line (visible in `ps`). */
function readPassword(
  opts: { passwordEnv?: string; passwordFile?: string },
  fallbackEnv: string,
): string | undefined {
  if (opts.passwordFile) {
    try {
      // A regular file under a cap: a FIFO or /dev/zero must not hang or fill memory.
      return readRegularFile(opts.passwordFile, MAX_PASSWORD_FILE_BYTES).replace(/\r?\n$/, '');
    } catch (error) {
      throw new UserError(`password file ${opts.passwordFile} ${(error as Error).message}`);
    }
  }
  const name = opts.passwordEnv ?? fallbackEnv;
  const value = process.env[name];
  if (opts.passwordEnv && value === undefined) throw new UserError(`environment variable ${name} is not set`);
  return value;
}

/** `ivtfarm device` flags: the fleet's options, with the password's source instead of the password. */
type DeviceFlags = Omit<FleetOptions, 'urls' | 'password' | 'out' | 'until' | 'statusEveryMs'> & {
  url: string[];
  passwordEnv?: string;
  passwordFile?: string;
};

interface RunFlags {
  out: string[];
  summaryExport?: string;
  shard?: string;
  metricsPort?: number;
  workers?: number;
  listen?: { host: string; port: number };
  expectAgents?: number;
  agents?: number;
  devicesPerProcess?: number;
  platformProcesses?: number;
  joinTimeout?: number;
  agentTimeout?: number;
  tokenEnv?: string;
  tokenFile?: string;
  recordAgentDeltas?: string;
  quiet?: boolean;
  baseline?: string;
  tolerances?: string;
  set: string[];
}

/** `--trait name=on|off`, repeatable: one habit of the profile switched. */
function traitSetting(value: string, previous: Partial<VendorTraits> | undefined): Partial<VendorTraits> {
  const [name = '', setting = ''] = value.split('=', 2);
  if (!vendorTraitNames.includes(name as keyof VendorTraits))
    throw new InvalidArgumentError(`unknown trait "${name}" (known: ${vendorTraitNames.join(', ')})`);
  if (!['on', 'off', 'true', 'false'].includes(setting))
    throw new InvalidArgumentError(`--trait ${name} needs =on or =off`);
  return { ...previous, [name]: setting === 'on' || setting === 'true' };
}

/** `--set path=value`, repeatable: each occurrence is added to the list. */
const collect = (value: string, previous: string[]) => [...previous, value];
const SET_HELP = 'override a scenario field, e.g. --set devices.count=20 (repeatable; value read as YAML)';

const program = new Command('ivtfarm')
  .description(
    'Device emulator farm for load testing video cloud platforms (IVR RPC devices: cameras and NVRs)',
  )
  .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
  .showHelpAfterError('(add --help for usage)')
  // Every usage mistake commander catches (unknown command or option, missing or bad argument)
  // exits 2, as the README says; --help and --version exit 0. Inherited by every command below.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : ExitCode.UsageError));

program
  .command('run')
  .description('run a scenario file: devices, load shape, events, thresholds; writes reports/<run>/')
  .argument('<scenario>', 'scenario file (YAML or JSON)')
  .option(
    '-o, --out <dir|k6-json=file>',
    'results directory (default: the scenario\'s output.dir, "reports"); k6-json=FILE also writes every second as k6 JSON lines (repeatable)',
    collect,
    [],
  )
  .option(
    '--summary-export <file>',
    "also write the end-of-run summary in the shape of k6's --summary-export",
  )
  .option('--shard <i/n>', 'run only shard i of n (0-based) of the device plan')
  .option(
    '--metrics-port <port>',
    'serve Prometheus text metrics on 127.0.0.1:<port>/metrics',
    portNumber('--metrics-port'),
  )
  .option(
    '--workers <n>',
    "worker threads (default: the scenario's, or one per core)",
    positiveInt('--workers'),
  )
  .option(
    '--agents <n>',
    'run the devices in n local agent processes (default: as many as the open-files limit needs; 0: never)',
    positiveInt('--agents'),
  )
  .option(
    '--devices-per-process <n>',
    'devices one local agent runs (default 15000: a process may open 20,000 files)',
    positiveInt('--devices-per-process'),
  )
  .option(
    '--platform-processes <n>',
    'run the embedded platform in n processes (default: one per 15000 devices when the scenario has no platform orders; 1: in this process)',
    positiveInt('--platform-processes'),
  )
  .option(
    '--listen <host:port>',
    'wait for remote agents (ivtfarm agent) on this address',
    hostPort('--listen'),
  )
  .option('--expect-agents <n>', 'start the load once n agents have joined', positiveInt('--expect-agents'))
  .option(
    '--join-timeout <s>',
    'give up when the agents have not all joined by then (default 60)',
    positiveInt('--join-timeout'),
  )
  .option(
    '--agent-timeout <s>',
    'an agent silent this long is lost (default 10)',
    positiveInt('--agent-timeout'),
  )
  .option(
    '--token-env <name>',
    "the agents' shared token from this environment variable (default IVTFARM_AGENT_TOKEN)",
  )
  .option('--token-file <file>', "the agents' shared token from this file")
  .addOption(
    new Option('--record-agent-deltas <dir>', 'local agents log every delta they send (tests)').hideHelp(),
  )
  .option('-q, --quiet', 'no live progress line')
  .option(
    '--baseline <run>',
    'compare with an earlier run (directory or summary.json); a regression exits 98',
  )
  .option('--tolerances <file>', 'regression tolerances for --baseline (YAML/JSON, see docs/ci.md)')
  .option('--set <path=value>', SET_HELP, collect, [])
  .action(async (file: string, opts: RunFlags) => {
    const { loadScenario, ScenarioError } = await import('./scenario/index.js');
    const { parseShard } = await import('./farm/plan.js');
    const { runScenario } = await import('./farm/coordinator.js');
    const { ProgressDisplay } = await import('./farm/progress.js');
    let scenario: Awaited<ReturnType<typeof loadScenario>>;
    try {
      scenario = loadScenario(file, { overrides: opts.set });
    } catch (error) {
      if (error instanceof ScenarioError) throw new UserError(error.message);
      throw error;
    }
    if (opts.workers) scenario.workers = opts.workers;
    const { checkWritableFile, parseOutFlags } = await import('./k6/out-flag.js');
    let outs: ReturnType<typeof parseOutFlags>;
    try {
      outs = parseOutFlags(opts.out);
      if (outs.k6Json) checkWritableFile('--out k6-json=', outs.k6Json);
      if (opts.summaryExport) checkWritableFile('--summary-export', opts.summaryExport);
    } catch (error) {
      throw new UserError((error as Error).message);
    }
    if (opts.platformProcesses === 0) throw new UserError('--platform-processes must be at least 1');
    const agents = await agentRunOptions(opts);
    let shard: ReturnType<typeof parseShard> | undefined;
    try {
      shard = opts.shard ? parseShard(opts.shard) : undefined;
    } catch (error) {
      throw new UserError(`--shard: ${(error as Error).message}`);
    }
    const report = await import('./report/index.js');
    const baseline = opts.baseline ?? scenario.report.baseline ?? undefined;
    if (baseline) {
      try {
        report.readRunSummary(baseline);
      } catch (error) {
        throw new UserError(`--baseline: ${(error as Error).message}`);
      }
    }
    const progress = new ProgressDisplay(process.stderr, 5000, !opts.quiet);
    let interrupts = 0;
    let stopRun: (signal: string) => void = () => {};
    const interrupt = new Promise<string>((resolve) => {
      stopRun = resolve;
    });
    const onSignal = (signal: NodeJS.Signals) => {
      interrupts++;
      if (interrupts === 1) {
        progress.log(`${signal}: stopping devices and writing results (press Ctrl-C again to quit at once)`);
        stopRun(signal);
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const result = await runScenario(scenario, {
      progress,
      shard,
      metricsPort: opts.metricsPort,
      outputDir: outs.dir,
      interrupt,
      agents,
      observers: outs.k6Json ? [new (await import('./k6/output.js')).K6JsonOutput(outs.k6Json)] : [],
      platformProcesses: opts.platformProcesses,
    }).catch((error: unknown) => {
      // A taken port, an unreachable target: refused before anything started, in plain words.
      if (error instanceof RunRefused) throw new UserError(error.message, error.exitCode);
      throw error;
    });
    // The run is over: from here Ctrl-C stops the report's rendering (results are on disk).
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    let exitCode = result.exitCode;
    let files: { html: string | null; junit: string | null };
    const unwritten = `report not written (ivtfarm report ${result.dir} builds it)`;
    if (baseline) {
      const compared = await interruptible(unwritten, (signal) =>
        report.applyBaseline(
          result.dir,
          baseline,
          result.exitCode,
          opts.tolerances,
          scenario.report.formats,
          signal,
        ),
      );
      exitCode = compared.exitCode;
      files = compared;
    } else {
      files = await interruptible(unwritten, (signal) =>
        report.writeRunReports(result.dir, scenario.report.formats, signal),
      );
    }
    const { printSummary } = await import('./report/console.js');
    const finalSummary = report.readRunSummary(result.dir) as typeof result.summary;
    printSummary(finalSummary, process.stdout);
    console.log(`results: ${result.dir}`);
    console.log(`summary: ${result.summaryPath}`);
    if (outs.k6Json) console.log(`k6 json: ${outs.k6Json}`);
    if (opts.summaryExport) {
      const { k6SummaryExport } = await import('./k6/summary-export.js');
      writeFileSync(opts.summaryExport, `${JSON.stringify(k6SummaryExport(finalSummary), null, 4)}\n`);
      console.log(`k6 summary export: ${opts.summaryExport}`);
    }
    if (files.junit) console.log(`junit:   ${files.junit}`);
    if (files.html) console.log(`report:  ${files.html}`);
    process.exitCode = exitCode;
  });

program
  .command('report')
  .description(
    '(re)build report.html and junit.xml of a run directory, also of an interrupted or crashed run',
  )
  .argument('<dir>', 'a run directory, e.g. reports/smoke-20261126-111903')
  .action(async (dir: string) => {
    const report = await import('./report/index.js');
    try {
      const files = await interruptible('report.html and junit.xml left as they were', (signal) =>
        report.writeRunReports(dir, undefined, signal),
      );
      if (files.junit) console.log(`junit:  ${files.junit}`);
      if (files.html) console.log(`report: ${files.html}`);
    } catch (error) {
      if (error instanceof report.RunDirError) throw new UserError(error.message);
      throw error;
    }
  });

program
  .command('merge')
  .description('merge the run directories of the shards of one run (--shard i/n) into one, then report it')
  .argument('<out>', 'directory for the merged run')
  .argument('<shards...>', "the shards' run directories")
  .action(async (out: string, shards: string[]) => {
    const { mergeRuns, MergeError } = await import('./farm/merge.js');
    const report = await import('./report/index.js');
    let summary: Awaited<ReturnType<typeof mergeRuns>>;
    try {
      summary = await interruptible(`nothing written to ${out}`, (signal) => mergeRuns(out, shards, signal));
    } catch (error) {
      if (error instanceof MergeError) throw new UserError(error.message);
      throw error;
    }
    const files = await interruptible(`report.html not written (ivtfarm report ${out} builds it)`, (signal) =>
      report.writeRunReports(out, undefined, signal),
    );
    const { printSummary } = await import('./report/console.js');
    printSummary(summary, process.stdout);
    const facts = summary.merge;
    if (facts && facts.per_second_percentiles !== 'exact') {
      console.log(
        `per-second percentiles: ${facts.approximate_seconds} histogram-seconds are the worst shard's, not exact ` +
          `(no histograms.jsonl in ${facts.shards_without_buckets.join(', ') || 'some seconds'}); run totals are exact`,
      );
    } else if (facts) {
      console.log(
        `per-second percentiles: exact (${facts.exact_seconds} histogram-seconds merged from buckets)`,
      );
    }
    console.log(`summary: ${out}/summary.json`);
    if (files.junit) console.log(`junit:   ${files.junit}`);
    if (files.html) console.log(`report:  ${files.html}`);
    process.exitCode = summary.run.exit_code;
  });

program
  .command('compare')
  .description('compare two runs and flag regressions (capacity down, p99 up, errors up); exit 98 on one')
  .argument('<base>', 'the baseline run (directory or summary.json)')
  .argument('<new>', 'the run to judge')
  .option('--tolerances <file>', 'regression tolerances (YAML/JSON, see docs/ci.md)')
  .action(async (base: string, next: string, opts: { tolerances?: string }) => {
    const report = await import('./report/index.js');
    try {
      const result = report.compareCommand(base, next, opts.tolerances);
      console.log(result.text);
      process.exitCode = result.exitCode;
    } catch (error) {
      if (error instanceof report.BaselineError || error instanceof report.RunDirError)
        throw new UserError(error.message);
      throw error;
    }
  });

program
  .command('validate')
  .description('check scenario files without running them')
  .argument('<files...>', 'scenario files')
  .option('--set <path=value>', SET_HELP, collect, [])
  .action(async (files: string[], opts: { set: string[] }) => {
    const { validateScenarioFile, formatProblem } = await import('./scenario/index.js');
    let bad = 0;
    for (const file of files) {
      const result = validateScenarioFile(file, { overrides: opts.set });
      if (result.ok) {
        console.log(`${file}: ok`);
      } else {
        bad++;
        for (const p of result.errors) console.error(formatProblem(p));
      }
    }
    if (bad > 0) throw new UserError(`${bad} of ${files.length} scenario file(s) have errors`, 2);
  });

program
  .command('ivc')
  .description('run the reference platform (IVC): device endpoint /ivc, admin API, web monitor, RTMP ingest')
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'HTTP/WebSocket port (0: any free port)', portNumber('--port'), 8080)
  .option(
    '--password-env <name>',
    'shared device password from this environment variable (default IVC_PASSWORD if set)',
  )
  .option('--password-file <file>', 'shared device password from this file')
  .option('--login-code-pattern <regex>', 'login codes must match this regular expression')
  .option('--registry <file>', 'JSON/YAML list of {login_code, password, disabled?}')
  .option(
    '--max-devices <n>',
    'refuse logins with 503 past n online devices (test knob)',
    positiveInt('--max-devices'),
  )
  .option(
    '--login-delay-ms <ms>',
    'delay every login answer (simulates a slow platform)',
    positiveInt('--login-delay-ms'),
  )
  .option('--rpc-timeout-ms <ms>', 'platform RPC timeout', positiveInt('--rpc-timeout-ms'))
  .option(
    '--keepalive-ms <ms>',
    'expected keepalive period for conformance checks',
    positiveInt('--keepalive-ms'),
  )
  .option(
    '--rtmp-port <port>',
    'run the RTMP ingest on this port (0: any free port)',
    portNumber('--rtmp-port'),
  )
  .option(
    '--max-streams <n>',
    'test knob: the RTMP ingest refuses publishes past n live streams',
    positiveInt('--max-streams'),
  )
  .option('--firmware-model <name>', 'firmware version answered by GetFirmware', 'ivc-fw-1.0.0')
  .option(
    '--firmware-size <bytes>',
    'size of the generated firmware download',
    positiveInt('--firmware-size'),
  )
  .option(
    '--public-host <name>',
    'host name put in URLs handed to devices (also allowed as admin Host/Origin)',
  )
  .option(
    '--admin-token-env <name>',
    'admin API/monitor token from this environment variable (default IVC_ADMIN_TOKEN if set; required off loopback)',
  )
  .option('--admin-token-file <file>', 'admin API/monitor token from this file')
  .option('--allow-origin <origin...>', 'more origins or host names allowed to use the admin API and monitor')
  .option(
    '--handshake-timeout-ms <ms>',
    'close connections without a request head or upgrade after this long (default 10000)',
    positiveInt('--handshake-timeout-ms'),
  )
  .option(
    '--keepalive-missing-periods <n>',
    'close a device silent for this many keepalive periods (default 3)',
    positiveInt('--keepalive-missing-periods'),
  )
  .option('--max-channels <n>', 'channels kept per device (default 256)', positiveInt('--max-channels'))
  .option(
    '--max-string-length <n>',
    'longest login code or device string kept (default 256)',
    positiveInt('--max-string-length'),
  )
  .option(
    '--max-keepalive-bytes <n>',
    'largest Keepalive whose channels are kept (default 65536)',
    positiveInt('--max-keepalive-bytes'),
  )
  .option(
    '--max-offline-devices <n>',
    'offline device records kept, oldest forgotten first (default 10000)',
    positiveInt('--max-offline-devices'),
  )
  .option('--strict', "count the vendor firmware's known deviations as violations, not vendor_quirk")
  .option('--api-user <name>', 'user of the user API (POST /api/login); its password from --api-password-env')
  .option(
    '--api-password-env <name>',
    'user API password from this environment variable (default IVC_API_PASSWORD)',
  )
  .option('--api-password-file <file>', 'user API password from this file')
  .option(
    '--api-token-ttl-ms <ms>',
    'lifetime of a user API token (default 3600000)',
    positiveInt('--api-token-ttl-ms'),
  )
  .addOption(
    new Option('--record-url-scheme <scheme>', 'scheme of the cbk_url handed out (default ivr)').choices([
      'ivr',
      'http',
    ]),
  )
  .option(
    '--processes <n>',
    'run the platform in n processes (devices connect to ports port+1…port+n; the admin API on --port adds them up; docs/ivc.md)',
    positiveInt('--processes'),
    1,
  )
  .action(
    async (opts: {
      host: string;
      port: number;
      passwordEnv?: string;
      passwordFile?: string;
      loginCodePattern?: string;
      registry?: string;
      maxDevices?: number;
      loginDelayMs?: number;
      rpcTimeoutMs?: number;
      keepaliveMs?: number;
      rtmpPort?: number;
      maxStreams?: number;
      firmwareModel: string;
      firmwareSize?: number;
      publicHost?: string;
      adminTokenEnv?: string;
      adminTokenFile?: string;
      allowOrigin?: string[];
      handshakeTimeoutMs?: number;
      keepaliveMissingPeriods?: number;
      maxChannels?: number;
      maxStringLength?: number;
      maxKeepaliveBytes?: number;
      maxOfflineDevices?: number;
      strict?: boolean;
      recordUrlScheme?: 'ivr' | 'http';
      apiUser?: string;
      apiPasswordEnv?: string;
      apiPasswordFile?: string;
      apiTokenTtlMs?: number;
      processes: number;
    }) => {
      // A long-lived service that any client can make allocate: V8 gives memory back after a flood
      // (bench/ivc-hardening.ts: +30 MB RSS after it instead of +54 MB).
      setFlagsFromString('--optimize-for-size');
      if (opts.processes < 1) throw new UserError('--processes must be at least 1');
      const password = readPassword(opts, 'IVC_PASSWORD');
      const adminToken = readPassword(
        { passwordEnv: opts.adminTokenEnv, passwordFile: opts.adminTokenFile },
        'IVC_ADMIN_TOKEN',
      );
      const apiPassword = opts.apiUser
        ? readPassword(
            { passwordEnv: opts.apiPasswordEnv, passwordFile: opts.apiPasswordFile },
            'IVC_API_PASSWORD',
          )
        : undefined;
      // The front of --processes serves the admin API only: live views are ordered in-process.
      if (opts.apiUser && opts.processes > 1)
        throw new UserError('--api-user runs in one platform process: drop --processes, or --api-user');
      if (opts.apiUser && !apiPassword)
        throw new UserError(
          '--api-user needs a password: set IVC_API_PASSWORD, or --api-password-env / --api-password-file',
        );
      const ivcOptions: IvcOptions = {
        host: opts.host,
        port: opts.port,
        auth: { password, loginCodePattern: opts.loginCodePattern, registryFile: opts.registry },
        maxDevices: opts.maxDevices,
        loginDelayMs: opts.loginDelayMs,
        rpcTimeoutMs: opts.rpcTimeoutMs,
        keepaliveMs: opts.keepaliveMs,
        rtmpIngest:
          opts.rtmpPort !== undefined ? { port: opts.rtmpPort, maxStreams: opts.maxStreams } : undefined,
        firmware: [{ firmware_model: opts.firmwareModel, size: opts.firmwareSize }],
        publicHost: opts.publicHost,
        adminToken,
        allowedOrigins: opts.allowOrigin,
        handshakeTimeoutMs: opts.handshakeTimeoutMs,
        keepaliveMissingPeriods: opts.keepaliveMissingPeriods,
        limits: {
          maxChannels: opts.maxChannels,
          maxStringLength: opts.maxStringLength,
          maxKeepaliveBytes: opts.maxKeepaliveBytes,
          maxOfflineDevices: opts.maxOfflineDevices,
        },
        strict: opts.strict === true,
        recordUrlScheme: opts.recordUrlScheme,
        userApi:
          opts.apiUser && apiPassword
            ? { user: opts.apiUser, password: apiPassword, tokenTtlMs: opts.apiTokenTtlMs }
            : undefined,
      };
      const ivc =
        opts.processes > 1
          ? await startPlatformProcesses(ivcOptions, opts.processes)
          : await (await import('./ivc/server.js')).startIvc(ivcOptions).catch((error: Error) => {
              throw new UserError(error.message);
            });
      const checks = [
        password !== undefined ? 'shared password' : null,
        opts.loginCodePattern ? 'login-code pattern' : null,
        opts.registry ? `registry ${opts.registry}` : null,
      ].filter(Boolean);
      console.log(`devices connect to: ${'deviceUrls' in ivc ? ivc.deviceUrls.join(' ') : ivc.url}`);
      console.log(
        `admin API:          ${ivc.httpUrl}/api/devices${adminToken ? ' (admin token required)' : ''}`,
      );
      console.log(`monitor page:       ${ivc.httpUrl}/?login_code=<code>`);
      if (ivc.rtmpUrl) console.log(`RTMP ingest:        ${ivc.rtmpUrl}`);
      // What the ingest received, played back (RTMP play on the ingest's own port, and HTTP-FLV).
      const { startEmbeddedPlayback } = await import('./run/platform.js');
      const playback = 'platform' in ivc ? await startEmbeddedPlayback(ivc) : null;
      if (playback?.playback.flvUrl)
        console.log(
          `HTTP-FLV playback:  ${playback.playback.flvUrl}/<stream>.flv (RTMP play: the ingest URL)`,
        );
      if (opts.apiUser) console.log(`user API:           ${ivc.httpUrl}/api/login (user ${opts.apiUser})`);
      console.log(
        `logins checked by:  ${checks.length > 0 ? checks.join(', ') : 'nothing (every login accepted)'}`,
      );
      console.log(
        `vendor quirks:      ${opts.strict ? 'counted as violations (--strict)' : 'counted apart from violations'}`,
      );
      const stop = () => void Promise.all([playback?.close(), ivc.close()]).then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

program
  .command('device')
  .description(
    'run N simulated devices (cameras or NVRs) against a platform URL, in this process; they push RTMP, upload cloud recordings and alarm pictures for real (--no-media: signalling only)',
  )
  .requiredOption(
    '--url <url>',
    "platform device endpoint, e.g. ws://127.0.0.1:8080/ivc; several (repeat it, or comma-separated) spread the devices as a run's target list does",
    wsUrlList,
  )
  .option('-n, --count <n>', 'number of devices', positiveInt('--count'), 1)
  .option('--channels <n>', 'channels per device: 1 = camera, more = NVR', positiveInt('--channels'), 1)
  .option(
    '--login-code <template>',
    'login code template: {index}, {index:05} (any Unicode)',
    'sim-{index:05}',
  )
  .option('--first-index <n>', 'index of the first device', positiveInt('--first-index'), 0)
  .option('--password-env <name>', 'device password from this environment variable (default IVT_PASSWORD)')
  .option('--password-file <file>', 'device password from this file')
  .addOption(
    new Option('--profile <profile>', 'behaviour profile').choices(['spec', 'vendor']).default('spec'),
  )
  .option(
    '--trait <name=on|off>',
    'switch one habit of the profile, e.g. --trait malformedClose=off (repeatable; see docs/device.md)',
    traitSetting,
  )
  .option('--hardware-model <name>', 'hardware_model sent at login', DEFAULT_HARDWARE_MODEL)
  .option('--firmware-model <name>', 'firmware_model sent at login', 'sim-1.0.0')
  .option('--source-address <addr...>', 'local addresses to spread sockets over (e.g. 127.0.0.2 127.0.0.3)')
  .option('--ca <file>', 'CA certificate (PEM) for a wss:// platform')
  .option('--insecure', 'accept any TLS certificate (wss:// test platforms)')
  .option(
    '--startup-jitter-ms <ms>',
    'spread first logins over this time',
    positiveInt('--startup-jitter-ms'),
    0,
  )
  .option(
    '--no-media',
    'signalling only: no RTMP push, recording or picture; RTMPPublish and StartCloudRecord answer error 101 (not supported)',
  )
  .option('--media-dir <dir>', 'rendition ladder to push and record (default: the bundled media/)')
  .option(
    '--alarm-rate <n>',
    'motion alarms per channel per minute (AlarmNotify, then the picture to pic_upload_url)',
    positiveInt('--alarm-rate'),
    0,
  )
  .option(
    '--max-message-bytes <bytes>',
    'largest platform message accepted; a larger one closes the connection (default 4 MiB)',
    positiveInt('--max-message-bytes'),
  )
  .option(
    '--firmware-max-bytes <bytes>',
    'largest firmware download (default 256 MiB; 4 × a declared Content-Length)',
    positiveInt('--firmware-max-bytes'),
  )
  .option(
    '--firmware-timeout-ms <ms>',
    'a firmware download must finish within this time (default 60000)',
    positiveInt('--firmware-timeout-ms'),
  )
  .action(async (opts: DeviceFlags) => {
    const { runDevices } = await import('./farm/fleet.js');
    const { CatalogueError } = await import('./media/catalogue.js');
    const password = readPassword(opts, 'IVT_PASSWORD');
    if (password === undefined) {
      throw new UserError(
        'no device password: set IVT_PASSWORD, or use --password-env NAME / --password-file FILE',
      );
    }
    const { url: urls, ...flags } = opts;
    await runDevices({ ...flags, urls, password, out: process.stderr }).catch((error: unknown) => {
      if (error instanceof CatalogueError) throw new UserError(`${error.message} (or run with --no-media)`);
      throw error;
    });
  });

program
  .command('agent')
  .description('join a controller (ivtfarm run --listen) and run the slice of the devices it hands out')
  .requiredOption('--controller <url>', 'the controller, e.g. ws://10.0.0.5:7000', (text: string) => {
    if (!/^wss?:\/\//.test(text))
      throw new InvalidArgumentError(`--controller must be a ws:// URL (got "${text}")`);
    return text;
  })
  .option(
    '--slice <i>',
    'ask for slice i (default: $JOB_COMPLETION_INDEX, else any free one)',
    positiveInt('--slice'),
  )
  .option('--workers <n>', 'worker threads (default: one per core)', positiveInt('--workers'))
  .option(
    '--token-env <name>',
    'the shared token from this environment variable (default IVTFARM_AGENT_TOKEN)',
  )
  .option('--token-file <file>', 'the shared token from this file')
  .option(
    '--connect-timeout <s>',
    'keep trying to reach the controller this long (default 60)',
    positiveInt('--connect-timeout'),
    60,
  )
  .addOption(new Option('--record-deltas <file>', 'append every delta sent, as JSON lines').hideHelp())
  .action(
    async (opts: {
      controller: string;
      slice?: number;
      workers?: number;
      tokenEnv?: string;
      tokenFile?: string;
      connectTimeout: number;
      recordDeltas?: string;
    }) => {
      const { readAgentToken, TokenError } = await import('./agent/token.js');
      const { runAgent, AgentError } = await import('./agent/agent.js');
      const { ProgressDisplay } = await import('./farm/progress.js');
      let token: string;
      try {
        token = readAgentToken(opts);
      } catch (error) {
        if (error instanceof TokenError) throw new UserError(error.message);
        throw error;
      }
      const fromJob = process.env.JOB_COMPLETION_INDEX;
      const slice = opts.slice ?? (fromJob !== undefined && /^\d+$/.test(fromJob) ? Number(fromJob) : null);
      // The controller decides when to stop; a signal here stops this agent's devices the same way.
      process.once('SIGTERM', () => process.exit(143));
      try {
        process.exitCode = await runAgent({
          controller: opts.controller,
          token,
          slice,
          workers: opts.workers ?? null,
          connectTimeoutMs: opts.connectTimeout * 1000,
          recordDeltas: opts.recordDeltas ?? null,
          progress: new ProgressDisplay(process.stderr, 5000, false),
        });
      } catch (error) {
        if (error instanceof AgentError) throw new UserError(error.message);
        throw error;
      }
    },
  );

program
  .command('media')
  .description('media renditions used for RTMP publishing and cloud recording')
  .command('build')
  .description('rebuild the rendition ladder (H.264 + AAC, FLV and MPEG-TS) with ffmpeg compiled to wasm')
  .option('-o, --out <dir>', 'output directory', 'media')
  .option('--ld <bitrate>', 'total bitrate of ld (default 256k)')
  .option('--sd <bitrate>', 'total bitrate of sd (default 512k)')
  .option('--hd <bitrate>', 'total bitrate of hd (default 2M)')
  .option('--fhd <bitrate>', 'total bitrate of fhd (default 4M)')
  .option(
    '--duration <seconds>',
    'seconds per rendition (a multiple of 8, default 8)',
    positiveInt('--duration'),
  )
  .action(async (opts: Record<string, string | number | undefined>) => {
    const { buildMediaCommand } = await import('./media/build-command.js');
    const dir = String(opts.out ?? 'media');
    await interruptible(`no manifest written to ${dir}`, (signal) =>
      buildMediaCommand(opts, process.stderr, signal),
    );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UserError) {
    console.error(`ivtfarm: ${error.message}`);
    process.exit(error.exitCode);
  }
  const e = error as NodeJS.ErrnoException;
  console.error(`ivtfarm: ${e.message ?? String(error)}`);
  if (process.env.IVTFARM_DEBUG) console.error(e.stack);
  process.exit(1);
});

/** `ivtfarm ivc --processes N`: the platform's processes; one that cannot be restarted ends the command. */
async function startPlatformProcesses(options: IvcOptions, processes: number) {
  const { startIvcCluster } = await import('./ivc/cluster.js');
  const cluster = await startIvcCluster(options, processes).catch((error: Error) => {
    throw new UserError(error.message);
  });
  void cluster.failed.then(async (why) => {
    console.error(`ivtfarm ivc: ${why}; stopping the platform`);
    await cluster.close();
    process.exit(1);
  });
  return cluster;
}
