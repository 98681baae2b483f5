import test from 'ava';
import { join } from 'node:path';
import { docUri, mark, messageOf, sharedServer, tempFiles, uriOf } from './client.ts';

const client = sharedServer(test);

const SCHEMA = `pipeline p
schema Order {
  id: string
  amount: double
  country: string?
}
source orders: Order from datagen { count: 10 }
`;

test('an unknown field is reported with its code, range, hint and doc link', async (t) => {
  const m = mark(`${SCHEMA}stream s = orders | where «amout» > 0
sink s to stdout { format: json }
`);
  const uri = docUri('unknown-field.sensei');
  client.open(uri, m.text);
  const [d, ...rest] = await client.diagnostics(uri, { version: 1 });
  t.deepEqual(rest, []);
  t.is(d!.code, 'unknown-field');
  t.is(d!.severity, 1);
  t.deepEqual(d!.range, m.ranges[0]);
  t.regex(messageOf(d!), /no field `amout`/);
  t.regex(messageOf(d!), /hint: did you mean `amount`\?/);
  t.regex(d!.codeDescription!.href, /diagnostics\.md#unknown-field$/);
});

test('parse errors are reported at the token', async (t) => {
  const m = mark(`${SCHEMA}stream s = orders | where amount > «)»
`);
  const uri = docUri('parse-error.sensei');
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  t.true(diagnostics.length >= 1);
  t.is(diagnostics[0]!.code, 'parse-error');
  t.deepEqual(diagnostics[0]!.range.start, m.ranges[0]!.start);
});

test('type errors and connector option errors are reported', async (t) => {
  const m = mark(`${SCHEMA}stream s = orders | where «amount + "x"» > 0
sink s to stdout { «formt»: json }
`);
  const uri = docUri('type-error.sensei');
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  const byCode = new Map(diagnostics.map((d) => [d.code, d]));
  t.deepEqual(byCode.get('type-mismatch')?.range, m.ranges[0]);
  t.deepEqual(byCode.get('unknown-option')?.range, m.ranges[1]);
  t.regex(messageOf(byCode.get('unknown-option')!), /did you mean `format`/);
});

test('a password in a connector URL is a warning, its message masked', async (t) => {
  const m = mark(`${SCHEMA}sink orders to postgres { table: "orders", url: «"postgres://app:s3cret-pw@db/app"» }
`);
  const uri = docUri('password.sensei');
  client.open(uri, m.text);
  const d = (await client.diagnostics(uri, { version: 1 })).find((x) => x.code === 'password-in-url');
  t.is(d?.severity, 2);
  t.deepEqual(d?.range, m.ranges[0]);
  t.regex(messageOf(d!), /postgres:\/\/app:\*\*\*@db\/app.*hint: keep the password out of the pipeline/s);
  t.false(messageOf(d!).includes('s3cret-pw'));
});

test('warnings have their severity, and an unused stream is marked unnecessary', async (t) => {
  const m = mark(`${SCHEMA}stream «unused» = orders | where amount > 0
`);
  const uri = docUri('unused.sensei');
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  const unused = diagnostics.find((d) => d.code === 'unused-stream');
  t.truthy(unused);
  t.is(unused!.severity, 2);
  t.deepEqual(unused!.range, m.ranges[0]);
  t.deepEqual(unused!.tags, [1]);
});

test('diagnostics follow edits, and a fixed file has none', async (t) => {
  const uri = docUri('edits.sensei');
  client.open(uri, `${SCHEMA}stream s = orders | where amout > 0\nsink s to stdout { format: json }\n`);
  t.is((await client.diagnostics(uri, { version: 1 }))[0]?.code, 'unknown-field');
  const v2 = client.change(uri, `${SCHEMA}stream s = orders | where amount > 0\nsink s to stdout { format: json }\n`);
  t.deepEqual(await client.diagnostics(uri, { version: v2 }), []);
});

test('an error in an imported file appears at the import, pointing at the real place', async (t) => {
  const dir = await tempFiles({
    'shared.sensei': 'pipeline shared\nschema Order { id: string, amount: Money }\n',
  });
  const m = mark(`pipeline main\n«import "shared.sensei"»\nsource orders: Order from datagen {}\nsink orders to stdout {}\n`);
  const uri = uriOf(join(dir, 'main.sensei'));
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  const d = diagnostics.find((x) => x.code === 'import-error');
  t.truthy(d, JSON.stringify(diagnostics));
  t.deepEqual(d!.range, m.ranges[0]);
  t.regex(messageOf(d!), /shared\.sensei:2:\d+: .*Money/);
  t.is(d!.relatedInformation?.[0]?.location.uri, uriOf(join(dir, 'shared.sensei')));
  t.is(d!.relatedInformation?.[0]?.location.range.start.line, 1);
});

test('imports are read through open documents: unsaved edits count', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': 'pipeline shared\nschema Order { id: string }\n' });
  const sharedUri = uriOf(join(dir, 'shared.sensei'));
  const mainUri = uriOf(join(dir, 'main.sensei'));
  client.open(mainUri, 'pipeline main\nimport "shared.sensei"\nsource orders: Order from datagen {}\nstream s = orders | where amount > 0\nsink s to stdout {}\n');
  const before = await client.diagnostics(mainUri, { version: 1 });
  t.deepEqual(before.map((d) => d.code), ['unknown-field']);
  // The import gains the field in the editor only (not on disk); the importing file is checked again.
  client.open(sharedUri, 'pipeline shared\nschema Order { id: string, amount: double }\n');
  const after = await client.diagnostics(mainUri, { version: 1, accept: (d) => d.length === 0 });
  t.deepEqual(after, []);
});

test('rapid edits never publish an older version after a newer one', async (t) => {
  const uri = docUri('rapid.sensei');
  client.open(uri, SCHEMA);
  let last = 1;
  for (let i = 0; i <= 30; i++) {
    const field = i % 2 === 0 ? 'amout' : 'amount';
    last = client.change(uri, `${SCHEMA}stream s${i} = orders | where ${field} > ${i}\nsink s${i} to stdout {}\n`);
  }
  const final = await client.diagnostics(uri, { version: last });
  t.deepEqual(final.map((d) => d.code), ['unknown-field'], 'the last text (i = 30) misspells the field');
  const versions = client.published.filter((p) => p.uri === uri).map((p) => p.version!);
  t.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions never go back');
  t.is(versions.at(-1), last);
});
