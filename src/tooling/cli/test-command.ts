/**
 * `sensei test [FILE…]`: runs the unit tests of pipelines, each
 * `X.test.yaml` against the plan of the `X.sensei` beside it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatTestResult, runTests } from '../../../runtime/testing/testing.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './io.ts';
import type { Io, Output } from './io.ts';
import { compileToPlan } from './pipeline.ts';

const TEST_SUFFIX = '.test.yaml';
const PIPELINE_SUFFIX = '.sensei';

interface TestTarget {
  pipeline: string;
  tests: string;
}

export async function testCommand(paths: string[], io: Io): Promise<number> {
  const targets = await findTargets(paths.length > 0 ? paths : ['.'], io);
  if (targets.length === 0) {
    io.stderr.write(`error: no ${TEST_SUFFIX} files found beside ${PIPELINE_SUFFIX} files\n`);
    return EXIT_FAILURE;
  }
  let passed = 0;
  let failed = 0;
  let broken = 0;
  for (const target of targets) {
    const compiled = await compileToPlan(target.pipeline, io);
    if (!compiled) {
      io.stderr.write(`${target.tests}: not run, ${target.pipeline} does not compile\n`);
      broken++;
      continue;
    }
    try {
      const result = await runTests(compiled.plan, target.tests);
      io.stdout.write(colorMarks(formatTestResult(result), io.stdout) + '\n');
      for (const c of result.cases) c.passed ? passed++ : failed++;
    } catch (error) {
      // A malformed test file (TestFileError names the file and the field).
      io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      broken++;
    }
  }
  const files = `${targets.length} test file${targets.length === 1 ? '' : 's'}`;
  const brokenText = broken > 0 ? `, ${broken} file${broken === 1 ? '' : 's'} not run` : '';
  io.stdout.write(`${passed} passed, ${failed} failed${brokenText} (${files})\n`);
  return failed > 0 || broken > 0 ? EXIT_FAILURE : EXIT_OK;
}

/** Each argument is a pipeline, a test file or a directory to search; pipelines without tests are skipped. */
async function findTargets(paths: string[], io: Io): Promise<TestTarget[]> {
  const targets = new Map<string, TestTarget>();
  const add = (tests: string) => {
    const pipeline = tests.slice(0, -TEST_SUFFIX.length) + PIPELINE_SUFFIX;
    targets.set(tests, { pipeline, tests });
  };
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`file not found: ${path}`);
    if (info.isDirectory()) {
      for (const tests of await findTestFiles(path)) if (await isFile(tests.slice(0, -TEST_SUFFIX.length) + PIPELINE_SUFFIX)) add(tests);
    } else if (path.endsWith(TEST_SUFFIX)) {
      const pipeline = path.slice(0, -TEST_SUFFIX.length) + PIPELINE_SUFFIX;
      if (!(await isFile(pipeline))) throw new UsageError(`no pipeline for ${path} (expected ${pipeline})`);
      add(path);
    } else if (path.endsWith(PIPELINE_SUFFIX)) {
      const tests = path.slice(0, -PIPELINE_SUFFIX.length) + TEST_SUFFIX;
      if (await isFile(tests)) add(tests);
      else io.stderr.write(`no tests for ${path} (no ${tests})\n`);
    } else {
      throw new UsageError(`not a ${PIPELINE_SUFFIX} or ${TEST_SUFFIX} file: ${path}`);
    }
  }
  return [...targets.values()];
}

/** Test files under a directory, not descending into dependencies or hidden folders; sorted for a stable order. */
async function findTestFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) found.push(...(await findTestFiles(path)));
    else if (entry.isFile() && entry.name.endsWith(TEST_SUFFIX)) found.push(path);
  }
  return found.sort();
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

function colorMarks(text: string, out: Output): string {
  if (!out.color) return text;
  return text.replace(/^ {2}✔/gm, '  \x1b[32m✔\x1b[0m').replace(/^ {2}✘/gm, '  \x1b[31m✘\x1b[0m');
}
