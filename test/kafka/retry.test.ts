import test from 'ava';
import { retryRetriable } from '../../connectors/kafka/client.ts';

test('retriable Kafka errors are tried again until the call succeeds', async (t) => {
  let calls = 0;
  const value = await retryRetriable(async () => {
    if (++calls < 3) throw Object.assign(new Error('not the leader'), { retriable: true });
    return 'offsets';
  });
  t.is(value, 'offsets');
  t.is(calls, 3);
});

test('other errors, and retriable ones past the deadline, are thrown', async (t) => {
  let calls = 0;
  await t.throwsAsync(retryRetriable(async () => {
    calls++;
    throw new Error('unknown topic');
  }), { message: 'unknown topic' });
  t.is(calls, 1);
  await t.throwsAsync(retryRetriable(async () => {
    throw Object.assign(new Error('still no leader'), { retriable: true });
  }, 250), { message: 'still no leader' });
});
