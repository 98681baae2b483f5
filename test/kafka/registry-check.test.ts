// `sensei check --registry`: each Kafka sink's inferred schema against its subject's latest version.
import test from 'ava';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { checkAgainstRegistry } from '../../src/tooling/host/registry-check.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { compileResult } from '../support/compile.ts';
import { sensei } from '../cli/run-cli.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


const pipeline = (select: string, sinkOptions = '') => `
pipeline shop
schema Order { id: string, customer: string, amount: long }
source orders: Order from datagen { count: 10 }
stream out = orders | select { ${select} }
sink out to kafka { topic: "orders-out"${sinkOptions} }
`;

// What the subject holds: version 1 of the sink's output (named after the stream, as the compiler names it).
const v1 = { type: 'record', name: 'Out', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'long' }] };

test('an incompatible output schema is reported at the sink, naming the fields that break', async (t) => {
  const registry = await startSchemaRegistry();
  try {
    await new RegistryClient(registry.url).register('orders-out-value', v1);
    const text = pipeline('id, amount: string(amount), customer');
    const diagnostics = await checkAgainstRegistry(compileResult(text), registry.url);
    t.is(diagnostics.length, 1);
    const d = diagnostics[0]!;
    t.is(d.code, 'incompatible-schema');
    t.is(d.severity, 'error');
    t.is(d.span.start.offset, text.indexOf('sink out'));
    t.regex(d.message, /BACKWARD compatible with version 1 of subject `orders-out-value`/);
    t.regex(d.message, /`amount`, `customer` break it/);
    t.deepEqual(d.data?.fields, ['amount', 'customer']);
    t.true(d.hints.some((h) => h.includes('`amount`') && h.includes('"long" as "string"')), d.hints.join('\n'));
    t.true(d.hints.some((h) => h.includes('`customer`') && h.includes('no default')), d.hints.join('\n'));
  } finally {
    await registry.close();
  }
});

test('a compatible change, a new subject, and a non-Avro sink give nothing', async (t) => {
  const registry = await startSchemaRegistry();
  try {
    await new RegistryClient(registry.url).register('orders-out-value', v1);
    // Dropping a field is BACKWARD compatible (new readers ignore it).
    t.deepEqual(await checkAgainstRegistry(compileResult(pipeline('id')), registry.url), []);
    t.deepEqual(await checkAgainstRegistry(compileResult(pipeline('id, customer', ', subject_strategy: topic_record')), registry.url), []);
    t.deepEqual(await checkAgainstRegistry(compileResult(pipeline('id: 1', ', format: json')), registry.url), []);
  } finally {
    await registry.close();
  }
});

test('the subject follows the sink\'s naming strategy, and the subject\'s own compatibility level applies', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  try {
    await client.register('Out', v1);
    await client.register('orders-out-Out', v1);
    t.deepEqual(await checkAgainstRegistry(compileResult(pipeline('id', ', subject_strategy: record')), registry.url), []);
    await fetch(`${registry.url}/config/Out`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'FORWARD' }) });
    // Under FORWARD, old readers need `amount`, which the new output drops.
    const [d] = await checkAgainstRegistry(compileResult(pipeline('id', ', subject_strategy: record')), registry.url);
    t.is(d?.code, 'incompatible-schema');
    t.regex(d!.message, /FORWARD compatible with version 1 of subject `Out`: `amount` breaks it/);
    t.deepEqual(await checkAgainstRegistry(compileResult(pipeline('id', ', subject_strategy: topic_record')), registry.url), []);
  } finally {
    await registry.close();
  }
});

test('an unreachable registry is a diagnostic, not a crash', async (t) => {
  const registry = await startSchemaRegistry();
  const url = registry.url;
  await registry.close();
  const [d] = await checkAgainstRegistry(compileResult(pipeline('id')), url);
  t.is(d?.code, 'registry-unavailable');
  t.regex(d!.message, /cannot check sink `out` against subject `orders-out-value`/);
});

test('sensei check --registry reports the incompatible sink and exits 1', async (t) => {
  const registry = await startSchemaRegistry();
  try {
    await new RegistryClient(registry.url).register('orders-out-value', v1);
    const dir = await mkdtemp(join(tmpdir(), 'sensei-registry-'));
    await writeFile(join(dir, 'p.sensei'), pipeline('id, amount: string(amount)'));
    const result = await sensei(['check', '--registry', registry.url, '--format', 'json', join(dir, 'p.sensei')]);
    t.is(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { diagnostics: { code: string }[]; errors: number };
    t.deepEqual(report.diagnostics.map((d) => d.code), ['incompatible-schema']);
    const compatible = join(dir, 'ok.sensei');
    await writeFile(compatible, pipeline('id, amount'));
    t.is((await sensei(['check', '--registry', registry.url, compatible])).code, 0);
  } finally {
    await registry.close();
  }
});
