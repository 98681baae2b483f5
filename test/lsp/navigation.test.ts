import test from 'ava';
import { join } from 'node:path';
import type { Location, Range } from 'vscode-languageserver-protocol';
import { docUri, mark, sharedServer, tempFiles, uriOf } from './client.ts';

const client = sharedServer(test);

let n = 0;
/** Opens the marked text; returns its uri, cursor and ranges. */
function open(source: string) {
  const m = mark(source);
  const uri = docUri(`nav-${n++}.sensei`);
  client.open(uri, m.text);
  return { uri, ...m };
}
const sorted = (ranges: Range[]) => [...ranges].sort((a, b) => a.start.line - b.start.line || a.start.character - b.start.character);
const single = (l: Location | Location[] | null) => (Array.isArray(l) ? l[0] : l);

test('definition of a stream, a source and a schema', async (t) => {
  const d = open(`pipeline p
schema «Order» { id: string }
source «orders»: Ord‸er from datagen {}
stream «paid» = orders | where id != ""
sink paid to stdout {}
`);
  t.deepEqual(single(await client.definition(d.uri, d.cursor))?.range, d.ranges[0]);
  const s = open(d.text.replace('stream paid = orders', 'stream paid = ord‸ers').replace(/«|»/g, ''));
  t.deepEqual(single(await client.definition(s.uri, s.cursor))?.range, d.ranges[1]);
  const k = open(d.text.replace('sink paid', 'sink pa‸id'));
  t.deepEqual(single(await client.definition(k.uri, k.cursor))?.range, d.ranges[2]);
});

test('definition of a field: the schema field, a select item, a nested record field', async (t) => {
  const text = `pipeline p
schema Order { id: string, «amount»: double, address: record Address { «city»: string } }
source orders: Order from datagen {}
stream a = orders | where amo‸unt > 0 | select { «total»: amount * 2, address }
stream b = a | where total > 1 and address.city != ""
sink b to stdout {}
`;
  const field = open(text);
  t.deepEqual(single(await client.definition(field.uri, field.cursor))?.range, field.ranges[0]);
  const computed = open(text.replace('amo‸unt', 'amount').replace('where total', 'where to‸tal'));
  t.deepEqual(single(await client.definition(computed.uri, computed.cursor))?.range, computed.ranges[2]);
  const nested = open(text.replace('amo‸unt', 'amount').replace('address.city', 'address.ci‸ty'));
  t.deepEqual(single(await client.definition(nested.uri, nested.cursor))?.range, nested.ranges[1]);
});

test('definition of an import is the imported file', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': 'pipeline shared\nschema Order { id: string }\n' });
  const m = mark('pipeline main\nimport "sha‸red.sensei"\nsource o: Order from datagen {}\nsink o to stdout {}\n');
  const uri = uriOf(join(dir, 'main.sensei'));
  client.open(uri, m.text);
  t.is(single(await client.definition(uri, m.cursor))?.uri, uriOf(join(dir, 'shared.sensei')));
});

/** A stream declared once and read three times; the cursor is on its declaration. */
const PAID = `pipeline p
schema Order { id: string }
source orders: Order from datagen {}
stream «pa‸id» = orders | where id != ""
stream both = «paid» | union «paid»
sink «paid» to stdout {}
sink both to stdout {}
`;

test('references of a stream include its declaration and every read', async (t) => {
  const d = open(PAID);
  const refs = await client.references(d.uri, d.cursor);
  t.deepEqual(sorted(refs!.map((r) => r.range)), sorted(d.ranges));
  const withoutDecl = await client.references(d.uri, d.cursor, false);
  t.is(withoutDecl!.length, d.ranges.length - 1);
});

test('references of a field follow it through streams', async (t) => {
  const d = open(`pipeline p
schema Order { id: string, «amount»: double }
source orders: Order from datagen {}
stream a = orders | where «amount» > 0 | select { id, «amount» }
stream b = a | where «amo‸unt» < 100 | select { total: «amount» * 2 }
sink b to stdout {}
`);
  const refs = await client.references(d.uri, d.cursor);
  t.deepEqual(sorted(refs!.map((r) => r.range)), sorted(d.ranges));
});

test('rename a stream: the declaration and every use', async (t) => {
  const d = open(PAID);
  const prepared = await client.prepareRename(d.uri, d.cursor);
  t.is(prepared?.placeholder, 'paid');
  const edit = await client.rename(d.uri, d.cursor, 'settled');
  const edits = edit!.changes![d.uri]!;
  t.deepEqual(sorted(edits.map((e) => e.range)), sorted(d.ranges));
  t.true(edits.every((e) => e.newText === 'settled'));
});

test('rename a schema, in this file and in an open file that imports it', async (t) => {
  const dir = await tempFiles({});
  const shared = mark('pipeline shared\nschema «Or‸der» { id: string }\n');
  const main = mark('pipeline main\nimport "shared.sensei"\nsource o: «Order» from datagen {}\nsink o to stdout {}\n');
  const sharedUri = uriOf(join(dir, 'shared.sensei'));
  const mainUri = uriOf(join(dir, 'main.sensei'));
  client.open(sharedUri, shared.text);
  client.open(mainUri, main.text);
  await client.diagnostics(mainUri, { version: 1 });
  const edit = await client.rename(sharedUri, shared.cursor, 'Purchase');
  t.deepEqual(edit!.changes![sharedUri]!.map((e) => e.range), shared.ranges);
  t.deepEqual(edit!.changes![mainUri]!.map((e) => e.range), main.ranges);
});

