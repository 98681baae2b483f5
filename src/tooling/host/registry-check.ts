/**
 * `sensei check --registry URL`: before anything is deployed, asks the
 * Schema Registry whether each Kafka sink's output schema (as the compiler
 * inferred it) may be registered as the next version of its subject, under
 * the subject's compatibility level. A schema the registry would reject is
 * an `incompatible-schema` diagnostic at the sink, naming the fields that
 * break (Avro schema resolution against the latest version) and carrying
 * the registry's own messages as hints. Host I/O: the compiler stays pure.
 */
import { RegistryClient, registryAuthFromEnvironment, type RegistryAuth } from '../../../connectors/kafka/registry-client.ts';
import { compatibilityProblems, COMPATIBILITY_LEVELS, type CompatibilityLevel } from '../../../connectors/kafka/compatibility.ts';
import { subjectName, type SubjectStrategy } from '../../../connectors/kafka/subject.ts';
import type { CompileResult } from '../../compile.ts';
import type { Diagnostic, Span } from '../../diagnostics/diagnostic.ts';
import { diagnostic } from '../../diagnostics/codes.ts';
import type { AvroSchemaJson } from '../../plan/plan.ts';

export interface RegistryCheckOptions {
  /** Basic auth; by default from SENSEI_SCHEMA_REGISTRY_USERNAME / _PASSWORD. */
  auth?: RegistryAuth;
}

export async function checkAgainstRegistry(result: CompileResult, url: string, opts: RegistryCheckOptions = {}): Promise<Diagnostic[]> {
  const { typed, plan } = result;
  if (!typed || !plan) return [];
  const auth = opts.auth ?? registryAuthFromEnvironment();
  const client = new RegistryClient(url, auth);
  const out: Diagnostic[] = [];
  for (const sink of typed.sinks) {
    if (sink.connector !== 'kafka') continue;
    const planned = plan.sinks.find((s) => s.id === sink.id);
    if (!planned) continue;
    const o = sink.options;
    const topic = String(o.topic);
    const strategy = (o.subject_strategy ?? 'topic') as SubjectStrategy;
    const checks: { part: 'value' | 'key'; schema: AvroSchemaJson }[] = [];
    if ((o.format ?? 'avro') === 'avro') checks.push({ part: 'value', schema: planned.schema });
    if (o.key_format === 'avro' && planned.keySchema !== 'null') checks.push({ part: 'key', schema: planned.keySchema });
    for (const { part, schema } of checks) {
      const subject = subjectName(strategy, topic, schema, part);
      try {
        const found = await checkSubject(client, subject, schema, sink.id, sink.span);
        if (found) out.push(found);
      } catch (e) {
        out.push(diagnostic('registry-unavailable', sink.span, `cannot check sink \`${sink.input}\` against subject \`${subject}\` at ${url}: ${(e as Error).message}`, {
          data: { subject, url },
        }));
      }
    }
  }
  return out;
}

async function checkSubject(client: RegistryClient, subject: string, schema: AvroSchemaJson, sinkId: string, span: Span): Promise<Diagnostic | undefined> {
  const latest = await client.latest(subject);
  // A subject that does not exist yet accepts any schema.
  if (!latest) return undefined;
  const verdict = await client.compatibility(subject, schema);
  if (verdict.compatible) return undefined;
  const level = (await client.level(subject)).toUpperCase();
  const problems = (COMPATIBILITY_LEVELS as readonly string[]).includes(level)
    ? compatibilityProblems(level as CompatibilityLevel, schema, [latest.schema])
    : [];
  const fields = [...new Set(problems.flatMap((p) => [...p.matchAll(/field `([^`]+)`/g)].map((m) => m[1]!)))];
  const named = fields.length > 0 ? `: ${fields.map((f) => `\`${f}\``).join(', ')} ${fields.length === 1 ? 'breaks' : 'break'} it` : '';
  return diagnostic('incompatible-schema', span, `the output of ${sinkId} is not ${level} compatible with version ${latest.version} of subject \`${subject}\`${named}`, {
    hints: [...problems, ...verdict.messages.filter((m) => !problems.includes(m)).map((m) => `registry: ${m}`)],
    data: { subject, version: latest.version, level, fields },
  });
}
