import test from 'ava';
import type { CompletionItem } from 'vscode-languageserver-protocol';
import { docUri, mark, sharedServer } from './client.ts';

const client = sharedServer(test);

const HEAD = `pipeline p
schema Order {
  id: string
  amount: double
  address: record Address { city: string, zip: string? }
  lines: array<record Line { sku: string, qty: int }>
}
source orders: Order from datagen { count: 10 }
`;

let n = 0;
async function complete(source: string): Promise<CompletionItem[]> {
  const m = mark(source);
  const uri = docUri(`complete-${n++}.sensei`);
  client.open(uri, m.text);
  const items = await client.completion(uri, m.cursor);
  client.close(uri);
  return items;
}
const labels = (items: CompletionItem[]) => items.map((i) => i.label);

test('fields of the record in scope, with their types', async (t) => {
  const items = await complete(`${HEAD}stream s = orders | where ‸\n`);
  t.deepEqual(labels(items).slice(0, 4), ['id', 'amount', 'address', 'lines']);
  t.is(items.find((i) => i.label === 'amount')?.detail, 'double');
});

test('fields after a select are the select\'s outputs', async (t) => {
  const items = await complete(`${HEAD}stream s = orders\n  | select { id, total: amount * 2 }\n  | where to‸\n`);
  t.deepEqual(labels(items).filter((l) => ['id', 'total', 'amount'].includes(l)), ['id', 'total']);
});

test('fields of a stream read from another stream', async (t) => {
  const items = await complete(`${HEAD}stream a = orders | select { key: id }\nstream b = a | key by ‸\n`);
  t.true(labels(items).includes('key'));
  t.false(labels(items).includes('amount'));
});

test('members of a nested record after `.`', async (t) => {
  t.deepEqual(labels(await complete(`${HEAD}stream s = orders | where address.‸\n`)), ['city', 'zip']);
  t.deepEqual(labels(await complete(`${HEAD}stream s = orders | select { c: address.ci‸ }\n`)), ['city', 'zip']);
});

test('members of an element after `flat map … as`', async (t) => {
  const items = await complete(`${HEAD}stream s = orders | flat map lines as line | select { line.‸ }\n`);
  t.deepEqual(labels(items), ['sku', 'qty']);
});

test('functions come with their signatures', async (t) => {
  const items = await complete(`${HEAD}stream s = orders | select { x: up‸ }\n`);
  const upper = items.find((i) => i.label === 'upper');
  t.truthy(upper);
  t.regex(upper!.detail!, /upper\(s: string\): string/);
});

test('operators after `|`', async (t) => {
  const items = await complete(`${HEAD}stream s = orders\n  | ‸\n`);
  t.deepEqual(labels(items), [
    'where', 'select', 'key by', 'flat map', 'union', 'route', 'on error', 'dedupe by', 'lookup',
    'window tumbling', 'window hopping', 'window session', 'window cumulate', 'group by',
  ]);
  t.is(items.find((i) => i.label === 'window hopping')?.insertText, 'window hopping ${1:10m} every ${2:1m}');
});

test('declaration keywords at the start of a line', async (t) => {
  const items = labels(await complete(`${HEAD}\n‸\n`));
  for (const k of ['pipeline', 'import', 'schema', 'source', 'stream', 'sink', 'dead letter']) t.true(items.includes(k), k);
});

test('connector names after `from` and `to`, by role', async (t) => {
  const sources = labels(await complete(`${HEAD}source more: Order from ‸\n`));
  t.true(sources.includes('datagen'));
  t.false(sources.includes('stdout'));
  const sinks = labels(await complete(`${HEAD}sink orders to ‸\n`));
  t.true(sinks.includes('stdout'));
  t.false(sinks.includes('datagen'));
});

test('connector options inside `{ }`, without those already set, and their allowed values', async (t) => {
  const options = labels(await complete(`${HEAD}source more: Order from datagen { count: 1, ‸ }\n`));
  t.true(options.includes('partitions'));
  t.true(options.includes('seed'));
  t.false(options.includes('count'));
  const values = labels(await complete(`${HEAD}sink orders to stdout { format: ‸ }\n`));
  t.true(values.includes('json'));
});

test('stream and source names where a stream is read', async (t) => {
  const text = `${HEAD}stream a = orders | where amount > 0\nstream b = ‸\n`;
  const items = labels(await complete(text));
  t.true(items.includes('orders'));
  t.true(items.includes('a'));
  t.false(items.includes('b'));
  t.true(labels(await complete(`${HEAD}stream a = orders\nsink ‸\n`)).includes('a'));
});

