import test from 'ava';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { docUri, mark, sharedServer } from './client.ts';

const client = sharedServer(test);

const PIPELINE = `pipeline p
schema Order doc "An order" {
  id: string doc "order id"
  amount: decimal(12, 2)
  country: string?
  address: record Address { city: string, zip: string? }
  status: enum Status { PAID, OPEN }
}
source orders: Order from datagen { partitions: 2, count: 10 }
stream paid = orders
  | where status == "PAID" and amount > 0
  | select { id, cents: long(amount * 100), city: address.city, country: upper(country ?? "zz") }
sink paid to stdout { format: json }
`;

let n = 0;
async function hoverAt(source: string): Promise<{ hover: Hover | null; text: string }> {
  const m = mark(source);
  const uri = docUri(`hover-${n++}.sensei`);
  client.open(uri, m.text);
  const hover = await client.hover(uri, m.cursor);
  client.close(uri);
  return { hover, text: (hover?.contents as MarkupContent | undefined)?.value ?? '' };
}

const at = (needle: string, caretAfter: number) => {
  const i = PIPELINE.indexOf(needle);
  if (i < 0) throw new Error(`not in the pipeline: ${needle}`);
  return PIPELINE.slice(0, i + caretAfter) + '‸' + PIPELINE.slice(i + caretAfter);
};

test('a field reference shows its Avro type and doc', async (t) => {
  const { text } = await hoverAt(at('select { id,', 10));
  t.regex(text, /id: string/);
  t.regex(text, /order id/);
});

test('a nullable field and an enum show their types', async (t) => {
  t.regex((await hoverAt(at('upper(country', 7))).text, /country: string\?/);
  t.regex((await hoverAt(at('where status', 8))).text, /status: enum Status \{ PAID, OPEN \}/);
});

test('an expression shows the type of the smallest part under the cursor', async (t) => {
  const { text, hover } = await hoverAt(at('address.city', 10));
  t.regex(text, /city: string/);
  t.is(hover!.range!.start.character, PIPELINE.split('\n')[11]!.indexOf('address.city'));
});

test('a computed select item shows the type of its value', async (t) => {
  t.regex((await hoverAt(at('cents:', 2))).text, /cents: long/);
});

