import test from 'ava';
import { PLAN_VERSION } from '../../src/plan/plan.ts';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, sensei, tempDir } from './run-cli.ts';

const quickstart = await readFile(join(ROOT, 'pipelines/quickstart.sensei'), 'utf8');
/** The quickstart with one misspelt field. */
const misspelt = quickstart.replace('amount > 0', 'amout > 0');
const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const COMMANDS = ['check', 'compile', 'graph', 'fmt', 'debug', 'run', 'test'];

test('--help works on the program and on every command', async (t) => {
  const top = await sensei(['--help']);
  t.is(top.code, 0);
  for (const command of COMMANDS) t.regex(top.stdout, new RegExp(`^  ${command} `, 'm'));
  const helps = await Promise.all(COMMANDS.map((command) => sensei([command, '--help'])));
  COMMANDS.forEach((command, i) => {
    t.is(helps[i]!.code, 0, command);
    t.true(helps[i]!.stdout.startsWith(`Usage: sensei ${command} `), command);
  });
  const viaHelpCommand = await sensei(['help', 'graph']);
  t.is(viaHelpCommand.code, 0);
  t.true(viaHelpCommand.stdout.includes('--format <format>'));
});

test('--version prints the package version', async (t) => {
  const r = await sensei(['--version']);
  t.is(r.code, 0);
  t.is(r.stdout.trim(), version);
});

test('usage errors exit 2 with a message on stderr', async (t) => {
  const cases: [string[], string][] = [
    [[], 'Usage: sensei'],
    [['nope'], "unknown command 'nope'"],
    [['check', '--bogus', 'x.sensei'], "unknown option '--bogus'"],
    [['check'], "missing required argument 'files'"],
    [['compile', 'x.sensei'], "required option '-o, --out-dir <dir>' not specified"],
    [['graph', 'x.sensei', '--format', 'png'], 'Allowed choices are dot, mermaid, svg'],
    [['debug', 'bytecode', 'x.sensei'], 'Allowed choices are tokens, ast, resolved, typed, plan, code'],
    [['run', 'x.sensei', '--workers', '0'], 'expected a positive integer or "auto"'],
    [['run', 'x.sensei', '--pg-connections', 'many'], "option '--pg-connections <n>' argument 'many' is invalid. expected a positive integer."],
    [['fmt', '--check', '--write', 'x.sensei'], "option '--check' cannot be used with option '--write'"],
  ];
  const results = await Promise.all(cases.map(([args]) => sensei(args)));
  cases.forEach(([args, message], i) => {
    t.is(results[i]!.code, 2, args.join(' '));
    t.true(results[i]!.stderr.includes(message), `${args.join(' ')}: ${results[i]!.stderr}`);
  });
});

test('a missing input file is a usage error', async (t) => {
  const dir = await tempDir();
  const commands = [['check', 'nope.sensei'], ['compile', 'nope.sensei', '-o', 'out'], ['fmt', 'nope.sensei'], ['debug', 'ast', 'nope.sensei'], ['run', 'nope.sensei']];
  const results = await Promise.all(commands.map((args) => sensei(args, { cwd: dir })));
  commands.forEach((args, i) => {
    t.is(results[i]!.code, 2, args.join(' '));
    t.is(results[i]!.stderr, 'error: file not found: nope.sensei\n', args.join(' '));
  });
  const asDirectory = await sensei(['check', '.'], { cwd: dir });
  t.is(asDirectory.code, 2);
  t.is(asDirectory.stderr, 'error: not a file: .\n');
});

test('check exits 0 on a valid pipeline', async (t) => {
  const r = await sensei(['check', 'pipelines/quickstart.sensei']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.notRegex(r.stdout, /^error/m);
});

test('check renders errors with location, excerpt and caret, and exits 1', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt });
  const r = await sensei(['check', 'bad.sensei'], { cwd: dir });
  t.is(r.code, 1);
  const line = misspelt.split('\n').findIndex((l) => l.includes('amout')) + 1;
  const column = misspelt.split('\n')[line - 1]!.indexOf('amout') + 1;
  t.true(r.stdout.includes('error[unknown-field]:'), r.stdout);
  t.true(r.stdout.includes(`--> bad.sensei:${line}:${column}\n`), r.stdout);
  t.true(r.stdout.includes(`${' '.repeat(column - 1)}^^^^^\n`), r.stdout);
  t.regex(r.stdout, /\n1 error(, \d+ warnings?)?\n$/);
  t.false(r.stdout.includes('\x1b['), 'no colors on a pipe');
});