test('schema and type names where a type is written', async (t) => {
  const items = labels(await complete(`${HEAD}source more: ‸ from datagen {}\n`));
  t.true(items.includes('Order'));
  t.true(items.includes('Address'));
  t.true(items.includes('timestamp_millis'));
});

test('error policies after `on error`', async (t) => {
  t.deepEqual(labels(await complete(`${HEAD}stream s = orders | on error ‸\n`)), ['dead_letter', 'skip', 'fail']);
});

test('nothing inside comments and strings', async (t) => {
  t.deepEqual(await complete(`${HEAD}// a comment ‸\n`), []);
  t.deepEqual(await complete(`${HEAD}stream s = orders | where id == "ab‸c"\n`), []);
});

test('connector options are those of the connector\'s role at the cursor', async (t) => {
  const options = async (use: string) => labels(await complete(`${HEAD}${use.replace('{}', '{ ‸ }')}\n`));
  const cases: [string, string[], string[]][] = [
    // PostgreSQL declares its options' roles.
    ['stream s = orders | lookup c: Order from postgres {}', ['query', 'cache_size', 'on_missing', 'url', 'pool_size', 'key'], ['table', 'mode', 'batch_size', 'exactly_once']],
    ['sink orders to postgres {}', ['table', 'mode', 'exactly_once', 'url', 'key'], ['query', 'cache_size', 'replica_url']],
    // Kafka's and Redis's say theirs in the docs ("Source: …", "Sink: … Lookup: …").
    ['sink orders to kafka {}', ['topic', 'compression', 'guarantee', 'brokers'], ['group', 'start', 'bounded', 'reset']],
    ['source k: Order from kafka {}', ['topic', 'group', 'start', 'bounded', 'brokers'], ['compression', 'guarantee', 'subject_strategy']],
    ['dead letter to kafka {}', ['topic', 'compression'], ['group', 'start']],
    ['stream s = orders | lookup c: Order from redis {}', ['read', 'cache_ttl', 'key', 'url'], ['command', 'ttl', 'maxlen']],
    ['sink orders to redis {}', ['command', 'key', 'ttl'], ['read', 'cache_size']],
    // The file connector's `format` reads a source; its sinks always write JSON lines.
    ['sink orders to file {}', ['path', 'append'], ['partitions', 'format']],
  ];
  for (const [use, offered, withheld] of cases) {
    const got = await options(use);
    for (const o of offered) t.true(got.includes(o), `${use}: offers ${o}`);
    for (const o of withheld) t.false(got.includes(o), `${use}: withholds ${o}`);
  }
});

const TIMED = `pipeline p
schema Order {
  id: string
  amount: decimal(12, 2)
  country: string?
  created_at: timestamp_millis
  seq: long
  meta: record Meta { sent_at: timestamp_micros, note: string }
}
source orders: Order from datagen { count: 10 } event time created_at
`;

test('window shapes after `window`, then `gap`, `every`, `emit` and its modes where they fit', async (t) => {
  const at = async (op: string) => labels(await complete(`${TIMED}stream s = orders\n  | ${op}\n  | group by country { n: count() }\n`));
  t.deepEqual(await at('window ‸'), ['tumbling', 'hopping', 'session', 'cumulate']);
  t.deepEqual(await at('window session ‸'), ['gap']);
  t.deepEqual(await at('window tumbling ‸'), []);
  t.deepEqual(await at('window hopping 10m ‸'), ['every']);
  t.deepEqual(await at('window cumulate 1h every 10m ‸'), ['emit']);
  t.deepEqual(await at('window tumbling 1m ‸'), ['emit']);
  t.deepEqual(await at('window tumbling 1m emit ‸'), ['final', 'updates']);
  t.deepEqual(await at('window session gap 30s emit ‸'), ['final'], 'sessions emit final results only');
  // The durations are written already: the shape alone.
  t.is((await complete(`${TIMED}stream s = orders | window tum‸ 1m | group { n: count() }\n`)).find((i) => i.label === 'tumbling')?.insertText, 'tumbling');
});

