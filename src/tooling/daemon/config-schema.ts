/**
 * The JSON Schema of the config file, generated from SETTINGS. The checked-in
 * copy, docs/sensei-run.schema.json, is what editors use (`$schema:` in the
 * file, or the YAML language server's `# yaml-language-server: $schema=`);
 * a test keeps it equal to this (`sensei-run --print-config-schema > docs/sensei-run.schema.json`).
 */
import { SETTINGS, type Setting } from './settings.ts';

type JsonSchema = Record<string, unknown>;

export function configJsonSchema(): JsonSchema {
  const root = groupSchema(SETTINGS, 'Configuration of sensei-run, the Sensei daemon. Environment variables override the file; secrets only come from the environment.');
  (root.properties as Record<string, unknown>) = { $schema: { type: 'string', description: 'The JSON Schema of this file, for editors.' }, ...(root.properties as object) };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://sensei.dev/schemas/sensei-run.schema.json', title: 'sensei-run configuration', ...root };
}

function groupSchema(settings: Readonly<Record<string, Setting>>, doc: string): JsonSchema {
  return {
    type: 'object',
    description: doc,
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, settingSchema(s)])),
  };
}

function settingSchema(s: Setting): JsonSchema {
  if (s.type === 'group') return groupSchema(s.settings, s.doc);
  const description = s.env ? `${s.doc} Environment: ${s.env}.` : s.doc;
  const common = { description, ...(s.default !== undefined ? { default: s.default } : {}) };
  switch (s.type) {
    case 'string':
      return { type: 'string', ...(s.values ? { enum: s.values } : {}), ...common };
    case 'int':
    case 'number':
      return { type: s.type === 'int' ? 'integer' : 'number', ...(s.min !== undefined ? { minimum: s.min } : {}), ...(s.max !== undefined ? { maximum: s.max } : {}), ...common };
    case 'boolean':
      return { type: 'boolean', ...common };
    case 'duration':
      return {
        oneOf: [
          { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' },
          { type: 'integer', minimum: 0, description: 'milliseconds' },
        ],
        ...common,
      };
    case 'list':
      return { oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }], ...common };
  }
}