test('check exits 1 when an imported file has errors, showing them and the import', async (t) => {
  const dir = await tempDir({
    'main.sensei': 'pipeline main\nimport "lib.sensei"\nstream ok = orders | where amount > 1\nsink ok to stdout\n',
    'lib.sensei': 'pipeline lib\nschema Order { id: string, amount: int }\nsource orders: Order from datagen { count: 1 }\nstream bad = orders | where amount + "x" > 1\n',
  });
  const r = await sensei(['check', 'main.sensei'], { cwd: dir });
  t.is(r.code, 1, r.stdout);
  t.true(r.stdout.includes('error[type-mismatch]: cannot apply `+` to int and string\n --> lib.sensei:4:29\n'), r.stdout);
  t.true(r.stdout.includes('error[import-error]: lib.sensei has an error\n --> main.sensei:2:1\n'), r.stdout);
});

test('check --color forces ANSI colors', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt });
  const r = await sensei(['--color', 'check', 'bad.sensei'], { cwd: dir });
  t.is(r.code, 1);
  t.true(r.stdout.includes('\x1b[1;31merror[unknown-field]'));
  const off = await sensei(['check', 'bad.sensei', '--no-color'], { cwd: dir, env: { FORCE_COLOR: '1' } });
  t.false(off.stdout.includes('\x1b['));
});

test('check --format json has the stable shape', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt, 'good.sensei': quickstart });
  const r = await sensei(['check', '--format', 'json', 'good.sensei', 'bad.sensei'], { cwd: dir });
  t.is(r.code, 1);
  const json = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[]; errors: number; warnings: number };
  t.is(json.errors, 1);
  const error = json.diagnostics.find((d) => d.severity === 'error')!;
  t.deepEqual(Object.keys(error).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'hints', 'line', 'message', 'severity']);
  t.is(error.code, 'unknown-field');
  t.is(error.file, 'bad.sensei');
  t.is((error.endColumn as number) - (error.column as number), 'amout'.length);
  t.true(Array.isArray(error.hints));
});

test('compile writes the versioned plan and a schema per stream and sink', async (t) => {
  const dir = await tempDir({ 'quickstart.sensei': quickstart });
  const r = await sensei(['compile', 'quickstart.sensei', '-o', 'out'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const plan = JSON.parse(await readFile(join(dir, 'out/plan.json'), 'utf8')) as { version: number; pipeline: string; chains: unknown[] };
  t.is(plan.version, PLAN_VERSION);
  t.is(plan.pipeline, 'quickstart');
  t.true(plan.chains.length > 0);
  const schemas = await readdir(join(dir, 'out/schemas'));
  t.true(schemas.length >= 2, schemas.join(', '));
  t.true(schemas.includes('paid.avsc'), schemas.join(', '));
  for (const name of schemas) {
    t.regex(name, /^[A-Za-z0-9_.-]+\.avsc$/);
    const schema = JSON.parse(await readFile(join(dir, 'out/schemas', name), 'utf8')) as { type: string };
    t.is(schema.type, 'record');
  }
});

test('compile with errors writes nothing and exits 1', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt });
  const r = await sensei(['compile', 'bad.sensei', '-o', 'out'], { cwd: dir });
  t.is(r.code, 1);
  t.true(r.stderr.includes('error[unknown-field]'));
  t.false(existsSync(join(dir, 'out')));
});

test('graph prints dot, mermaid and svg, or writes to a file', async (t) => {
  const dot = await sensei(['graph', 'pipelines/quickstart.sensei']);
  t.is(dot.code, 0, dot.stderr);
  t.true(dot.stdout.startsWith('digraph "quickstart" {'));
  t.true(dot.stdout.includes('->'));
  const mermaid = await sensei(['graph', 'pipelines/quickstart.sensei', '--format', 'mermaid']);
  t.is(mermaid.code, 0);
  t.true(mermaid.stdout.startsWith('flowchart LR\n'));
  t.true(mermaid.stdout.includes('-->'));
  const dir = await tempDir();
  const svg = await sensei(['graph', join(ROOT, 'pipelines/quickstart.sensei'), '--format', 'svg', '-o', 'g.svg'], { cwd: dir });
  t.is(svg.code, 0, svg.stderr);
  t.is(svg.stdout, '');
  const text = await readFile(join(dir, 'g.svg'), 'utf8');
  t.regex(text, /<svg[\s>]/);
  t.true(text.trimEnd().endsWith('</svg>'));
});

