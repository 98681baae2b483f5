/**
 * Connector option specs: one per connector, declared beside its code. The
 * same spec drives compile-time option checks, the docs and editor
 * completion. Specs are registered into an explicit registry that the
 * caller hands the compiler, so new connectors never touch the compiler.
 */

export type OptionType = 'string' | 'int' | 'number' | 'boolean' | 'duration' | 'enum' | 'string-list';

export interface OptionSpec {
  name: string;
  type: OptionType;
  doc: string;
  required?: boolean;
  /** Shown in docs and used when the option is absent. */
  default?: string | number | boolean | string[];
  /** For `enum`. */
  values?: string[];
  min?: number;
  max?: number;
  /**
   * The roles the option applies to (default: all of the connector's); in
   * another role it is an error. `required` and `default` hold only there.
   */
  roles?: ConnectorRole[];
  /**
   * The value names fields of the record the connector reads or writes,
   * checked against its schema: `name` a field (each one of a
   * `string-list`), `template` the `{field}` placeholders of a text.
   */
  fields?: 'name' | 'template';
  /** For a URL: where its password goes instead (environment variables), the hint of the `password-in-url` warning. */
  passwordFrom?: string;
}

export type ConnectorRole = 'source' | 'sink' | 'dead-letter' | 'lookup';

export interface ConnectorSpec {
  name: string;
  doc: string;
  roles: ConnectorRole[];
  options: OptionSpec[];
  /**
   * As a source, its partitions are the server's (a Kafka topic's), so there
   * may be many. Otherwise a source has the `partitions` its option gives, or one.
   */
  partitionedByServer?: boolean;
  /**
   * As a source, the option naming the field whose value spreads records
   * over partitions (as Kafka's producer does): given, the source is
   * partitioned by that field, as `partitioned by` would declare.
   */
  partitionKeyOption?: string;
}

export type ConnectorSpecs = ReadonlyMap<string, ConnectorSpec>;
