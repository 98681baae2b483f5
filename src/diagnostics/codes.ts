import type { Diagnostic, Fix, Severity, Span } from './diagnostic.ts';

/**
 * The registry of diagnostic codes. Every code a stage emits is declared
 * here once, with its severity and a one-line description that the
 * documentation (docs/diagnostics.md) repeats; a test checks both.
 */
export const CODES = {
  // syntax
  'lex-error': { severity: 'error', summary: 'A character or token that the language does not have.' },
  'parse-error': { severity: 'error', summary: 'The text does not follow the grammar.' },
  'binary-input': { severity: 'error', summary: 'The file is not text.' },
  'too-many-diagnostics': { severity: 'error', summary: 'A file with more than 100 syntax errors: the first 100 are shown, then how many more.' },
  'nested-too-deeply': { severity: 'error', summary: 'An expression or a type nested deeper than the compiler follows (64 levels; 256 operations in one expression).' },
  // names and imports
  'duplicate-name': { severity: 'error', summary: 'Two declarations share one name.' },
  'unknown-name': { severity: 'error', summary: 'A stream, source or schema that is not declared.' },
  'unknown-schema': { severity: 'error', summary: 'A schema name that is not declared.' },
  'import-not-found': { severity: 'error', summary: 'An imported file could not be read.' },
  'import-cycle': { severity: 'error', summary: 'Files import each other in a cycle.' },
  'import-error': { severity: 'error', summary: 'An imported file has errors.' },
  'avsc-not-found': { severity: 'error', summary: 'An .avsc file could not be read.' },
  'invalid-avsc': { severity: 'error', summary: 'An .avsc file is not a valid Avro schema.' },
  'missing-pipeline': { severity: 'warning', summary: 'The file declares no `pipeline` name.' },
  'cyclic-stream': { severity: 'error', summary: 'A stream depends on itself.' },
  'unused-stream': { severity: 'warning', summary: 'A stream or source that nothing reads.' },
  'ignored-declaration': { severity: 'warning', summary: 'A sink or dead letter in an imported file, which has no effect.' },
  // schemas
  'invalid-schema': { severity: 'error', summary: 'A schema declaration that Avro does not allow.' },
  'invalid-default': { severity: 'error', summary: 'A field default that does not match its type.' },
  // types
  'unknown-field': { severity: 'error', summary: 'A field that the record in scope does not have.' },
  'unknown-symbol': { severity: 'error', summary: 'A string compared with an enum that is not one of its symbols.' },
  'type-mismatch': { severity: 'error', summary: 'An expression has a type the context does not accept.' },
  'not-a-record': { severity: 'error', summary: 'Field access on a value that is not a record.' },
  'not-indexable': { severity: 'error', summary: 'Indexing a value that is not an array or a map.' },
  'nullable-access': { severity: 'error', summary: 'Access through a nullable value without `?.` or `??`.' },
  'unknown-function': { severity: 'error', summary: 'A function that the library does not have.' },
  'wrong-arity': { severity: 'error', summary: 'A function called with the wrong number of arguments.' },
  'invalid-literal': { severity: 'error', summary: 'A literal that is not valid for its type.' },
  'invalid-regex': { severity: 'error', summary: 'A regular expression that does not compile.' },
  'duplicate-field': { severity: 'error', summary: 'A record or projection with the same field twice.' },
  'incompatible-union': { severity: 'error', summary: 'Streams joined by `union` have different record types.' },
  'not-an-array': { severity: 'error', summary: '`flat map` over a field that is not an array.' },
  'operator-after-route': { severity: 'error', summary: 'An operator after `route`, which passes no records on.' },
  'dedupe-across-partitions': { severity: 'warning', summary: '`dedupe` over records that a `union` brought together from sources that may have several partitions, not partitioned by its key: such records are not repartitioned, so duplicates read from different partitions are kept.' },
  'invalid-event-time': { severity: 'error', summary: 'An `event time` field that is not a timestamp (or a long of epoch milliseconds), or an `idle` of zero.' },
  'invalid-window': { severity: 'error', summary: 'A `window` of an unknown shape, without the durations its shape needs, or with an unknown `emit` mode.' },
  'window-without-group': { severity: 'error', summary: 'A `window` not followed by the `group by` it windows.' },
  'window-after-aggregate': { severity: 'error', summary: 'A windowed `group by` downstream of another `group by`, whose results the watermark has already passed.' },
  'invalid-partitioning': { severity: 'error', summary: 'A `partitioned by` field that is not in the source\'s schema, or of a type that cannot be a key.' },
  'group-across-partitions': { severity: 'warning', summary: 'A `group` over records that a `union` brought together from sources that may have several partitions, whose keys do not carry the fields the sources are `partitioned by`: such records are not repartitioned, so each partition aggregates its own.' },
  'record-time-window': { severity: 'warning', summary: 'A `window` over a source without `event time`: records are windowed by their timestamps (Kafka\'s record timestamp, the arrival time for other sources).' },
  'aggregate-outside-group': { severity: 'error', summary: 'An aggregate function (`count`, `sum`, …) outside the `{ … }` of a `group by`.' },
  'not-an-aggregate': { severity: 'error', summary: 'An item of a `group by` block that is not `name: aggregate(…)`, such as a field that is not grouped.' },
  'invalid-group-key': { severity: 'error', summary: 'A `group by` key that is not a named scalar (`*`, `-f`, bytes, records, arrays and maps cannot be keys).' },
  'read-route-stream': { severity: 'error', summary: 'A sink, stream or `union` reading a stream that ends in `route`, whose records all go to its targets.' },
  'invalid-policy': { severity: 'error', summary: 'An `on error` policy other than dead_letter, skip or fail, or a second one.' },
  'always-null': { severity: 'warning', summary: 'An expression that is always null.' },
  'unnecessary-coalesce': { severity: 'warning', summary: '`??` on a value that is never null.' },
  'lossy-cast': { severity: 'warning', summary: 'A conversion that may lose precision.' },
  // connectors
  'unknown-connector': { severity: 'error', summary: 'A connector that is not registered.' },
  'unknown-option': { severity: 'error', summary: 'An option the connector does not have.' },
  'missing-option': { severity: 'error', summary: 'A required connector option is missing.' },
  'invalid-option': { severity: 'error', summary: 'An option value of the wrong type or out of range.' },
  'wrong-direction': { severity: 'error', summary: 'A connector used as a source that is only a sink, or the reverse.' },
  'password-in-url': { severity: 'warning', summary: 'A connector option whose URL holds a password, which belongs in an environment variable.' },
  // registry
  'incompatible-schema': { severity: 'error', summary: 'A sink schema that the registry subject would reject.' },
  'incompatible-state': { severity: 'error', summary: 'A stateful operator that cannot read the state the old plan left (`sensei check --against`): its kind, window or stored layout changed.' },
  'state-dropped': { severity: 'warning', summary: 'A stateful operator of the old plan that the new one no longer has (`sensei check --against`): its state is not read.' },
  'registry-unavailable': { severity: 'error', summary: 'The schema registry could not be asked about a sink schema.' },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type Code = keyof typeof CODES;

/** Creates a diagnostic with the registered severity of its code. */
export function diagnostic(
  code: Code,
  span: Span,
  message: string,
  extra: { hints?: string[]; data?: Record<string, unknown>; fixes?: Fix[]; severity?: Severity } = {},
): Diagnostic {
  return {
    code,
    severity: extra.severity ?? CODES[code].severity,
    message,
    span,
    hints: extra.hints ?? [],
    ...(extra.data ? { data: extra.data } : {}),
    ...(extra.fixes ? { fixes: extra.fixes } : {}),
  };
}