test('fmt prints, checks and writes formatted text', async (t) => {
  const messy = 'pipeline   messy\nschema A {  id:string }\n';
  const dir = await tempDir({ 'messy.sensei': messy });
  const printed = await sensei(['fmt', 'messy.sensei'], { cwd: dir });
  t.is(printed.code, 0, printed.stderr);
  t.not(printed.stdout, messy);
  t.true(printed.stdout.includes('pipeline messy'));

  const checked = await sensei(['fmt', '--check', 'messy.sensei'], { cwd: dir });
  t.is(checked.code, 1);
  t.is(checked.stdout, 'messy.sensei\n');
  t.true(checked.stderr.includes('1 file needs formatting'));
  t.is(await readFile(join(dir, 'messy.sensei'), 'utf8'), messy, '--check never writes');

  const written = await sensei(['fmt', '--write', 'messy.sensei'], { cwd: dir });
  t.is(written.code, 0);
  t.is(await readFile(join(dir, 'messy.sensei'), 'utf8'), printed.stdout);
  const again = await sensei(['fmt', '--check', 'messy.sensei'], { cwd: dir });
  t.is(again.code, 0);
  t.is(again.stdout, '');
});

test('fmt refuses a file with syntax errors', async (t) => {
  const dir = await tempDir({ 'broken.sensei': 'pipeline p\nstream = |\n' });
  const r = await sensei(['fmt', '--write', 'broken.sensei'], { cwd: dir });
  t.is(r.code, 1);
  t.regex(r.stderr, /error\[(parse|lex)-error\]/);
  t.is(await readFile(join(dir, 'broken.sensei'), 'utf8'), 'pipeline p\nstream = |\n');
});

test('debug dumps every stage', async (t) => {
  const file = 'pipelines/quickstart.sensei';
  const tokens = await sensei(['debug', 'tokens', file]);
  t.is(tokens.code, 0, tokens.stderr);
  const list = (JSON.parse(tokens.stdout) as { type: string; image: string }[]).filter((tk) => !tk.type.includes('Comment'));
  t.deepEqual(list.slice(0, 2).map((tk) => tk.image), ['pipeline', 'quickstart']);

  const ast = JSON.parse((await sensei(['debug', 'ast', file])).stdout) as { declarations: unknown[] };
  t.true(ast.declarations.length >= 4);
  for (const stage of ['resolved', 'typed', 'plan']) {
    const r = await sensei(['debug', stage, file]);
    t.is(r.code, 0, `${stage}: ${r.stderr}`);
    t.notThrows(() => JSON.parse(r.stdout), stage);
  }
  const typed = JSON.parse((await sensei(['debug', 'typed', file])).stdout) as { pipeline: string };
  t.is(typed.pipeline, 'quickstart');
  const code = await sensei(['debug', 'code', file]);
  t.is(code.code, 0);
  t.true(code.stdout.startsWith('// chain source:orders -> '));
  t.true(code.stdout.includes('function chain(lib) {'));
});

test('debug exits 1 on errors, dumping what the stages produced', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt });
  const r = await sensei(['debug', 'plan', 'bad.sensei'], { cwd: dir });
  t.is(r.code, 1);
  t.true(r.stderr.includes('error[unknown-field]'));
  t.true(r.stderr.includes('no plan output'));
  const typed = await sensei(['debug', 'resolved', 'bad.sensei'], { cwd: dir });
  t.is(typed.code, 1, 'the resolved program exists, the type error still fails the command');
  t.notThrows(() => JSON.parse(typed.stdout));
  const broken = await tempDir({ 'broken.sensei': 'pipeline p\nstream = |\n' });
  const ast = await sensei(['debug', 'ast', 'broken.sensei'], { cwd: broken });
  t.is(ast.code, 1);
  t.is((JSON.parse(ast.stdout) as { file: string }).file, 'broken.sensei', 'the recovered AST is still dumped');
  t.true(ast.stderr.includes('error[parse-error]'));
});

