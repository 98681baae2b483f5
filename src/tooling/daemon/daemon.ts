/**
 * The daemon proper: compile the pipelines, serve the admin endpoints, run
 * the pipelines, watch their files, and drain everything on SIGTERM/SIGINT
 * within the shutdown deadline; a second signal exits at once.
 */
import { hostname } from 'node:os';
import { prometheusContentType } from 'prom-client';
import { builtinEnvironment } from '../../../connectors/registry.ts';
import type { Plan } from '../../plan/plan.ts';
import { AdminServer } from './admin.ts';
import { Assignments } from './assignments.ts';
import { createLogger, type Logger } from './log.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { PipelineManager } from './manager.ts';
import { DaemonMetrics } from './metrics.ts';
import { Scrubber } from './secrets.ts';
import type { DaemonConfig } from './settings.ts';

export interface DaemonOptions {
  config: DaemonConfig;
  /** Names of the secret variables that are set. */
  secrets: string[];
  /** Absolute pipeline files and directories. */
  paths: string[];
  /** Validate and compile only. */
  check: boolean;
  version: string;
}

/** Resolves to the exit code once the daemon has stopped (or the check is done). */
export async function runDaemon({ config, secrets, paths, check, version }: DaemonOptions): Promise<number> {
  const env = process.env;
  const out = (t: string) => void process.stdout.write(t);
  const err = (t: string) => void process.stderr.write(t);
  connectorDefaults(config, env);

  const scrubber = new Scrubber(env, secrets);
  const instance = config.instanceId ?? hostname();
  // --check talks to a person: diagnostics and one line of text, no JSON log.
  const log = createLogger(check ? 'silent' : config.log.level, instance, scrubber);
  const metrics = new DaemonMetrics();
  const manager = new PipelineManager(config, builtinEnvironment(), log, metrics, new Assignments(log, metrics));

  log.info({ event: 'starting', version, pid: process.pid, config: { ...config, pipelines: paths }, secrets }, 'sensei-run starting');
  let loaded: Awaited<ReturnType<typeof manager.load>>;
  try {
    loaded = await manager.load(paths);
  } catch (e) {
    err(scrubber.scrub(`sensei-run: ${(e as Error).message}\n`));
    return EXIT_USAGE;
  }
  if (!loaded.ok) {
    err(scrubber.scrub(loaded.report));
    log.error({ event: 'compile-failed' }, 'pipelines do not compile; not starting');
    return EXIT_FAILURE;
  }
  log.info({ event: 'compiled', pipelines: loaded.names }, `compiled ${loaded.names.length} pipeline${loaded.names.length === 1 ? '' : 's'}`);
  if (check) {
    err(scrubber.scrub(loaded.warnings));
    out(`ok: configuration valid; ${loaded.names.length} pipeline${loaded.names.length === 1 ? '' : 's'}: ${loaded.names.join(', ') || 'none'}\n`);
    return EXIT_OK;
  }
  scrubber.watch(secretVariablesOf(manager.plans()));
  return serve(config, manager, metrics, log, scrubber, env, version);
}

/** Connection settings the connectors read from the environment, from the effective configuration. */
function connectorDefaults(config: DaemonConfig, env: NodeJS.ProcessEnv): void {
  if (config.kafka.brokers) env.SENSEI_KAFKA_BROKERS = config.kafka.brokers.join(',');
  if (config.schemaRegistry.url) env.SENSEI_SCHEMA_REGISTRY_URL = config.schemaRegistry.url;
  if (config.instanceId) env.SENSEI_INSTANCE_ID = config.instanceId;
}

/** Environment variables a pipeline names for its secrets (`sasl_password_env: "MY_PASSWORD"`). */
function secretVariablesOf(plans: Plan[]): string[] {
  const names = new Set<string>();
  for (const plan of plans) {
    for (const c of [...plan.sources, ...plan.sinks, ...(plan.deadLetter ? [plan.deadLetter] : [])]) {
      for (const [option, value] of Object.entries(c.options)) if (option.endsWith('_env') && typeof value === 'string') names.add(value);
    }
  }
  return [...names];
}

async function serve(config: DaemonConfig, manager: PipelineManager, metrics: DaemonMetrics, log: Logger, scrubber: Scrubber, env: NodeJS.ProcessEnv, version: string): Promise<number> {
  const started = new Date();
  let shuttingDown = false;
  const ready = () => {
    const r = manager.ready();
    metrics.ready.set(r.ready ? 1 : 0);
    return r;
  };
  const admin = new AdminServer(
    { host: config.admin.host, port: config.admin.port, control: config.admin.control, token: env.SENSEI_ADMIN_TOKEN },
    {
      ready,
      metrics: async () => {
        ready();
        return { contentType: prometheusContentType, body: await metrics.registry.metrics() };
      },
      status: () => ({
        instance: config.instanceId ?? hostname(),
        pid: process.pid,
        version,
        startedAt: started.toISOString(),
        uptimeSeconds: Math.round((Date.now() - started.getTime()) / 1000),
        shuttingDown,
        ...ready(),
        pipelines: manager.report(),
      }),
      control: async (name, action) => {
        if (!manager.has(name)) return 'unknown';
        log.info({ event: 'admin-control', pipeline: name, action }, `admin: ${action} ${name}`);
        await (action === 'stop' ? manager.stop(name) : manager.start(name));
        return 'ok';
      },
      scrub: (t) => scrubber.scrub(t),
    },
    (e, path) => log.error({ event: 'admin-error', path, error: e.message }, 'admin request failed'),
  );
  let address: Awaited<ReturnType<typeof admin.listen>>;
  try {
    address = await admin.listen();
  } catch (e) {
    log.fatal({ event: 'admin-failed', host: config.admin.host, port: config.admin.port, error: (e as Error).message }, 'cannot start the admin server');
    return EXIT_FAILURE;
  }
  log.info({ event: 'admin-listening', host: address.address, port: address.port }, `admin endpoints on http://${address.address}:${address.port}`);

  // A bug must not leave a half-working process behind: at-least-once makes a crash safe, a restart cures it.
  const crash = (e: unknown) => {
    log.fatal({ event: 'crash', error: e instanceof Error ? e.stack ?? e.message : String(e) }, 'unexpected error; exiting');
    process.exit(EXIT_FAILURE);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  // Signals are handled before anything starts: a SIGTERM during start-up drains what has started.
  let watch: NodeJS.Timeout | undefined;
  const stopped = new Promise<number>((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (shuttingDown) {
        log.warn({ event: 'forced-exit', signal }, `${signal} again: exiting without draining`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      shuttingDown = true;
      clearInterval(watch);
      log.info({ event: 'shutdown', signal, deadlineMs: config.shutdown.deadline }, `${signal}: draining pipelines (deadline ${config.shutdown.deadline} ms)`);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), config.shutdown.deadline)));
      void Promise.race([manager.shutdown().then(() => 'drained' as const), deadline]).then(async (outcome) => {
        clearTimeout(timer);
        await admin.close();
        if (outcome === 'late') {
          log.error({ event: 'exit', code: EXIT_FAILURE }, `pipelines did not drain within ${config.shutdown.deadline} ms`);
          done(EXIT_FAILURE);
        } else {
          log.info({ event: 'exit', code: EXIT_OK }, 'stopped cleanly');
          done(EXIT_OK);
        }
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });

  manager.startAll();
  if (config.watch.enabled) {
    watch = setInterval(() => void manager.poll().catch((e: Error) => log.error({ event: 'watch-error', error: e.message }, 'watching pipeline files failed')), config.watch.interval);
  }
  return stopped;
}
