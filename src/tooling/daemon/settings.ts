/**
 * Every setting of `sensei-run`, declared once: type, default, documentation
 * and the environment variable that overrides it. This one table drives
 * config validation (config.ts), the JSON Schema (docs/sensei-run.schema.json)
 * and the reference table in docs/sensei-run.md, so they cannot drift apart.
 */

interface Common {
  doc: string;
  /** Environment variable that overrides the file. */
  env?: string;
}

export type Setting =
  | { type: 'group'; doc: string; settings: Readonly<Record<string, Setting>> }
  | (Common & { type: 'string'; default?: string; values?: readonly string[] })
  | (Common & { type: 'int'; default?: number; min?: number; max?: number })
  | (Common & { type: 'number'; default?: number; min?: number; max?: number })
  | (Common & { type: 'boolean'; default?: boolean })
  /** Text like `30s`, `500ms`, `5m`, or a number of milliseconds; read as milliseconds. */
  | (Common & { type: 'duration'; default?: string })
  /** A list of strings; from the environment, comma-separated. */
  | (Common & { type: 'list'; default?: readonly string[] });

export type Leaf = Exclude<Setting, { type: 'group' }>;

const group = (doc: string, settings: Record<string, Setting>): Setting => ({ type: 'group', doc, settings });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export const SETTINGS: Readonly<Record<string, Setting>> = {
  pipelines: {
    type: 'list',
    doc: 'Pipeline files (`.sensei`) or directories of them, relative to the config file. Command-line arguments are added to these.',
    env: 'SENSEI_PIPELINES',
    default: [],
  },
  instanceId: {
    type: 'string',
    doc: 'Name of this process in logs, `/status` and Kafka transactional ids (default: the host name, which is the pod name on Kubernetes).',
    env: 'SENSEI_INSTANCE_ID',
  },
  kafka: group('Defaults for the Kafka connector; options written in a pipeline win.', {
    brokers: { type: 'list', doc: 'Bootstrap servers, `host:port`.', env: 'SENSEI_KAFKA_BROKERS' },
  }),
  schemaRegistry: group('The Confluent-compatible Schema Registry (basic auth from `SENSEI_SCHEMA_REGISTRY_USERNAME`/`_PASSWORD`).', {
    url: { type: 'string', doc: 'Registry URL; a pipeline\'s `registry` option wins.', env: 'SENSEI_SCHEMA_REGISTRY_URL' },
  }),
  workers: group('The worker-thread pool of each pipeline. With `min` = `max` the pool has a fixed size; otherwise the autoscaler moves it between them.', {
    min: { type: 'int', doc: 'Fewest worker threads per pipeline.', env: 'SENSEI_WORKERS_MIN', default: 2, min: 1 },
    max: { type: 'int', doc: 'Most worker threads per pipeline (never more than its partitions or the CPU budget).', env: 'SENSEI_WORKERS_MAX', default: 128, min: 1 },
    cpuBudget: {
      type: 'int',
      doc: 'Threads the machine can give a pool (default: the CPUs Node.js sees, which ignores container CPU limits: set it to the pod\'s CPU limit).',
      env: 'SENSEI_CPU_BUDGET',
      min: 1,
    },
  }),
  autoscaler: group('The in-process autoscaler (see docs/sensei-run.md for how it shares the work with the pod autoscaler).', {
    interval: { type: 'duration', doc: 'How often it decides.', default: '5s' },
    targetWindow: { type: 'duration', doc: 'The backlog should drain within this window.', default: '30s' },
    targetUtilization: { type: 'number', doc: 'Utilization the pool is sized for.', default: 0.7, min: 0.05, max: 1 },
    minUtilizationToScaleUp: { type: 'number', doc: 'Below this utilization more threads would not help (the bottleneck is elsewhere).', default: 0.5, min: 0, max: 1 },
    lowUtilization: { type: 'number', doc: 'Utilization under which the pool is too large.', default: 0.2, min: 0, max: 1 },
    scaleUpStabilization: { type: 'duration', doc: 'How long the backlog must stay high before scaling up.', default: '15s' },
    scaleDownCooldown: { type: 'duration', doc: 'How long utilization must stay low before scaling down.', default: '5m' },
    stabilization: { type: 'duration', doc: 'No decision for this long after a change.', default: '30s' },
    maxStepUp: { type: 'int', doc: 'Most threads added by one decision.', default: 8, min: 1 },
    maxStepDown: { type: 'int', doc: 'Most threads removed by one decision.', default: 4, min: 1 },
  }),
  runtime: group('Batching and backpressure of each pipeline.', {
    batchSize: { type: 'int', doc: 'Largest batch read from a partition.', default: 1000, min: 1 },
    maxInflightPerPartition: { type: 'int', doc: 'Unacknowledged batches per partition.', default: 4, min: 1 },
    maxInflightPerWorker: { type: 'int', doc: 'Unanswered batches per worker.', default: 16, min: 1 },
    maxBufferedRecords: { type: 'int', doc: 'Records read and not yet acknowledged, over all partitions of a pipeline.', default: 200_000, min: 1 },
    workerMemory: {
      type: 'int',
      doc: 'Heap limit of each worker thread, MB: stateful operators keep their state there. A worker past it stops the pipeline with an error naming this key, instead of the process running out of memory.',
      env: 'SENSEI_WORKER_MEMORY_MB',
      default: 2048,
      min: 64,
    },
    stateDir: {
      type: 'string',
      doc: 'Directory of the local stores of stateful pipelines (one subdirectory each), kept across restarts so that state need not be read back from the changelog; unset: each run keeps its own, removed at its end.',
      env: 'SENSEI_STATE_DIR',
    },
    statusInterval: { type: 'duration', doc: 'How often status and metrics are refreshed.', default: '1s' },
  }),
  postgres: group('PostgreSQL connections: one budget per process, shared by the sinks and every worker\'s lookups of all its pipelines (shares in `/status`).', {
    connections: {
      type: 'int',
      doc:
        'The process\'s budget. Each sink gets at least one connection and each lookup one in every worker the pool may grow to; the rest goes round ' +
        'them, one at a time, up to their `pool_size`. A pipeline whose minimum does not fit fails to start, naming this setting.',
      env: 'SENSEI_PG_CONNECTIONS',
      default: 10,
      min: 1,
    },
    serverConnections: {
      type: 'int',
      doc: 'Connections the server (or PgBouncer\'s `max_client_conn`) allows all sensei-run processes together; when set, sensei-run refuses to start if `processes` × `connections` exceeds it.',
      env: 'SENSEI_PG_SERVER_CONNECTIONS',
      min: 1,
    },
    processes: {
      type: 'int',
      doc: 'The most sensei-run processes connecting at once (the HorizontalPodAutoscaler\'s `maxReplicas`), for the check against `serverConnections`.',
      env: 'SENSEI_PG_PROCESSES',
      default: 1,
      min: 1,
    },
  }),
  admin: group('The HTTP admin server: `/healthz`, `/readyz`, `/metrics`, `/status`, `POST /pipelines/NAME/stop|start`.', {
    host: { type: 'string', doc: 'Address to bind; `0.0.0.0` to be reachable from outside (Kubernetes probes, Prometheus).', env: 'SENSEI_ADMIN_HOST', default: '127.0.0.1' },
    port: { type: 'int', doc: 'Port; 0 picks a free one (logged in the `admin-listening` event).', env: 'SENSEI_ADMIN_PORT', default: 9464, min: 0, max: 65535 },
    control: {
      type: 'boolean',
      doc:
        'Accept `POST /pipelines/NAME/stop|start`. When `SENSEI_ADMIN_TOKEN` is set, these need `Authorization: Bearer <token>`; ' +
        'without a token, control is allowed only on a loopback `host` (sensei-run refuses to start otherwise).',
      env: 'SENSEI_ADMIN_CONTROL',
      default: true,
    },
  }),
  watch: group('Live reload: pipeline files (and the files they import) are re-read, and a changed pipeline is drained and replaced.', {
    enabled: { type: 'boolean', doc: 'Watch the pipeline files.', env: 'SENSEI_WATCH', default: true },
    interval: { type: 'duration', doc: 'How often the files are checked (polling also sees Kubernetes ConfigMap updates, which swap symlinks).', default: '2s' },
  }),
  shutdown: group('Graceful shutdown on SIGTERM/SIGINT.', {
    deadline: {
      type: 'duration',
      doc: 'Time to drain, flush, commit and leave the group; past it the process exits with status 1. Keep it below the pod\'s `terminationGracePeriodSeconds`.',
      env: 'SENSEI_SHUTDOWN_DEADLINE',
      default: '30s',
    },
  }),
  restart: group('A pipeline that fails is restarted with exponential backoff.', {
    initialBackoff: { type: 'duration', doc: 'Wait before the first restart.', default: '1s' },
    maxBackoff: { type: 'duration', doc: 'Longest wait between restarts.', default: '1m' },
  }),
  log: group('Structured JSON logs on stdout.', {
    level: { type: 'string', doc: 'Least severe level written.', env: 'SENSEI_LOG_LEVEL', default: 'info', values: LOG_LEVELS },
  }),
  secrets: group('Secrets never come from the config file: only from environment variables, `<VAR>_FILE` files, or this directory.', {
    dir: {
      type: 'string',
      doc: 'Directory of files named after secret variables (e.g. a mounted Kubernetes Secret with a key `SENSEI_KAFKA_PASSWORD`); relative to the config file.',
      env: 'SENSEI_SECRETS_DIR',
    },
  }),
};

