/**
 * Connector declarations against the spec registry the caller passes in:
 * the connector exists and plays the role, every option is known, applies to
 * the role and is of its type, options that name fields name fields of the
 * record, required options are present. Options become Constants (durations
 * in milliseconds), completed with the spec's defaults. A URL holding a
 * password is a warning: the password would sit in the pipeline file and in
 * every plan compiled from it.
 */
import type { Diagnostic, Span } from '../diagnostics/diagnostic.ts';
import { diagnostic, type Code } from '../diagnostics/codes.ts';
import type { ConnectorRole, ConnectorSpecs, OptionSpec } from '../spi/spec.ts';
import type { Expr, Identifier, OptionEntry } from '../syntax/ast.ts';
import { closestMatch } from '../syntax/suggest.ts';
import { evalLiteral } from '../resolve/constants.ts';
import { maskUrlPasswords } from '../plan/url-passwords.ts';
import type { RecordType } from '../types/avro-type.ts';
import { quoteString } from '../syntax/strings.ts';
import type { Constant } from './typed.ts';

const ROLE_TEXT: Record<ConnectorRole, string> = { source: 'a source', sink: 'a sink', 'dead-letter': 'a dead letter target', lookup: 'a lookup' };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"5s"` (a default written as text) → 5000. */
export function durationMillis(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : undefined;
}

export interface ConnectorContext {
  /** The record the connector reads or writes, which field-valued options name fields of. */
  schema?: RecordType;
  /** Options whose values are expressions the caller checks (a lookup's `key`); they are skipped here. */
  expressions?: readonly string[];
}

/** Reports one diagnostic per mistake: an option that is wrong is not also reported missing. */
export function checkConnector(
  connector: Identifier,
  entries: OptionEntry[],
  role: ConnectorRole,
  specs: ConnectorSpecs,
  diagnostics: Diagnostic[],
  { schema, expressions = [] }: ConnectorContext = {},
): { connector: string; options: Record<string, Constant> } | undefined {
  const report = (code: Code, span: Span, message: string, extra?: Parameters<typeof diagnostic>[3]) => {
    diagnostics.push(diagnostic(code, span, message, extra));
  };
  const spec = specs.get(connector.name);
  if (!spec) {
    const fitting = [...specs.values()].filter((s) => s.roles.includes(role)).map((s) => s.name);
    const guess = closestMatch(connector.name, fitting) ?? closestMatch(connector.name, specs.keys());
    report('unknown-connector', connector.span, `unknown connector \`${connector.name}\``, {
      hints: guess ? [`did you mean \`${guess}\`?`] : [`connectors that can be ${ROLE_TEXT[role]}: ${fitting.join(', ') || 'none'}`],
      data: { name: connector.name },
      ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: connector.span, replacement: guess }] } : {}),
    });
    return undefined;
  }
  if (!spec.roles.includes(role)) {
    report('wrong-direction', connector.span, `connector \`${spec.name}\` cannot be ${ROLE_TEXT[role]}; it can be ${spec.roles.map((r) => ROLE_TEXT[r]).join(' or ')}`, {
      data: { name: spec.name, role },
    });
    return undefined;
  }
  const options: Record<string, Constant> = {};
  /** Options written, right or wrong. */
  const written = new Set<string>();
  let ok = true;
  const applies = (o: OptionSpec) => !o.roles || o.roles.includes(role);
  for (const entry of entries) {
    const name = entry.name.name;
    if (expressions.includes(name)) continue;
    const repeated = written.has(name);
    written.add(name);
    const option = spec.options.find((o) => o.name === name);
    if (!option) {
      const guess = closestMatch(name, spec.options.map((o) => o.name));
      report('unknown-option', entry.name.span, `connector \`${spec.name}\` has no option \`${name}\``, {
        hints: guess ? [`did you mean \`${guess}\`?`] : [`its options: ${spec.options.map((o) => o.name).join(', ') || 'none'}`],
        data: { connector: spec.name, name },
        ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: entry.name.span, replacement: guess }] } : {}),
      });
      ok = false;
      continue;
    }
    if (!applies(option)) {
      report('unknown-option', entry.name.span, `option \`${name}\` of \`${spec.name}\` applies to ${option.roles!.map((r) => ROLE_TEXT[r]).join(' or ')}, not to ${ROLE_TEXT[role]}`, {
        data: { connector: spec.name, name },
      });
      ok = false;
      continue;
    }
    if (repeated) {
      report('duplicate-name', entry.name.span, `option \`${name}\` is set twice`);
      ok = false;
      continue;
    }
    const value = optionValue(option, entry.value, spec.name, diagnostics);
    if (value === undefined || (schema && option.fields && !namesFields(option, value, entry.value, schema, spec.name, diagnostics))) ok = false;
    else {
      options[name] = value;
      const url = passwordUrl(value);
      if (url !== undefined) {
        report('password-in-url', entry.value.span, `option \`${name}\` of \`${spec.name}\` holds a password in its URL (\`${maskUrlPasswords(url)}\`)`, {
          hints: [`keep the password out of the pipeline: ${option.passwordFrom ?? 'pass it in an environment variable'}`],
          data: { connector: spec.name, name },
        });
      }
    }
  }
  for (const option of spec.options) {
    if (written.has(option.name) || expressions.includes(option.name) || !applies(option)) continue;
    if (option.required) {
      report('missing-option', connector.span, `connector \`${spec.name}\` needs the option \`${option.name}\` (${option.doc})`, {
        data: { connector: spec.name, name: option.name },
      });
      ok = false;
    } else if (option.default !== undefined) {
      const d = option.default;
      options[option.name] = option.type === 'duration' && typeof d === 'string' ? durationMillis(d) ?? d : option.type === 'string-list' && typeof d === 'string' ? [d] : d;
    }
  }
  return ok ? { connector: spec.name, options } : undefined;
}

