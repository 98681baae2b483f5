/**
 * The roles a connector option applies to. `OptionSpec.roles` says so where
 * a spec declares it; many options (all of Kafka's, for one) say it only in
 * their docs, which begin with the role they serve ("Source: …", "Sink,
 * exactly_once: …", "Sink: … Lookup: …"). Those labels are read here so
 * completion never offers a sink's options to a source.
 */
import type { ConnectorRole, ConnectorSpec, OptionSpec } from '../../spi/spec.ts';

/** A role label at the start of the doc or of one of its sentences: `Sink:` or `Sink, upsert:`. */
const LABEL = /(?:^|\.\s+)(Source|Sink|Lookup)(?:,[^:.]*)?:/g;

const LABELLED: Record<string, readonly ConnectorRole[]> = {
  Source: ['source'],
  // A dead letter target is written like a sink.
  Sink: ['sink', 'dead-letter'],
  Lookup: ['lookup'],
};

export function optionRoles(spec: ConnectorSpec, option: OptionSpec): ConnectorRole[] {
  if (option.roles) return option.roles;
  const labels = [...option.doc.matchAll(LABEL)];
  // Without a label up front ("Source format: …" is none) the option serves every role.
  if (labels[0]?.index !== 0) return spec.roles;
  const labelled = new Set(labels.flatMap((m) => LABELLED[m[1]!]!));
  return spec.roles.filter((r) => labelled.has(r));
}
