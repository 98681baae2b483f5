// `sensei fmt` never changes what a file means: the formatted text of every pipeline, every
// fixture and generated programs checks with the same diagnostics and compiles to the same plan.
import test from 'ava';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import type { CompileResult } from '../../src/compile.ts';
import { hasErrors } from '../../src/diagnostics/diagnostic.ts';
import { formatText } from '../../src/format/format.ts';
import { printName } from '../../src/format/print-expr.ts';
import { textToAst } from '../../src/syntax/parse.ts';
import { compileFile } from '../../src/tooling/host/load.ts';

const root = resolve(import.meta.dirname, '../..');
const connectors = builtinConnectorSpecs();

function senseiFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.sensei'))
    .map((f) => join(dir, f))
    .sort();
}

/** What a compilation means, without positions (formatting moves text, so lines and columns change). */
function meaning(result: CompileResult): unknown {
  const diagnostics = result.diagnostics.map((d) => `${d.severity} ${d.code} ${relative(root, d.span.file)} ${d.message}`).sort();
  const plan = result.plan && {
    ...result.plan,
    graph: { ...result.plan.graph, nodes: result.plan.graph.nodes.map(({ location: _, ...node }) => node) },
  };
  return { needs: result.needs, diagnostics, plan, schemas: result.schemas };
}

/**
 * Compiles `entry` as it is and with every file it reads formatted; both must
 * mean the same. Returns the unformatted result.
 */
async function assertFormattingKeepsMeaning(entry: string, overlay: ReadonlyMap<string, string> = new Map()): Promise<CompileResult> {
  const original = await compileFile(entry, connectors, overlay);
  const formatted = new Map<string, string>();
  for (const [path, text] of original.files) {
    if (!path.endsWith('.sensei')) continue;
    const result = formatText(path, text);
    if (result.text === undefined) throw new Error(`${path} does not format:\n${result.diagnostics.map((d) => d.message).join('\n')}`);
    if (formatText(path, result.text).text !== result.text) throw new Error(`formatting ${path} is not idempotent`);
    formatted.set(path, result.text);
  }
  const again = await compileFile(entry, connectors, formatted);
  const before = meaning(original);
  const after = meaning(again);
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    throw new Error(`formatting changed what ${entry} means:\n${[...formatted.values()].join('\n---\n')}\n${JSON.stringify({ before, after }, null, 2)}`);
  }
  return original;
}

for (const file of [...senseiFiles('pipelines'), ...senseiFiles('test/fixtures')]) {
  test(`${file}: formatted, it checks and compiles the same, or fmt refuses it for its syntax errors`, async (t) => {
    const path = join(root, file);
    const text = readFileSync(path, 'utf8');
    const parsed = textToAst(path, text);
    if (hasErrors(parsed.diagnostics)) {
      t.is(formatText(path, text).text, undefined);
      return;
    }
    await t.notThrowsAsync(assertFormattingKeepsMeaning(path));
  });
}

test('a record with a field named doc after a field without one survives formatting', async (t) => {
  const text = 'pipeline p\nschema S { raw: bytes, doc: string, meta: record M { doc: string, raw: bytes doc "r", n: int } }\n' +
    'source s: S from datagen { count: 1 }\nsink s to stdout\n';
  const formatted = formatText('s.sensei', text).text!;
  t.regex(formatted, /\n {2}raw: bytes\n {2}doc: string\n/);
  const result = await assertFormattingKeepsMeaning('s.sensei', new Map([['s.sensei', text]]));
  t.deepEqual(result.diagnostics, []);
  t.deepEqual(
    (result.plan!.sources[0]!.schema as { fields: { name: string }[] }).fields.map((f) => f.name),
    ['raw', 'doc', 'meta'],
  );
});

// ------------------------------------------------------------ generated programs

/** Field names, keywords among them: the formatter's line breaks must not make them read differently. */
const fieldNames = ['raw', 'doc', 'key', 'map', 'select', 'bytes', 'from', 'to', 'when', 'amount', 'end', 'null'];

