import test from 'ava';
import { check } from './harness.ts';

const PROGRAM = `pipeline robust
schema Customer { id: string, country: string?, tier: enum Tier { GOLD, SILVER } = "GOLD", address: record Address { city: string }? }
schema Order { id: string, status: enum Status { PAID, OPEN }, amount: decimal(12, 2), created_at: timestamp_millis, items: array<record Item { sku: string }>, customer: Customer? }
source orders: Order from datagen { partitions: 2, count: 10 }
dead letter to file { path: "dlq.jsonl" }
stream paid = orders
  | on error skip
  | where status == "PAID" and amount > 0 and customer != null
  | select { id, amount_cents: long(amount * 100), country: upper(customer.country ?? "ZZ"), city: customer.address?.city, at: created_at + 5m }
  | key by country
stream lines = orders | flat map items as item | select { *, -items }
stream split = paid | route { when country in ("DE", "FR") => eu else => rest }
stream all = eu | union rest
stream once = orders | dedupe by id within 10m
sink all to stdout { format: json }
sink lines to stdout
sink once to file { path: "once.jsonl" }
`;

test('the full program checks cleanly', (t) => {
  const c = check(PROGRAM);
  t.deepEqual(c.diagnostics.map((d) => `${d.code}: ${d.message}`), []);
  t.truthy(c.typed);
});

test('resolve and check never throw on truncated or damaged text', (t) => {
  for (let end = 0; end <= PROGRAM.length; end += 2) {
    t.notThrows(() => check(PROGRAM.slice(0, end)), `prefix of ${end} characters`);
  }
  for (let at = 0; at < PROGRAM.length; at += 7) {
    const damaged = PROGRAM.slice(0, at) + PROGRAM.slice(at + 5);
    t.notThrows(() => check(damaged), `5 characters cut at ${at}`);
  }
});
