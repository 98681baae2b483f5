/**
 * The `sensei` command. Each subcommand lives in its own module, imported
 * only when it runs, so `--help` and usage errors never load the compiler
 * or the runtime.
 *
 * Exit codes: 0 ok, 1 errors in the pipeline (diagnostics, failed checks,
 * tests or runs), 2 usage errors (bad flags, missing arguments or files).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, createIo } from './io.ts';
import type { Io } from './io.ts';
import { DEBUG_STAGES, GRAPH_FORMATS, OUTPUT_FORMATS } from './choices.ts';
import type { DebugStage, GraphFormat, OutputFormat } from './choices.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

function buildProgram(run: (command: (io: Io) => Promise<number>) => Promise<void>): Command {
  const program = new Command('sensei')
    .description('Compile, check and run .sensei stream-processing pipelines.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--color', 'force colored output')
    .option('--no-color', 'disable colored output (default: colors on a terminal)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.helpCommand('help [command]', 'show help for a command');
  program.addHelpText('after', '\nExit codes: 0 ok, 1 errors in a pipeline (diagnostics, failed tests or runs), 2 usage errors.');

  program
    .command('check')
    .description('type-check pipeline files and report diagnostics')
    .argument('<files...>', '.sensei files to check')
    .addOption(new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
    .option('--registry <url>', 'also check each Kafka sink schema against its Schema Registry subject (compatibility)')
    .option('--against <plan.json>', 'also check that each stateful operator can read the state the deployed plan (from `sensei compile`) keeps')
    .action((files: string[], opts: { format: OutputFormat; registry?: string; against?: string }) =>
      run(async (io) => (await import('./check.ts')).checkCommand(files, opts, io)),
    );

  program
    .command('compile')
    .description('compile a pipeline to DIR/plan.json and DIR/schemas/<name>.avsc')
    .argument('<file>', 'the .sensei file')
    .requiredOption('-o, --out-dir <dir>', 'directory to write the plan and schemas to')
    .action((file: string, opts: { outDir: string }) =>
      run(async (io) => (await import('./compile.ts')).compileCommand(file, opts, io)),
    );

  program
    .command('graph')
    .description("render a pipeline's dataflow graph")
    .argument('<file>', 'the .sensei file')
    .addOption(new Option('--format <format>', 'graph format').choices(GRAPH_FORMATS).default('dot'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((file: string, opts: { format: GraphFormat; output?: string }) =>
      run(async (io) => (await import('./graph.ts')).graphCommand(file, opts, io)),
    );

  program
    .command('fmt')
    .description('format pipeline files (prints the result unless --write or --check)')
    .argument('<files...>', '.sensei files to format')
    .addOption(new Option('--check', 'list unformatted files and exit 1 if there are any').conflicts('write'))
    .option('--write', 'rewrite the files in place')
    .action((files: string[], opts: { check?: boolean; write?: boolean }) =>
      run(async (io) => (await import('./fmt.ts')).fmtCommand(files, opts, io)),
    );

  program
    .command('debug')
    .description('dump the output of one compiler stage as JSON (code: the generated JavaScript)')
    .addArgument(new Argument('<stage>', 'the stage to dump').choices(DEBUG_STAGES))
    .argument('<file>', 'the .sensei file')
    .action((stage: DebugStage, file: string) =>
      run(async (io) => (await import('./debug.ts')).debugCommand(stage, file, io)),
    );

  program
    .command('run')
    .description('compile and run a pipeline')
    .argument('<file>', 'the .sensei file')
    .addOption(new Option('--workers <n>', 'worker threads: a number or "auto"').argParser(parseWorkers).default('auto'))
    .option('--metrics-json <path>', 'write the final metrics as JSON to this file')
    .addOption(new Option('--format <format>', 'format of the final summary').choices(OUTPUT_FORMATS).default('text'))
    .addOption(
      new Option('--pg-connections <n>', 'most PostgreSQL connections, shared by the sinks and every worker\'s lookups (each gets at least one; the rest goes round them up to their pool_size)')
        .env('SENSEI_PG_CONNECTIONS').argParser(parsePositive).default(10),
    )
    .option(
      '--from-start',
      'reprocess every record: sinks forget the source positions earlier runs stored (an exactly-once PostgreSQL sink ' +
        'skips the records it already holds), so those records are written again (appended twice, or upserted over). ' +
        'Kafka sources still start from their consumer group\'s committed offsets',
    )
    .addOption(new Option('--state-dir <dir>', 'keep the state of stateful operators here across runs (default: a directory of the run\'s own)').env('SENSEI_STATE_DIR'))
    .addOption(new Option('--worker-memory <mb>', 'heap limit of each worker thread, MB: past it the run stops with an error').env('SENSEI_WORKER_MEMORY_MB').argParser(parsePositive).default(2048))
    .action((file: string, opts: { workers: number | 'auto'; metricsJson?: string; format: OutputFormat; fromStart?: boolean; pgConnections: number; stateDir?: string; workerMemory: number }) =>
      run(async (io) => (await import('./run.ts')).runCommand(file, opts, io)),
    );

  program
    .command('test')
    .description('run pipeline unit tests (X.test.yaml beside X.sensei)')
    .argument('[files...]', '.sensei or .test.yaml files, or directories (default: the current directory)')
    .action((files: string[]) => run(async (io) => (await import('./test-command.ts')).testCommand(files, io)));

  program
    .command('lsp')
    .description('start the language server (for editors; speaks LSP over stdio)')
    .option('--stdio', 'talk over standard input and output (the default)')
    .allowUnknownOption() // editors may add --node-ipc or --socket=N, which the server reads itself
    .action(async () => {
      (await import('../lsp/server.ts')).startLanguageServer();
    });

  return program;
}

function parseWorkers(value: string): number | 'auto' {
  return value === 'auto' ? value : positiveInteger(value, 'expected a positive integer or "auto".');
}

function parsePositive(value: string): number {
  return positiveInteger(value, 'expected a positive integer.');
}

function positiveInteger(value: string, expected: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(expected);
  return n;
}

/** Runs the command line and resolves to the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(async (command) => {
    const io = createIo(program.opts<{ color?: boolean }>().color);
    exitCode = await command(io);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander reports its own usage errors before throwing.
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      return ok || (error.code === 'commander.help' && error.exitCode === 0) ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(maskUrlPasswords(`error: ${error.message}\n`));
      return EXIT_USAGE;
    }
    process.stderr.write(maskUrlPasswords(`error: ${error instanceof Error ? (process.env.SENSEI_DEBUG ? error.stack : error.message) : String(error)}\n`));
    return EXIT_FAILURE;
  }
}

function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