const nested = fc
  .uniqueArray(fc.constantFrom(...fieldNames), { minLength: 1, maxLength: 4 })
  .map((names) => ({ names, types: ['string', 'bytes', 'int', 'map<long>'] }));

const fieldType = fc.oneof(
  fc.constantFrom('int', 'long', 'string', 'bytes', 'double', 'boolean', 'string?', 'array<string>', 'map<long>', 'decimal(9, 2)', 'timestamp_millis'),
  fc.constant('enum' as const),
  nested,
);

interface Field {
  name: string;
  type: string;
  tail: string;
}

/** Named types are named after their field, which is unique in the record. */
const typeName = (field: string) => `T_${field.replace(/\W/g, '')}`;

const field = fc
  .tuple(fc.constantFrom(...fieldNames), fieldType, fc.boolean(), fc.constantFrom('', ' doc "about it"', ' doc "x"'))
  .map(([name, type, withDefault, doc]): Field => {
    if (type === 'enum') return { name, type: `enum ${typeName(name)} { GOLD, SILVER }`, tail: doc };
    if (typeof type !== 'string') {
      const inner = type.names.map((n, i) => `${printName(n, 'any')}: ${type.types[i % type.types.length]}${i === 0 ? ' doc "first"' : ''}`);
      return { name, type: `record ${typeName(name)} { ${inner.join(', ')} }`, tail: doc };
    }
    const defaults: Record<string, string> = { int: ' = 1', string: ' = "s"', 'string?': ' = null', bytes: ' = bytes "00"' };
    return { name, type, tail: (withDefault ? (defaults[type] ?? '') : '') + doc };
  });

const operator = fc.constantFrom(
  'where id > 3',
  'where id between 1 and 5 and not (id == 2)',
  'select { *, doubled: id * 2 }',
  'key by id',
  'dedupe by id within 10s',
  'where if id > 2 then true else false',
);

/** Ends a stream's operators (a window only before the group it windows, once); every one keeps `id` for the route. */
const aggregation = fc.constantFrom(
  '',
  ' | window tumbling 1m | group by id { n: count(), total: sum(id) }',
  ' | window hopping 10m every 1m emit updates | group by id, even: id % 2 == 0 { n: count() }',
  ' | window session gap 30s | group by id { n: count(), ids: collect(id) }',
  ' | window cumulate 1h every 10m emit final | group by id { first_id: first(id), last_id: last(id) }',
  ' | group by id { n: count(), biggest: max(id) }',
);

const program = fc
  .tuple(
    fc.uniqueArray(field, { selector: (f) => f.name, maxLength: 6 }),
    fc.array(operator, { maxLength: 4 }),
    aggregation,
    fc.constantFrom('', ' event time id', ' event time id lateness 10s idle 1m'),
    fc.boolean(),
    fc.constantFrom(' ', '\n', '\n\n'),
  )
  .map(([fields, operators, aggregate, eventTime, route, gap]) => {
    const schema = [`id: long`, ...fields.map((f) => `${printName(f.name, 'any')}: ${f.type}${f.tail}`)].join(', ');
    const ops = operators.map((op) => `| ${op}`).join(gap === ' ' ? ' ' : '\n  ');
    const lines = [
      'pipeline generated',
      `schema Row doc "a row" { ${schema} }`,
      `source rows: Row from datagen { count: 10, seed: 1, partitions: 2 }${eventTime}`,
      `stream s = rows ${ops}${aggregate}${route ? ' | route { when id > 5 => big else => small }' : ''}`,
      ...(route ? ['sink big to stdout { format: json }', 'sink small to file { path: "small.jsonl" }'] : ['sink s to stdout']),
    ];
    return lines.join(gap);
  });

test('generated programs check, and compile to the same plan once formatted', async (t) => {
  await fc.assert(
    fc.asyncProperty(program, async (text) => {
      const result = await assertFormattingKeepsMeaning('g.sensei', new Map([['g.sensei', text]]));
      if (hasErrors(result.diagnostics)) throw new Error(`the generator made an invalid program:\n${text}\n${result.diagnostics.map((d) => d.message).join('\n')}`);
    }),
    { numRuns: 200 },
  );
  t.pass();
});