test('group by: `by`, fields in its keys, aggregates in its values, fields in their arguments', async (t) => {
  t.deepEqual(labels(await complete(`${TIMED}stream s = orders | group ‸\n`)), ['by']);
  const keys = labels(await complete(`${TIMED}stream s = orders | where amount > 0 | group by ‸\n`));
  t.deepEqual(keys.slice(0, 6), ['id', 'amount', 'country', 'created_at', 'seq', 'meta']);
  t.true(keys.includes('upper'), 'a key may be computed');
  t.false(keys.includes('*'));
  const values = await complete(`${TIMED}stream s = orders | group by country { n: ‸ }\n`);
  t.deepEqual(labels(values), ['count', 'sum', 'avg', 'min', 'max', 'count_distinct', 'first', 'last', 'collect']);
  t.regex(values.find((i) => i.label === 'sum')!.detail!, /sum\(x\) → long \| double \| decimal\(38, s\)/);
  t.regex(JSON.stringify(values.find((i) => i.label === 'first')!.documentation), /earliest event time/);
  t.deepEqual(labels(await complete(`${TIMED}stream s = orders | group by country { n: cou‸(id) }\n`)).slice(0, 1), ['count']);
  const args = labels(await complete(`${TIMED}stream s = orders | window tumbling 1m | group by country { total: sum(‸) }\n`));
  t.deepEqual(args.slice(0, 3), ['id', 'amount', 'country']);
  t.false(args.includes('sum'), 'no aggregate inside an aggregate');
  t.deepEqual(labels(await complete(`${TIMED}stream s = orders | group by country { ‸ }\n`)), [], 'a new field\'s name');
});

test('fields after a group are its keys, the window\'s bounds and its aggregates', async (t) => {
  const items = labels(await complete(`${TIMED}stream s = orders\n  | window tumbling 1m\n  | group by country { n: count() }\n  | where ‸\n`));
  t.deepEqual(items.slice(0, 4), ['country', 'window_start', 'window_end', 'n']);
  t.false(items.includes('amount'));
});

test('`event time` and `partitioned by` after a source\'s options, its fields, then `lateness` and `idle`', async (t) => {
  const source = 'source more: Order from datagen { count: 1 }';
  t.deepEqual(labels(await complete(`${TIMED}${source} ‸\n`)), ['event time', 'partitioned by']);
  t.deepEqual(labels(await complete(`${TIMED}source more: Order from datagen ‸\n`)), ['event time', 'partitioned by']);
  const nextLine = labels(await complete(`${TIMED}${source}\n  ‸\n`));
  t.true(nextLine.includes('event time'));
  t.true(nextLine.includes('partitioned by'));
  t.true(nextLine.includes('stream'));
  t.deepEqual(labels(await complete(`${TIMED}${source} event ‸\n`)), ['time']);
  t.deepEqual(labels(await complete(`${TIMED}${source} event time ‸\n`)), ['created_at', 'seq', 'meta'], 'timestamps, longs and records that hold them');
  t.deepEqual(labels(await complete(`${TIMED}${source} event time meta.‸\n`)), ['sent_at']);
  t.deepEqual(labels(await complete(`${TIMED}${source} event time created_at ‸\n`)), ['lateness', 'idle', 'partitioned by']);
  t.deepEqual(labels(await complete(`${TIMED}${source} event time created_at lateness 10s ‸\n`)), ['idle', 'partitioned by']);
  t.deepEqual(labels(await complete(`${TIMED}${source} event time created_at idle 1m ‸\n`)), ['partitioned by']);
  t.deepEqual(labels(await complete(`${TIMED}${source} event time created_at lateness 10s idle 1m\n  ‸\n`)).slice(0, 1), ['partitioned by']);
  const item = (await complete(`${TIMED}${source} ‸\n`)).find((i) => i.label === 'partitioned by')!;
  t.is(item.insertText, 'partitioned by ${1:field}');
  t.is(item.filterText, 'partitioned');
});

const PARTITIONED = `pipeline p
schema Order {
  id: string
  country: string?
  tags: array<string>
  attrs: map<string>
  raw: bytes
  address: record Address { city: string, lines: array<string>, geo: record Geo { lat: double } }
  created_at: timestamp_millis
}
`;

test('`partitioned by`: `by`, then the fields that can be keys and records that hold them, after a comma and after `.`', async (t) => {
  const source = 'source orders: Order from kafka { topic: "orders" }';
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned ‸\n`)), ['by']);
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} event time created_at partitioned ‸\n`)), ['by']);
  const fields = ['id', 'country', 'address', 'created_at'];
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by ‸\n`)), fields, 'no arrays, maps or bytes');
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by cou‸\n`)), fields);
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} event time created_at lateness 10s partitioned by ‸\n`)), fields);
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by country, ‸\n`)), fields);
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by country, address.‸\n`)), ['city', 'geo']);
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by address.geo.‸\n`)), ['lat']);
  t.is((await complete(`${PARTITIONED}${source} partitioned by ‸\n`)).find((i) => i.label === 'country')?.detail, 'string?');
  t.deepEqual(labels(await complete(`${PARTITIONED}${source} partitioned by country ‸\n`)), [], 'no clause after it');
  t.false(labels(await complete(`${PARTITIONED}${source} partitioned by country\n‸\n`)).includes('event time'));
});
