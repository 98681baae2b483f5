// Every pipeline in pipelines/ through the whole compiler, against checked-in goldens:
// <name>.plan.json (the plan without chain code, plus diagnostics), <name>.avsc.json (the
// inferred schemas) and <name>.code.js (the generated chains). Regenerate with UPDATE_GOLDEN=1.
import test from 'ava';
import avro from 'avsc';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { stdlib } from '../../runtime/stdlib.ts';
import { compileFile } from '../../src/tooling/host/load.ts';
import { validatePlan } from '../../src/plan/validate.ts';

const root = join(import.meta.dirname, '..', '..');
const here = join(root, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
const pipelines = readdirSync(join(root, 'pipelines')).filter((f) => f.endsWith('.sensei')).sort();

function golden(t: { is(a: unknown, b: unknown, m?: string): void }, file: string, actual: string): void {
  const path = join(here, file);
  if (update) writeFileSync(path, actual);
  t.is(actual, existsSync(path) ? readFileSync(path, 'utf8') : undefined, `${file} differs; run with UPDATE_GOLDEN=1 to accept`);
}

for (const file of pipelines) {
  const name = file.replace(/\.sensei$/, '');
  test(`pipelines/${file}`, async (t) => {
    // Relative to the repository (ava runs there), so spans in the goldens are the same on every machine.
    const result = await compileFile(`pipelines/${file}`, builtinConnectorSpecs());
    t.deepEqual(result.needs, []);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    t.deepEqual(errors, [], 'pipelines in pipelines/ compile without errors');
    const plan = validatePlan(JSON.parse(JSON.stringify(result.plan)));
    for (const chain of plan.chains) t.is(typeof new Function('lib', chain.code)(stdlib), 'function');
    const schemas = [...Object.values(result.schemas), ...plan.sources.flatMap((s) => [s.schema, s.keySchema]), ...plan.sinks.flatMap((s) => [s.schema, s.keySchema])];
    for (const schema of schemas) t.notThrows(() => avro.Type.forSchema(schema as avro.Schema), JSON.stringify(schema));

    const diagnostics = result.diagnostics.map((d) => `${d.severity} ${d.code} ${d.span.file}:${d.span.start.line}:${d.span.start.column} ${d.message}`);
    const withoutCode = { ...plan, chains: plan.chains.map(({ code: _, ...rest }) => rest) };
    golden(t, `${name}.plan.json`, JSON.stringify({ diagnostics, plan: withoutCode }, null, 2) + '\n');
    golden(t, `${name}.avsc.json`, JSON.stringify(result.schemas, null, 2) + '\n');
    golden(t, `${name}.code.js`, plan.chains.map((c) => `// chain of ${c.source} → ${c.sinks.join(', ') || '(no sinks)'}\n${c.code}`).join('\n'));
  });
}

test('every golden belongs to a pipeline', (t) => {
  const names = new Set(pipelines.map((f) => f.replace(/\.sensei$/, '')));
  const stale = readdirSync(here).filter((f) => /\.(plan|avsc)\.json$|\.code\.js$/.test(f) && !names.has(f.replace(/\.(plan|avsc)\.json$|\.code\.js$/, '')));
  t.deepEqual(stale, []);
});