/** The validated configuration, durations in milliseconds, paths absolute. */
export interface DaemonConfig {
  pipelines: string[];
  instanceId: string | undefined;
  kafka: { brokers: string[] | undefined };
  schemaRegistry: { url: string | undefined };
  workers: { min: number; max: number; cpuBudget: number | undefined };
  autoscaler: {
    interval: number;
    targetWindow: number;
    targetUtilization: number;
    minUtilizationToScaleUp: number;
    lowUtilization: number;
    scaleUpStabilization: number;
    scaleDownCooldown: number;
    stabilization: number;
    maxStepUp: number;
    maxStepDown: number;
  };
  runtime: {
    batchSize: number;
    maxInflightPerPartition: number;
    maxInflightPerWorker: number;
    maxBufferedRecords: number;
    workerMemory: number;
    stateDir: string | undefined;
    statusInterval: number;
  };
  postgres: { connections: number; serverConnections: number | undefined; processes: number };
  admin: { host: string; port: number; control: boolean };
  watch: { enabled: boolean; interval: number };
  shutdown: { deadline: number };
  restart: { initialBackoff: number; maxBackoff: number };
  log: { level: (typeof LOG_LEVELS)[number] };
  secrets: { dir: string | undefined };
}

/** Every leaf setting with its dotted path, in declaration order. */
export function leafSettings(settings: Readonly<Record<string, Setting>> = SETTINGS, prefix = ''): { path: string; setting: Leaf }[] {
  return Object.entries(settings).flatMap(([name, s]) =>
    s.type === 'group' ? leafSettings(s.settings, `${prefix}${name}.`) : [{ path: `${prefix}${name}`, setting: s }],
  );
}