test('run executes the quickstart to completion', async (t) => {
  const r = await sensei(['run', 'pipelines/quickstart.sensei', '--workers', '2']);
  t.is(r.code, 0, r.stderr);
  const records = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.true(records.length > 0);
  for (const record of records) t.deepEqual(Object.keys(record).sort(), ['amount_cents', 'country', 'customer_id', 'order_id', 'placed_at']);
  t.regex(r.stderr, new RegExp(`^quickstart: done in [0-9.]+s: 20 records in, ${records.length} out, 0 dead letters`, 'm'));
  t.true(r.stderr.includes('workers: 2 → 2'));
  t.false(r.stderr.includes('\r'), 'no live status when stderr is not a terminal');
});

test('run --format json prints the summary as JSON and --metrics-json writes the metrics file', async (t) => {
  const dir = await tempDir();
  const r = await sensei(['run', join(ROOT, 'pipelines/quickstart.sensei'), '--format', 'json', '--metrics-json', 'metrics.json'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stderr) as { pipeline: string; recordsIn: number; recordsOut: number };
  t.is(summary.pipeline, 'quickstart');
  t.is(summary.recordsIn, 20);
  t.is(summary.recordsOut, r.stdout.trimEnd().split('\n').length);
  const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as { summary: { recordsIn: number } };
  t.is(metrics.summary.recordsIn, 20);
});

test('run of a pipeline with errors does not start it', async (t) => {
  const dir = await tempDir({ 'bad.sensei': misspelt });
  const r = await sensei(['run', 'bad.sensei'], { cwd: dir });
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.true(r.stderr.includes('error[unknown-field]'));
});

const failingTests = `cases:
  - name: expects the wrong amount
    input:
      orders:
        - { id: o1, customer_id: c1, status: PAID, amount: 12.5, country: de, created_at: "2024-05-01T10:00:00Z" }
    expect:
      paid:
        - { order_id: o1, customer_id: c1, amount_cents: 999, country: DE, placed_at: "2024-05-01T10:00:00.000Z" }
  - name: drops pending orders
    input:
      orders:
        - { id: o2, customer_id: c2, status: PENDING, amount: 3, country: FR, created_at: "2024-05-01T10:00:01Z" }
    expect:
      paid: []
`;

test('test runs the test file beside each pipeline', async (t) => {
  const r = await sensei(['test', 'pipelines/quickstart.sensei']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(r.stdout.startsWith('pipelines/quickstart.test.yaml (pipeline quickstart)\n'));
  t.regex(r.stdout, /^ {2}✔ /m);
  t.regex(r.stdout, /\n\d+ passed, 0 failed \(1 test file\)\n$/);
});

test('test finds test files in a directory and reports failures with a diff', async (t) => {
  const dir = await tempDir({ 'shop.sensei': quickstart, 'shop.test.yaml': failingTests, 'lonely.test.yaml': 'cases: []\n' });
  const r = await sensei(['test'], { cwd: dir });
  t.is(r.code, 1);
  t.true(r.stdout.includes('  ✘ expects the wrong amount\n'));
  t.true(r.stdout.includes('  ✔ drops pending orders\n'));
  t.regex(r.stdout, /^ +- \{"order_id":"o1",.*"amount_cents":999/m);
  t.regex(r.stdout, /^ +\+ \{"order_id":"o1",.*"amount_cents":1250/m);
  t.true(r.stdout.endsWith('1 passed, 1 failed (1 test file)\n'), 'lonely.test.yaml has no pipeline and is skipped');
});

test('test reports malformed test files and missing tests', async (t) => {
  const dir = await tempDir({ 'shop.sensei': quickstart, 'shop.test.yaml': 'cases: nope\n', 'other.sensei': quickstart });
  const broken = await sensei(['test', 'shop.test.yaml'], { cwd: dir });
  t.is(broken.code, 1);
  t.true(broken.stderr.includes('error: shop.test.yaml: the file must have a `cases:` list'), broken.stderr);
  const none = await sensei(['test', 'other.sensei'], { cwd: dir });
  t.is(none.code, 1);
  t.true(none.stderr.includes('no tests for other.sensei (no other.test.yaml)'));
  const missing = await sensei(['test', 'gone.sensei'], { cwd: dir });
  t.is(missing.code, 2);
  t.is(missing.stderr, 'error: file not found: gone.sensei\n');
});