test('a stream name shows its whole record schema', async (t) => {
  const { text } = await hoverAt(at('sink paid', 6));
  t.regex(text, /stream paid: record Paid \{/);
  t.regex(text, /\n {2}id: string/);
  t.regex(text, /\n {2}cents: long/);
  t.regex(text, /\n {2}city: string\n/);
  t.regex(text, /\n {2}country: string\n/, 'upper(country ?? "zz") is never null');
});

test('a source shows its schema and connector', async (t) => {
  const { text } = await hoverAt(at('stream paid = orders', 16));
  t.regex(text, /source orders: record Order \{/);
  t.regex(text, /address: record Address \{\n {4}city: string/);
  t.regex(text, /datagen/);
});

test('a schema name shows its type and doc', async (t) => {
  const { text } = await hoverAt(at('source orders: Order', 17));
  t.regex(text, /schema Order = record Order \{/);
  t.regex(text, /An order/);
});

test('a function shows its signature and doc', async (t) => {
  const { text } = await hoverAt(at('upper(', 2));
  t.regex(text, /upper\(s: string\): string/);
  t.regex(text, /[Uu]pper/);
});

test('a connector and a connector option show their docs', async (t) => {
  t.regex((await hoverAt(at('from datagen', 7))).text, /connector datagen[\s\S]*Roles: source/);
  const option = (await hoverAt(at('partitions: 2', 3))).text;
  t.regex(option, /partitions: int/);
  t.regex(option, /default `1`/);
  t.regex((await hoverAt(at('format: json', 2))).text, /format: /);
});

test('hover still works while another part of the file is broken', async (t) => {
  const broken = at('where status', 8).replace('sink paid to stdout', 'sink paid to stdout { format: ');
  t.regex((await hoverAt(broken)).text, /status: enum Status/);
});

test('nothing to show on whitespace or keywords gives no hover', async (t) => {
  t.is((await hoverAt(`‸\n${PIPELINE}`)).hover, null);
});

const WINDOWED = `pipeline w
schema Order { id: string doc "order id", amount: decimal(12, 2), country: string?, created_at: timestamp_millis doc "when it was placed" }
source orders: Order from datagen { count: 10 } event time created_at lateness 10s
source untimed: Order from datagen { count: 10 }
stream revenue = orders
  | window tumbling 1m
  | group by country { orders: count(), revenue: sum(amount) }
stream sliding = orders
  | window hopping 10m every 1m emit updates
  | group by country, id { biggest: max(amount) }
stream running = untimed
  | group { n: count() }
sink revenue to stdout {}
`;

const windowed = (needle: string, caretAfter: number) => {
  const i = WINDOWED.indexOf(needle);
  if (i < 0) throw new Error(`not in the pipeline: ${needle}`);
  return WINDOWED.slice(0, i + caretAfter) + '‸' + WINDOWED.slice(i + caretAfter);
};

test('an aggregate shows its signature, doc and its result type in the group', async (t) => {
  const { text } = await hoverAt(windowed('sum(amount)', 1));
  t.regex(text, /sum\(x\) → long \| double \| decimal\(38, s\)/);
  t.regex(text, /The sum of x/);
  t.regex(text, /Here: `decimal\(38,2\)`/);
  t.regex((await hoverAt(windowed('revenue: sum', 2))).text, /revenue: decimal\(38,2\)/, 'the item\'s name: the output field');
  t.regex((await hoverAt(windowed('sum(amount)', 6))).text, /amount: decimal\(12,2\)/, 'the argument: a field of the input');
});

test('a window in words: its shape, durations and emit mode', async (t) => {
  const tumbling = (await hoverAt(windowed('tumbling 1m', 2))).text;
  t.regex(tumbling, /window tumbling 1m/);
  t.regex(tumbling, /Tumbling windows of 1m/);
  t.regex(tumbling, /Emits `final`/);
  const hopping = (await hoverAt(windowed('window hopping', 2))).text;
  t.regex(hopping, /Hopping windows of 10m, a new one every 1m: each record falls in 10 of them/);
  t.regex(hopping, /Emits `updates`/);
});

test('a group shows its output record and the key of its records', async (t) => {
  const one = (await hoverAt(windowed('group by country {', 2))).text;
  t.regex(one, /group → record Revenue \{\n {2}country: string\?\n {2}window_start: timestamp_millis\n {2}window_end: timestamp_millis\n {2}orders: long\n {2}revenue: decimal\(38,2\)/);
  t.regex(one, /Key: record RevenueKey \{ country: string\?, window_start: timestamp_millis \}/);
  t.regex(one, /when the watermark passes the window's end/);
  t.regex((await hoverAt(windowed('group by country, id', 2))).text, /after each batch that changed it/);
  const running = (await hoverAt(windowed('group { n', 2))).text;
  t.regex(running, /Key: null \(one group\)/);
  t.regex(running, /A running aggregate/);
  t.notRegex(one, /Repartitioned/, 'one partition: nothing moves');
});

test('a group over a source spread by other fields says it repartitions', async (t) => {
  const text = WINDOWED.replace('{ count: 10 } event time', '{ count: 10, partitions: 4 } event time');
  const i = text.indexOf('group by country {') + 2;
  const hovered = (await hoverAt(text.slice(0, i) + '‸' + text.slice(i))).text;
  t.regex(hovered, /Repartitioned: source `orders` is not `partitioned by` these keys/);
  t.regex(hovered, /through an exchange in the process \(`revenue-repartition`\)/);
});

test('a source says whether it has an event time', async (t) => {
  const timed = (await hoverAt(windowed('source orders', 8))).text;
  t.regex(timed, /Event time `created_at`, lateness 10s, idle 30s \(the default\)/);
  t.regex((await hoverAt(windowed('source untimed', 8))).text, /No event time: windows use record timestamps \(Kafka's record timestamp, the arrival time for other sources\)/);
  const field = (await hoverAt(windowed('time created_at', 7))).text;
  t.regex(field, /created_at: timestamp_millis/);
  t.regex(field, /when it was placed/);
  t.regex(field, /the event time of source `orders`/);
  t.regex((await hoverAt(windowed('lateness 10s', 2))).text, /Event time `created_at`, lateness 10s/);
});

const PARTITIONED = `pipeline w
schema Order { id: string, country: string? doc "where it ships", address: record Address { city: string doc "the city" }, created_at: timestamp_millis }
source orders: Order from datagen { partitions: 4, count: 10 } event time created_at
  partitioned by country, address.city
stream by_country = orders | group by country, address.city { n: count() }
sink by_country to stdout {}
`;

const partitioned = (needle: string, caretAfter: number) => {
  const i = PARTITIONED.indexOf(needle);
  if (i < 0) throw new Error(`not in the pipeline: ${needle}`);
  return PARTITIONED.slice(0, i + caretAfter) + '‸' + PARTITIONED.slice(i + caretAfter);
};

test('`partitioned by` says what it declares and what it means for a `group by`; its fields show their types', async (t) => {
  for (const [needle, caret] of [['partitioned by', 3], ['by country', 1]] as const) {
    const { text, hover } = await hoverAt(partitioned(needle, caret));
    t.regex(text, /source orders/);
    t.regex(text, /Partitioned by `country`, `address\.city`: the producer spread the records over the source's partitions by these fields/);
    t.regex(text, /a `group by` whose keys carry these fields aggregates where the records are/);
    t.regex(text, /first moves them to the partition of their group key \(repartitioning\)/);
    t.deepEqual(hover!.range, { start: { line: 3, character: 2 }, end: { line: 3, character: 38 } }, 'the whole clause');
  }
  const country = (await hoverAt(partitioned('by country', 5))).text;
  t.regex(country, /country: string\?/);
  t.regex(country, /where it ships/);
  t.regex(country, /source `orders` is partitioned by `country`/);
  const city = (await hoverAt(partitioned('address.city\n', 10))).text;
  t.regex(city, /city: string/);
  t.regex(city, /the city/);
  t.regex(city, /source `orders` is partitioned by `address\.city`/);
  t.regex((await hoverAt(partitioned('address.city\n', 3))).text, /address: record Address/);
  t.regex((await hoverAt(partitioned('source orders', 8))).text, /Partitioned by `country`, `address\.city`/, 'the source\'s hover says it too');
  t.notRegex((await hoverAt(windowed('source orders', 8))).text, /Partitioned by/, 'not for a source without the clause');
});
