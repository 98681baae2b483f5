import test from 'ava';
import { maskUrlPasswords } from '../../src/plan/url-passwords.ts';

test('the password of every URL in a text becomes ***', (t) => {
  const cases: [string, string, string][] = [
    ['postgres://app:s3cret@db:5432/app', 'postgres://app:***@db:5432/app', 'user and password'],
    ['redis://:s3cret@cache:6379/0', 'redis://:***@cache:6379/0', 'password without a user'],
    ['REDISS://default:Tok3n@cache:6380', 'REDISS://default:***@cache:6380', 'any case'],
    ['from postgres://a:one@h1/db to postgresql://b:two@h2/db', 'from postgres://a:***@h1/db to postgresql://b:***@h2/db', 'every URL'],
    ['{"url":"postgres://app:s3cret@db/app","n":1}', '{"url":"postgres://app:***@db/app","n":1}', 'inside JSON'],
    ['postgres://app:p%40ss@db/app', 'postgres://app:***@db/app', 'percent-encoded'],
    ['postgres://app:p@ss:w0rd@db/app', 'postgres://app:***@db/app', 'an unencoded @ stays inside the password'],
  ];
  for (const [text, masked, what] of cases) t.is(maskUrlPasswords(text), masked, what);
});

test('URLs without a password, and other text, stay as they are', (t) => {
  for (const text of [
    'postgres://app@db:5432/app',
    'http://registry:8081/subjects/x@y',
    'https://example.com/search?q=a:b@c',
    'mailto:someone@example.com',
    'time 12:30 at noon@home',
    'postgres://app:***@db/app',
  ]) {
    t.is(maskUrlPasswords(text), text);
  }
});
