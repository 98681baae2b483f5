/**
 * `sensei-run`: the long-lived process operators deploy. It loads the
 * configuration, compiles every pipeline (refusing to start on any error),
 * serves the admin endpoints, runs the pipelines, reloads changed pipeline
 * files, and on SIGTERM/SIGINT drains everything within the shutdown
 * deadline; a second signal exits at once.
 *
 * This module parses the command line and the configuration only; the
 * daemon itself (daemon.ts: compiler, runtime, connectors) is loaded after,
 * so `--help` and configuration errors answer quickly.
 *
 * Exit codes: 0 clean stop (or `--check` passed), 1 pipelines that do not
 * compile, a failed start or a shutdown past its deadline, 2 usage and
 * configuration errors (control endpoints reachable beyond loopback without
 * a token among them).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';
import { configJsonSchema } from './config-schema.ts';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { ConfigError, formatProblem, loadConfig } from './config.ts';
import { exposedControl } from './exposure.ts';
import { loadSecrets } from './secrets.ts';
import type { DaemonConfig } from './settings.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface CliOptions {
  config?: string;
  check?: boolean;
  printConfigSchema?: boolean;
}

/** Runs `sensei-run` and resolves to the exit code once it has stopped. */
export async function main(argv: string[]): Promise<number> {
  const out = (t: string) => void process.stdout.write(t);
  const err = (t: string) => void process.stderr.write(t);
  const program = new Command('sensei-run')
    .description('Run .sensei pipelines as a long-lived service: admin endpoints, metrics, live reload, graceful shutdown.')
    .argument('[paths...]', 'pipeline files, or directories of them (added to `pipelines` of the config)')
    .option('-c, --config <file>', 'configuration file (YAML or JSON; see docs/sensei-run.md)')
    .option('--check', 'validate the configuration and compile the pipelines, then exit')
    .option('--print-config-schema', 'print the JSON Schema of the configuration file')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.addHelpText(
    'after',
    '\nEnvironment variables override the config file (SENSEI_KAFKA_BROKERS, SENSEI_SCHEMA_REGISTRY_URL, SENSEI_WORKERS_MIN,\n' +
      'SENSEI_WORKERS_MAX, SENSEI_ADMIN_PORT, ...); secrets come only from the environment (SENSEI_KAFKA_PASSWORD, or\n' +
      'SENSEI_KAFKA_PASSWORD_FILE). Exit codes: 0 stopped cleanly, 1 pipeline errors or a failed stop, 2 usage or config errors.',
  );
  let paths: string[] = [];
  let opts: CliOptions = {};
  try {
    program.parse(argv, { from: 'user' });
    paths = program.args;
    opts = program.opts<CliOptions>();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw e;
  }
  if (opts.printConfigSchema) {
    out(JSON.stringify(configJsonSchema(), null, 2) + '\n');
    return EXIT_OK;
  }

  const env = process.env;
  let config: DaemonConfig;
  let secrets: string[];
  try {
    config = await loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), env });
    secrets = loadSecrets(env, config.secrets.dir);
    // After the secrets: the token may come from a file.
    const exposed = exposedControl(config.admin, env.SENSEI_ADMIN_TOKEN);
    if (exposed) throw new ConfigError([exposed]);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(maskUrlPasswords(`sensei-run: invalid configuration:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`));
    return EXIT_USAGE;
  }
  const allPaths = [...config.pipelines, ...paths.map((p) => resolve(p))];
  if (allPaths.length === 0) {
    err('sensei-run: no pipelines: name pipeline files or directories, or set `pipelines` in the config file\n');
    return EXIT_USAGE;
  }
  const { runDaemon } = await import('./daemon.ts');
  return runDaemon({ config, secrets, paths: allPaths, check: opts.check === true, version: VERSION });
}