/**
 * Environment variables holding secrets. They are read where they are used
 * (the Kafka, PostgreSQL and Redis connectors, the registry client, the
 * admin server), may be given as files (`<VAR>_FILE` or `secrets.dir`), and
 * their values are scrubbed from every log line. Connection URLs count: they
 * may carry a password.
 */
export const SECRET_VARIABLES = [
  'SENSEI_KAFKA_USERNAME',
  'SENSEI_KAFKA_PASSWORD',
  'SENSEI_KAFKA_SSL_KEY_PASSWORD',
  'SENSEI_SCHEMA_REGISTRY_USERNAME',
  'SENSEI_SCHEMA_REGISTRY_PASSWORD',
  'SENSEI_ADMIN_TOKEN',
  'SENSEI_PG_URL',
  'SENSEI_PGBOUNCER_URL',
  'PGPASSWORD',
  'SENSEI_REDIS_URL',
] as const;

/** Where a secret that someone put into the config file belongs instead. */
export const SECRET_KEYS: Readonly<Record<string, string>> = {
  'kafka.username': 'SENSEI_KAFKA_USERNAME',
  'kafka.password': 'SENSEI_KAFKA_PASSWORD',
  'kafka.sslKeyPassword': 'SENSEI_KAFKA_SSL_KEY_PASSWORD',
  'schemaRegistry.username': 'SENSEI_SCHEMA_REGISTRY_USERNAME',
  'schemaRegistry.password': 'SENSEI_SCHEMA_REGISTRY_PASSWORD',
  'admin.token': 'SENSEI_ADMIN_TOKEN',
};
