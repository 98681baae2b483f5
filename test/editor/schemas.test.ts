// The JSON Schema of pipeline test files (docs/sensei-test.schema.json, which
// the VS Code extension applies to *.test.yaml) against the test files in
// pipelines/: each must conform, and a misspelt key must not.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseTestFile } from '../../runtime/testing/testing.ts';
import { ROOT } from '../lsp/client.ts';

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
}

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/sensei-test.schema.json'), 'utf8')) as Schema & { $defs: Record<string, Schema> };

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Where `value` breaks `s`: the keywords the schema uses (a JSON Schema
 * validator is not a dependency of the project; this covers the schema's
 * own vocabulary, and fails on any keyword it does not know).
 */
function problems(value: unknown, s: Schema, at: string): string[] {
  const known = new Set(['$schema', '$id', '$defs', '$ref', 'title', 'description', 'default', 'type', 'properties', 'additionalProperties', 'required', 'items', 'oneOf']);
  const unknown = Object.keys(s).filter((k) => !known.has(k));
  if (unknown.length > 0) return [`${at}: the schema uses ${unknown.join(', ')}, which this check does not know`];
  if (s.$ref) return problems(value, schema.$defs[s.$ref.replace('#/$defs/', '')]!, at);
  if (s.oneOf) return s.oneOf.filter((o) => problems(value, o, at).length === 0).length === 1 ? [] : [`${at}: matches not exactly one of its forms`];
  const types = s.type === undefined ? undefined : [s.type].flat();
  if (types && !types.includes(typeOf(value))) return [`${at}: is ${typeOf(value)}, not ${types.join(' or ')}`];
  const out: string[] = [];
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in object)) out.push(`${at}: \`${key}\` is missing`);
    for (const [key, v] of Object.entries(object)) {
      const sub = s.properties?.[key] ?? s.additionalProperties;
      if (sub === false) out.push(`${at}: \`${key}\` is not allowed`);
      else if (sub && sub !== true) out.push(...problems(v, sub, `${at}.${key}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => out.push(...problems(v, s.items!, `${at}[${i}]`)));
  return out;
}

const files = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.test.yaml'));

test('every pipeline test file conforms to the schema, and sensei test reads it', (t) => {
  t.true(files.length >= 5);
  for (const file of files) {
    const text = readFileSync(join(ROOT, 'pipelines', file), 'utf8');
    t.deepEqual(problems(parseYaml(text), schema, file), [], file);
    t.notThrows(() => parseTestFile(text, file), file);
  }
});

test('misspelt keys and wrong shapes break the schema', (t) => {
  const text = readFileSync(join(ROOT, 'pipelines', files[0]!), 'utf8');
  const doc = parseYaml(text) as { cases: Record<string, unknown>[] };
  const renamed = { ...doc, cases: doc.cases.map(({ expect, ...rest }) => ({ ...rest, expects: expect })) };
  t.deepEqual(problems(renamed, schema, 'file').filter((p) => p.includes('expects')), ['file.cases[0]: `expects` is not allowed']);
  t.true(problems({ cases: [{ input: { orders: 'x' } }] }, schema, 'file').length > 0, 'input not records');
  t.true(problems({ cases: [{ unordered: 'yes' }] }, schema, 'file').length > 0, 'unordered not a boolean');
  t.true(problems({ lookups: { customer: { c1: 3 } }, cases: [] }, schema, 'file').length > 0, 'a lookup result not a record');
  t.deepEqual(problems({}, schema, 'file'), ['file: `cases` is missing']);
});