test('rename refuses an invalid name and a name in use, and keywords cannot be renamed', async (t) => {
  const d = open(`pipeline p
schema Order { id: string }
source orders: Order from datagen {}
stream pa‸id = orders
sink paid to stdout {}
`);
  await t.throwsAsync(client.rename(d.uri, d.cursor, 'not a name'), { message: /not a valid name/ });
  await t.throwsAsync(client.rename(d.uri, d.cursor, 'orders'), { message: /already declared/ });
  const k = open(d.text.replace('stream paid', 'str‸eam paid'));
  t.is(await client.prepareRename(k.uri, k.cursor), null);
});

test('document symbols outline the file', async (t) => {
  const d = open(`pipeline p
schema Order { id: string, address: record Address { city: string } }
source orders: Order from datagen {}
stream split = orders | route { when id == "" => empty else => rest }
sink rest to stdout {}
`);
  const symbols = (await client.symbols(d.uri))!;
  t.deepEqual(symbols.map((s) => s.name), ['p', 'Order', 'orders', 'split', 'sink rest']);
  t.deepEqual(symbols[1]!.children!.map((c) => c.name), ['id', 'address']);
  t.deepEqual(symbols[1]!.children![1]!.children!.map((c) => c.name), ['city']);
  t.deepEqual(symbols[3]!.children!.map((c) => c.name), ['empty', 'rest']);
});

test('folding ranges cover multi-line declarations, blocks and comment runs', async (t) => {
  const d = open(`pipeline p
// one
// two
schema Order {
  id: string
}
source orders: Order from datagen {}
stream s = orders
  | select {
      id
    }
sink s to stdout {}
`);
  const ranges = (await client.folding(d.uri))!.map((r) => [r.startLine, r.endLine]);
  t.deepEqual(ranges.filter(([a]) => a === 1), [[1, 2]]);
  t.true(ranges.some(([a, b]) => a === 3 && b === 5), 'schema');
  t.true(ranges.some(([a, b]) => a === 7 && b === 10), 'stream');
  t.true(ranges.some(([a, b]) => a === 8 && b === 10), 'select');
  const g = open(d.text.replace('  | select {\n      id\n    }', '  | group by id {\n      n: count()\n    }'));
  t.regex(g.text, /group by id \{\n/);
  t.true((await client.folding(g.uri))!.some((r) => r.startLine === 8 && r.endLine === 10), 'group');
});

test('fields of a group: its aggregates, renamed keys and window bounds are named there; kept keys upstream', async (t) => {
  const text = `pipeline p
schema Order { «country»: string, amount: double, «created_at»: timestamp_millis }
source orders: Order from datagen {} event time created_at
stream a = orders
  | «window tumbling 1m»
  | group by country, «big»: amount > 10 { «revenue»: sum(amount) }
stream b = a | where revenue > 0 and big and country != "" and window_start != window_end
sink b to stdout {}
`;
  const definition = async (needle: string, at: number) => {
    const d = open(text.replace(needle, needle.slice(0, at) + '‸' + needle.slice(at)));
    return single(await client.definition(d.uri, d.cursor))?.range;
  };
  const { ranges } = mark(text);
  t.deepEqual(await definition('where revenue', 8), ranges[4]);
  t.deepEqual(await definition('and big', 6), ranges[3]);
  t.deepEqual(await definition('and country', 6), ranges[0]);
  t.deepEqual(await definition('window_start !=', 3), ranges[2]);
  t.deepEqual(await definition('time created_at', 7), ranges[1], 'the event time names a field of the schema');
});

test('definition and references of a field include a source\'s `partitioned by`', async (t) => {
  const text = `pipeline p
schema Order { id: string, «country»: string, address: record Address { «city»: string } }
source orders: Order from datagen { partitions: 2 } partitioned by «country», address.«city»
stream a = orders | group by «country», address.«city» { n: count() }
sink a to stdout {}
`;
  const { ranges } = mark(text);
  const at = async (needle: string, offset: number) => open(text.replace(/«|»/g, '').replace(needle, needle.slice(0, offset) + '‸' + needle.slice(offset)));
  const country = await at('by country,', 5);
  t.deepEqual(single(await client.definition(country.uri, country.cursor))?.range, ranges[0], 'a field of the schema');
  const city = await at('address.city\n', 10);
  t.deepEqual(single(await client.definition(city.uri, city.cursor))?.range, ranges[1], 'a field of a nested record');
  const refs = await client.references(country.uri, country.cursor);
  t.deepEqual(sorted(refs!.map((r) => r.range)), sorted([ranges[0]!, ranges[2]!, ranges[4]!]));
  const cityRefs = await client.references(city.uri, city.cursor);
  t.deepEqual(sorted(cityRefs!.map((r) => r.range)), sorted([ranges[1]!, ranges[3]!, ranges[5]!]));
});

test('references of a field include a source\'s event time', async (t) => {
  const d = open(`pipeline p
schema Order { id: string, «created_at»: timestamp_millis }
source orders: Order from datagen {} event time «created_at»
stream a = orders | where «creat‸ed_at» > timestamp "2024-01-01T00:00:00Z"
sink a to stdout {}
`);
  const refs = await client.references(d.uri, d.cursor);
  t.deepEqual(sorted(refs!.map((r) => r.range)), sorted(d.ranges));
});
