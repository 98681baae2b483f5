import test from 'ava';
import { classify } from '../../connectors/postgres/sink.ts';

const error = (props: Record<string, string>) => Object.assign(new Error('x'), props);

test('a broken socket is transient, even when its code has the shape of a SQLSTATE (EPIPE)', (t) => {
  t.is(classify(error({ code: 'EPIPE', syscall: 'write' })), 'transient');
  t.is(classify(error({ code: 'ECONNRESET', syscall: 'read' })), 'transient');
  t.is(classify(error({ code: 'ECONNREFUSED', syscall: 'connect' })), 'transient');
});

test('SQLSTATEs: data errors split the batch, connection and shutdown classes retry, the rest stop the run', (t) => {
  t.is(classify(error({ code: '23505' })), 'data');
  t.is(classify(error({ code: '22P02' })), 'data');
  t.is(classify(error({ code: '08006' })), 'transient');
  t.is(classify(error({ code: '57P01' })), 'transient');
  t.is(classify(error({ code: '42P01' })), 'fatal');
  t.is(classify(new TypeError('bug')), 'fatal');
});
