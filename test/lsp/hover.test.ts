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
