// Static group membership: a `sensei run` restarted after SIGKILL under the same
// SENSEI_INSTANCE_ID takes its partitions back at once, instead of waiting for
// the dead process's session to expire; two live processes sharing one instance
// id are refused with a message saying so.
import test from 'ava';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, kafka, readTopic, unique } from './helpers.ts';
import { audit, decodeEvents, events, pipelineFile, produceEvents, startSensei, topicSize, waitFor } from './processes.ts';

const SESSION_TIMEOUT_MS = 60_000;

test.serial('a process restarted after SIGKILL under the same instance id resumes before the dead one\'s session expires', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, group, instance] = [unique('static-in'), unique('static-out'), unique('static'), unique('instance')];
  const file = pipelineFile({ input, output, registry: registry.url, group, sessionTimeout: `${SESSION_TIMEOUT_MS / 1000}s`, name: 'static_membership' });
  const admin = kafka().admin();
  await admin.connect();
  try {
    await createTopics([input, 4], [output, 4]);
    const all = events(0, 4000, 40);
    await produceEvents(client, input, all.slice(0, 2000));
    const first = startSensei(file, ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
    await waitFor('the first process to copy the first half', async () => (await topicSize(output)) >= 2000, 90_000, first);
    first.child.kill('SIGKILL');
    t.is(await first.exited, null);

    await produceEvents(client, input, all.slice(2000));
    const second = startSensei(file, ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
    // A dynamic member would find every partition held by the dead member until its session expires.
    await waitFor('the restarted process to copy the second half', async () => (await topicSize(output)) >= 4000, SESSION_TIMEOUT_MS - 15_000, second);
    const [described] = (await admin.describeGroups([group])).groups;
    t.is(described!.members.length, 1, 'the restarted process replaced its dead self in the group');

    second.child.kill('SIGTERM');
    t.is(await second.exited, 0, second.stderr());
    const result = audit(all, await decodeEvents(client, await readTopic(output)));
    t.deepEqual(result.missing, [], 'nothing lost');
    t.deepEqual(result.outOfOrder, [], 'per-key order kept');
  } finally {
    await admin.disconnect();
    await deleteTopics(input, output);
    await registry.close();
  }
});

test.serial('a second live process with the same instance id takes over, and the first stops saying why', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, group, instance] = [unique('fenced-in'), unique('fenced-out'), unique('fenced'), unique('instance')];
  const file = pipelineFile({ input, output, registry: registry.url, group, name: 'fenced_member' });
  try {
    await createTopics([input, 2], [output, 2]);
    await produceEvents(client, input, events(0, 200, 10));
    const first = startSensei(file, [], { SENSEI_INSTANCE_ID: instance });
    await waitFor('the first process to copy the input', async () => (await topicSize(output)) >= 200, 90_000, first);
    const second = startSensei(file, [], { SENSEI_INSTANCE_ID: instance });
    const code = await first.exited;
    t.not(code, 0, 'the replaced process does not report success');
    t.regex(first.stderr(), new RegExp(`another consumer joined group ${group} as instance ${instance}-events; each process needs its own SENSEI_INSTANCE_ID`));
    await produceEvents(client, input, events(200, 400, 10));
    await waitFor('the second process to copy the new input', async () => (await topicSize(output)) >= 400, 60_000, second);
    second.child.kill('SIGTERM');
    t.is(await second.exited, 0, second.stderr());
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});
