import type { Aggregator } from '../../metrics/aggregator.js';
import { type PrometheusOptions, renderPrometheus } from '../../metrics/prometheus.js';
import { type MetricsServer, startMetricsServer } from '../../metrics/prometheus-server.js';
import { ExitCode, RunRefused } from '../exit-codes.js';
import type { RunObserver } from '../observer.js';

/** `--metrics-port`: Prometheus text rendered from the aggregator on each scrape. */
export class PrometheusEndpoint implements RunObserver {
  private constructor(private readonly server: MetricsServer) {}

  /** Listens first, before anything else of the run starts: a taken port refuses the run (exit 2). */
  static async listen(
    port: number,
    aggregator: Aggregator,
    labels: Pick<PrometheusOptions, 'tags' | 'mix'> = {},
  ): Promise<PrometheusEndpoint> {
    try {
      return new PrometheusEndpoint(
        await startMetricsServer({
          port,
          host: '127.0.0.1',
          render: () => renderPrometheus(aggregator, labels),
        }),
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new RunRefused(
        code === 'EADDRINUSE'
          ? `--metrics-port ${port}: the port is already in use on 127.0.0.1; pick another (or 0 for any free port)`
          : `--metrics-port ${port}: cannot listen (${code ?? (error as Error).message})`,
        ExitCode.UsageError,
      );
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}/metrics`;
  }

  second(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
