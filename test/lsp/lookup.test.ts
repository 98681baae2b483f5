// Connectors used by a `lookup` operator: completion and hover of the
// connector and its options, in process with a lookup connector of the test's own.
import test from 'ava';
import type { ConnectorSpecs } from '../../src/spi/spec.ts';
import { Analyzer } from '../../src/tooling/lsp/analysis.ts';
import { completionsAt } from '../../src/tooling/lsp/completion.ts';
import { hoverAt } from '../../src/tooling/lsp/hover.ts';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { mark } from './client.ts';

const connectors: ConnectorSpecs = new Map([
  ...builtinConnectorSpecs(),
  ['kv', { name: 'kv', doc: 'A key-value table.', roles: ['lookup'], options: [
    { name: 'key', type: 'string', doc: 'The key expression.', required: true },
    { name: 'table', type: 'string', doc: 'The table to read.', required: true },
  ] }],
]);

const HEAD = `pipeline p
schema Order { id: string, customer_id: string }
schema Customer { id: string, name: string }
source orders: Order from datagen {}
`;

async function at(source: string) {
  const m = mark(source);
  const lines = m.text.split('\n');
  const offset = lines.slice(0, m.cursor.line).reduce((n, l) => n + l.length + 1, 0) + m.cursor.character;
  return { analysis: await new Analyzer(connectors).analyze('/virtual/lookup.sensei', 1, m.text, new Map()), offset };
}

test('after `from` in a lookup, only lookup connectors', async (t) => {
  const { analysis, offset } = await at(`${HEAD}stream s = orders | lookup c: Customer from ‸\n`);
  t.deepEqual(completionsAt(analysis, offset, connectors).map((i) => i.label).sort(), ['kv', 'postgres', 'redis']);
});

test('the options of a lookup connector, and hover on them', async (t) => {
  const { analysis, offset } = await at(`${HEAD}stream s = orders | lookup c: Customer from kv { key: customer_id, ‸ }\n`);
  t.deepEqual(completionsAt(analysis, offset, connectors).map((i) => i.label), ['table']);
  const hover = await at(`${HEAD}stream s = orders | lookup c: Customer from kv { key: customer_id, ta‸ble: "t" }\n`);
  t.regex(JSON.stringify(hoverAt(hover.analysis, hover.offset, connectors)?.contents), /The table to read/);
});

test('the key of a lookup is an expression over the record', async (t) => {
  const { analysis, offset } = await at(`${HEAD}stream s = orders | lookup c: Customer from kv { key: cu‸stomer_id, table: "t" }\n`);
  t.regex(JSON.stringify(hoverAt(analysis, offset, connectors)?.contents), /customer_id: string/);
  const complete = await at(`${HEAD}stream s = orders | lookup c: Customer from kv { key: ‸ }\n`);
  t.true(completionsAt(complete.analysis, complete.offset, connectors).some((i) => i.label === 'customer_id'));
});
