// The deployment files, checked without a cluster: every Kubernetes manifest
// against the official OpenAPI schemas (kubernetes-models' validators), plus
// what those schemas cannot know (probes on the admin endpoints, the HPA's
// shape, the config in the ConfigMap, the admin token's Secret, files named
// in comments, a Dockerfile that runs as non-root with production
// dependencies only).
import test from 'ava';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { loadConfig } from '../../src/tooling/daemon/config.ts';
import { exposedControl } from '../../src/tooling/daemon/exposure.ts';
import { compilePipeline } from '../../src/tooling/daemon/pipelines.ts';
import { ROOT, tempDir } from './daemon-process.ts';

const K8S = join(ROOT, 'deploy/kubernetes');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: any };

async function manifestsIn(dir: string): Promise<{ file: string; doc: Manifest }[]> {
  const out: { file: string; doc: Manifest }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await manifestsIn(path)));
    else if (entry.name.endsWith('.yaml') && entry.name !== 'kustomization.yaml') {
      for (const d of parseAllDocuments(await readFile(path, 'utf8'))) {
        if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
        out.push({ file: path.slice(K8S.length + 1), doc: d.toJS() as Manifest });
      }
    }
  }
  return out;
}

/** Validates with the model class of the resource's apiVersion and kind; throws the schema errors. */
async function validate(doc: Manifest): Promise<void> {
  const mod = (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[doc.kind];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

async function manifest(kind: string): Promise<Manifest> {
  const found = (await manifestsIn(K8S)).filter((m) => m.doc.kind === kind && m.doc.metadata.name.startsWith('sensei-run'));
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.doc;
}

test('every Kubernetes manifest is valid against the schema of its kind', async (t) => {
  const all = await manifestsIn(K8S);
  t.deepEqual(all.map((m) => `${m.doc.apiVersion} ${m.doc.kind}`).sort(), [
    'apps/v1 Deployment',
    'autoscaling/v2 HorizontalPodAutoscaler',
    'policy/v1 PodDisruptionBudget',
    'v1 ConfigMap',
    'v1 ConfigMap',
    'v1 Service',
  ]);
  for (const { file, doc } of all) {
    await t.notThrowsAsync(validate(doc), `${file}: ${doc.kind} ${doc.metadata.name}`);
  }
});

test('the validator does reject a broken manifest', async (t) => {
  const hpa = await manifest('HorizontalPodAutoscaler');
  const broken = structuredClone(hpa);
  broken.spec.behavior.scaleUp.policies[0].value = 'four';
  delete broken.spec.scaleTargetRef.name;
  const error = await t.throwsAsync(validate(broken));
  t.regex(error!.message, /scaleTargetRef must have required property 'name'|value must be integer/);
});

test('kustomization.yaml lists every manifest beside it', async (t) => {
  const k = parseYaml(await readFile(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const files = (await readdir(K8S)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  t.deepEqual([...k.resources].sort(), files);
});

test('every file the manifests\' comments name exists (beside them, or from the repository root)', async (t) => {
  const named: { file: string; name: string }[] = [];
  for (const { file } of await manifestsIn(K8S)) {
    const text = await readFile(join(K8S, file), 'utf8');
    for (const comment of text.matchAll(/#(.*)$/gm)) {
      for (const name of comment[1]!.matchAll(/[\w./-]+\.(?:ya?ml|md|json|sensei)\b/g)) named.push({ file, name: name[0] });
    }
  }
  t.true(named.length > 0);
  const exists = ({ file, name }: { file: string; name: string }) =>
    Promise.any([join(K8S, dirname(file), name), join(ROOT, name)].map((path) => access(path))).then(() => true, () => false);
  const missing = [];
  for (const n of named) if (!(await exists(n))) missing.push(`${n.file}: ${n.name}`);
  t.deepEqual(missing, []);
});

test('the HPA scales on CPU and consumer lag with the API-tier behaviour', async (t) => {
  const hpa = await manifest('HorizontalPodAutoscaler');
  const deployment = await manifest('Deployment');
  t.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  t.deepEqual(hpa.spec.metrics.map((m: { type: string }) => m.type), ['Resource', 'Pods']);
  t.is(hpa.spec.metrics[0].resource.name, 'cpu');
  t.is(hpa.spec.metrics[1].pods.metric.name, 'sensei_consumer_lag_total');
  t.deepEqual(hpa.spec.behavior, {
    scaleUp: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 120 }] },
  });
  t.true(hpa.spec.maxReplicas <= 12, 'no more pods than partitions of the example (small) topic');

  // The adapter serves the metric the HPA asks for, from the series sensei-run exports.
  const rules = (await manifestsIn(K8S)).find((m) => m.file.startsWith('prometheus-adapter/'))!.doc;
  const adapter = parseYaml(rules.data['config.yaml']) as { rules: { seriesQuery: string; name: { as: string } }[] };
  t.is(adapter.rules[0]!.name.as, 'sensei_consumer_lag_total');
  t.regex(adapter.rules[0]!.seriesQuery, /^sensei_consumer_lag_total\{/);
  const metrics = await readFile(join(ROOT, 'src/tooling/daemon/metrics.ts'), 'utf8');
  t.true(metrics.includes("name: 'sensei_consumer_lag_total'"));
});

test('the Deployment probes the admin endpoints and stops within its grace period', async (t) => {
  const deployment = await manifest('Deployment');
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0];
  t.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
  const admin = c.ports.find((p: { name: string }) => p.name === 'admin');
  t.is(c.livenessProbe.httpGet.path, '/healthz');
  t.is(c.readinessProbe.httpGet.path, '/readyz');
  t.is(c.livenessProbe.httpGet.port, 'admin');
  t.is(c.readinessProbe.httpGet.port, 'admin');
  t.true(pod.securityContext.runAsNonRoot);
  t.false(c.securityContext.allowPrivilegeEscalation);

  const configMap = await manifest('ConfigMap');
  const dir = await tempDir();
  await writeFile(join(dir, 'sensei-run.yaml'), configMap.data['sensei-run.yaml']);
  const config = await loadConfig({ file: join(dir, 'sensei-run.yaml'), env: {} });
  t.is(config.admin.port, admin.containerPort);
  t.is(config.admin.host, '0.0.0.0', 'reachable by the kubelet');
  t.true(config.shutdown.deadline < pod.terminationGracePeriodSeconds * 1000, 'the drain ends before SIGKILL');
  t.deepEqual(c.args, ['--config', '/etc/sensei/sensei-run.yaml']);
  t.is(pod.volumes.find((v: { name: string }) => v.name === 'config').configMap.name, configMap.metadata.name);

  // The pipelines in the ConfigMap compile (with every built-in connector, Kafka included).
  for (const [name, text] of Object.entries(configMap.data as Record<string, string>).filter(([n]) => n.endsWith('.sensei'))) {
    await writeFile(join(dir, name), text);
    const outcome = await compilePipeline({ path: join(dir, name), explicit: true }, builtinConnectorSpecs());
    t.true(outcome.ok, outcome.ok ? name : outcome.report);
  }

  const service = await manifest('Service');
  t.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  t.is(service.spec.ports[0].targetPort, 'admin');
});

test('the admin token comes from a required Secret, which the ConfigMap\'s admin settings need; the docs say how to create it', async (t) => {
  const c = (await manifest('Deployment')).spec.template.spec.containers[0];
  const ref = c.env.find((e: { name: string }) => e.name === 'SENSEI_ADMIN_TOKEN').valueFrom.secretKeyRef;
  t.is(ref.optional, false, 'a pod without the token does not start');

  const dir = await tempDir({ 'sensei-run.yaml': (await manifest('ConfigMap')).data['sensei-run.yaml'] });
  const config = await loadConfig({ file: join(dir, 'sensei-run.yaml'), env: {} });
  t.truthy(exposedControl(config.admin, undefined), 'sensei-run would refuse this config without the token');
  t.is(exposedControl(config.admin, 'a-token'), undefined);

  const docs = await readFile(join(ROOT, 'docs/sensei-run.md'), 'utf8');
  t.true(docs.includes(`kubectl create secret generic ${ref.name} --from-literal=${ref.key}=`));
});

test('the Dockerfile is multi-stage, runs as the non-root uid of the manifests, with production dependencies only', async (t) => {
  const dockerfile = await readFile(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  t.deepEqual(stages, ['deps', 'runtime']);
  t.regex(dockerfile, /npm ci --omit=dev/);
  const user = /^USER (\d+):(\d+)$/m.exec(dockerfile.slice(dockerfile.lastIndexOf('FROM ')));
  t.truthy(user, 'the final stage sets a numeric USER');
  const pod = (await manifest('Deployment')).spec.template.spec;
  t.is(Number(user![1]), pod.securityContext.runAsUser);
  t.not(Number(user![1]), 0);
  t.regex(dockerfile, /ENTRYPOINT \["node", "bin\/sensei-run\.js"\]/);

  // Every directory copied into the image exists, and what it imports is a production dependency.
  const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/\S*$/gm)].map((m) => m[1]!).filter((p) => !p.startsWith('package'));
  t.deepEqual(copied, ['bin', 'grammar', 'src', 'runtime', 'connectors']);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const builtin = new Set(builtinModules);
  const missing = new Set<string>();
  for (const dir of copied) {
    for (const file of await sourceFiles(join(ROOT, dir))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'".][^'"]*)['"]|import\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('node:') || builtin.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!(name in pkg.dependencies)) missing.add(`${name} (${file.slice(ROOT.length + 1)})`);
      }
    }
  }
  t.deepEqual([...missing], []);
});

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.(ts|js|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}
