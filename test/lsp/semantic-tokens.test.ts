// Semantic tokens over JSON-RPC, decoded with the legend the server
// announces: names by what they name (also a keyword used as a field name),
// keywords, literals, comments and operators by their token.
import test from 'ava';
import type { SemanticTokens } from 'vscode-languageserver-protocol';
import { docUri, sharedServer } from './client.ts';

const client = sharedServer(test);

const TEXT = `pipeline p
/* a comment
   on two lines */
schema Order { key: string, amount: double, tier: enum Tier { GOLD } }
source orders: Order from datagen { count: 10 }
stream paid = orders | where key == "x" and amount > 1.5 | select { total: upper(key) }
sink paid to stdout {}
`;

interface Decoded {
  line: number;
  character: number;
  length: number;
  type: string;
  modifiers: string[];
}

async function tokens(text: string): Promise<Decoded[]> {
  const uri = docUri(`semantic-${Math.random().toString(36).slice(2)}.sensei`);
  client.open(uri, text);
  const { tokenTypes, tokenModifiers } = client.initialized!.capabilities.semanticTokensProvider!.legend;
  const { data }: SemanticTokens = await client.connection.sendRequest('textDocument/semanticTokens/full', { textDocument: { uri } });
  const out: Decoded[] = [];
  let line = 0;
  let character = 0;
  for (let i = 0; i < data.length; i += 5) {
    const [dLine, dChar, length, type, bits] = data.slice(i, i + 5) as [number, number, number, number, number];
    line += dLine;
    character = dLine === 0 ? character + dChar : dChar;
    out.push({ line, character, length, type: tokenTypes[type]!, modifiers: tokenModifiers.filter((_, b) => bits & (1 << b)) });
  }
  return out;
}

/** The token over the `nth` whole-word occurrence of `word` on `line`, as `type[+modifier…]`. */
function kindAt(all: Decoded[], text: string, line: number, word: string, nth = 0): string {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const at = [...text.split('\n')[line]!.matchAll(new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`, 'g'))][nth]?.index;
  const token = all.find((t) => t.line === line && t.character === at && t.length === word.length);
  return token ? [token.type, ...token.modifiers].join('+') : 'none';
}

test('names are coloured by what they name, the rest by its token', async (t) => {
  const all = await tokens(TEXT);
  const expect: [number, string, string, number?][] = [
    [0, 'pipeline', 'keyword'],
    [0, 'p', 'namespace+declaration'],
    [3, 'schema', 'keyword'],
    [3, 'Order', 'type+declaration'],
    [3, 'key', 'property+declaration'],
    [3, 'string', 'type'],
    [3, 'Tier', 'type+declaration'],
    [3, 'GOLD', 'enumMember'],
    [4, 'orders', 'variable+declaration'],
    [4, 'Order', 'type'],
    [4, 'from', 'keyword'],
    [4, 'datagen', 'class'],
    [4, 'count', 'property'],
    [4, '10', 'number'],
    [5, 'paid', 'variable+declaration'],
    [5, 'orders', 'variable'],
    [5, 'where', 'keyword'],
    [5, 'key', 'property'], // a keyword, used as a field name
    [5, '==', 'operator'],
    [5, '"x"', 'string'],
    [5, 'and', 'keyword'],
    [5, '1.5', 'number'],
    [5, 'total', 'property+declaration'],
    [5, 'upper', 'function+defaultLibrary'],
    [5, 'key', 'property', 1],
    [6, 'paid', 'variable'],
    [6, 'stdout', 'class'],
  ];
  for (const [line, word, kind, nth] of expect) t.is(kindAt(all, TEXT, line, word, nth), kind, `${line}: ${word}`);
});

test('a block comment is sent line by line', async (t) => {
  const comments = (await tokens(TEXT)).filter((x) => x.type === 'comment');
  t.deepEqual(comments.map(({ line, character, length }) => ({ line, character, length })), [
    { line: 1, character: 0, length: '/* a comment'.length },
    { line: 2, character: 0, length: '   on two lines */'.length },
  ]);
});

test('a file that does not parse still gets tokens', async (t) => {
  const broken = 'pipeline p\nstream s = orders | where (\nsink s to stdout {}\n';
  const all = await tokens(broken);
  t.is(kindAt(all, broken, 1, 'where'), 'keyword');
  t.is(kindAt(all, broken, 2, 'stdout'), 'class');
});

test('windows, groups, aggregates and event times', async (t) => {
  const text = `pipeline p
schema Order { country: string, amount: double, created_at: timestamp_millis }
source orders: Order from datagen { count: 10 } event time created_at lateness 10s idle 1m
stream s = orders | window tumbling 1m emit updates | group by country { n: count(), total: sum(amount) }
`;
  const all = await tokens(text);
  const expect: [number, string, string][] = [
    [2, 'event', 'keyword'],
    [2, 'time', 'keyword'],
    [2, 'created_at', 'property'],
    [2, 'lateness', 'keyword'],
    [2, '10s', 'number'],
    [2, 'idle', 'keyword'],
    [3, 'window', 'keyword'],
    [3, 'tumbling', 'enumMember'],
    [3, 'emit', 'keyword'],
    [3, 'updates', 'enumMember'],
    [3, 'group', 'keyword'],
    [3, 'by', 'keyword'],
    [3, 'country', 'property'],
    [3, 'n', 'property+declaration'],
    [3, 'count', 'function+defaultLibrary'],
    [3, 'sum', 'function+defaultLibrary'],
    [3, 'amount', 'property'],
  ];
  for (const [line, word, kind] of expect) t.is(kindAt(all, text, line, word), kind, `${line}: ${word}`);
});

test('the fields of `partitioned by` are properties, its words keywords', async (t) => {
  const text = `pipeline p
schema Order { country: string, address: record Address { city: string } }
source orders: Order from datagen { partitions: 2 } partitioned by country, address.city
`;
  const all = await tokens(text);
  const expect: [number, string, string][] = [
    [2, 'partitioned', 'keyword'],
    [2, 'by', 'keyword'],
    [2, 'country', 'property'],
    [2, 'address', 'property'],
    [2, 'city', 'property'],
  ];
  for (const [line, word, kind] of expect) t.is(kindAt(all, text, line, word), kind, `${line}: ${word}`);
});