/** `{name}` in a template (see OptionSpec.fields). */
const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Checks that a field-valued option names fields of `schema`; reports each one it does not. */
function namesFields(option: OptionSpec, value: Constant, e: Expr, schema: RecordType, connector: string, diagnostics: Diagnostic[]): boolean {
  const texts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  const names = option.fields === 'template' ? texts.flatMap((t) => [...t.matchAll(PLACEHOLDER)].map((m) => m[1]!)) : texts;
  const fields = schema.fields.map((f) => f.name);
  let ok = true;
  for (const name of names) {
    if (fields.includes(name)) continue;
    ok = false;
    const guess = closestMatch(name, fields);
    const what = option.fields === 'template' ? `\`{${name}}\` in option \`${option.name}\`` : `option \`${option.name}\``;
    diagnostics.push(diagnostic('unknown-field', e.span, `${what} of \`${connector}\` names \`${name}\`, which is not a field of record ${schema.name}`, {
      hints: [guess ? `did you mean \`${guess}\`?` : `its fields: ${fields.join(', ')}`],
      data: { connector, name: option.name, field: name },
      ...(guess && e.kind === 'string' ? { fixes: [{ title: `Change to ${guess}`, span: e.span, replacement: quoteString(option.fields === 'template' ? e.value.split(`{${name}}`).join(`{${guess}}`) : guess) }] } : {}),
    }));
  }
  return ok;
}

/** The first text of an option value that holds a URL with a password. */
function passwordUrl(value: Constant): string | undefined {
  const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return texts.find((t): t is string => typeof t === 'string' && maskUrlPasswords(t) !== t);
}

function optionValue(option: OptionSpec, e: Expr, connector: string, diagnostics: Diagnostic[]): Constant | undefined {
  const invalid = (message: string, hints: string[] = [], extra: Partial<Parameters<typeof diagnostic>[3]> = {}) => {
    diagnostics.push(diagnostic('invalid-option', e.span, `option \`${option.name}\` of \`${connector}\` ${message}`, { hints, data: { connector, name: option.name }, ...extra }));
    return undefined;
  };
  if (option.type === 'enum') {
    const values = option.values ?? [];
    // A bare word (`format: json`, `on_missing: null`) names an enum value as well as a string does.
    const word = e.kind === 'field' ? e.name.name : e.kind === 'string' ? e.value : e.kind === 'null' ? 'null' : undefined;
    if (word === undefined) return invalid(`must be one of ${values.join(', ')}`);
    if (values.includes(word)) return word;
    const guess = closestMatch(word, values);
    return invalid(`must be one of ${values.join(', ')}, not ${JSON.stringify(word)}`, guess ? [`did you mean ${guess}?`] : [], guess ? {
      fixes: [{ title: `Change to ${guess}`, span: e.span, replacement: e.kind === 'string' ? JSON.stringify(guess) : guess }],
    } : {});
  }
  const v = evalLiteral(e);
  if (!v) return invalid('must be a literal value');
  if ('error' in v) {
    diagnostics.push(diagnostic('invalid-literal', v.span, v.error));
    return undefined;
  }
  const kind = v.type.kind;
  const range = (n: Constant, unit = ''): Constant | undefined => {
    // Longs past 2^53 and decimals past 15 digits are exact only as text: no option needs them.
    if (typeof n !== 'number') return invalid('must be a number within ±2^53 (9007199254740991)');
    if (option.min !== undefined && n < option.min) return invalid(`must be at least ${option.min}${unit}, not ${n}${unit}`);
    if (option.max !== undefined && n > option.max) return invalid(`must be at most ${option.max}${unit}, not ${n}${unit}`);
    return n;
  };
  switch (option.type) {
    case 'string':
      return kind === 'string' ? v.value : invalid('must be a string');
    case 'boolean':
      return kind === 'boolean' ? v.value : invalid('must be true or false');
    case 'int':
      return (kind === 'int' || kind === 'long') && e.kind !== 'duration' ? range(v.value) : invalid('must be an integer');
    case 'number':
      return ['int', 'long', 'float', 'double', 'decimal'].includes(kind) && e.kind !== 'duration' ? range(v.value) : invalid('must be a number');
    case 'duration':
      return e.kind === 'duration' ? range(v.value, 'ms') : invalid('must be a duration', ['write it with a unit: 500ms, 10s, 5m, 2h, 1d']);
    case 'string-list':
      if (kind === 'string') return [v.value];
      if (v.type.kind === 'array' && (v.type.items.kind === 'string' || (v.value as Constant[]).length === 0)) return v.value;
      return invalid('must be a string or a list of strings');
  }
}
