import test from 'ava';
import fc from 'fast-check';
import { assignSticky as assignWith, movedPartitions, type GroupAssignment, type MemberSubscription } from '../../connectors/kafka/assignor.ts';
import { groupAssignor } from '../../runtime/cluster/assignment.ts';

// The group leader places partitions with the runtime's assignor, as a run hands it to the source.
const assignSticky = (members: MemberSubscription[], counts: ReadonlyMap<string, number>) => assignWith(members, counts, groupAssignor);

const TOPIC = 'orders';

function members(assignment: GroupAssignment, extra: string[] = [], leaving: string[] = []): MemberSubscription[] {
  const list: MemberSubscription[] = [...assignment]
    .filter(([id]) => !leaving.includes(id))
    .map(([id, owned]) => ({ id, topics: [TOPIC], owned }));
  for (const id of extra) list.push({ id, topics: [TOPIC], owned: {} });
  return list;
}

function counts(assignment: GroupAssignment): number[] {
  return [...assignment.values()].map((a) => (a[TOPIC] ?? []).length);
}

function everyPartitionOnce(t: { deepEqual: (a: unknown, b: unknown) => void }, assignment: GroupAssignment, n: number): void {
  const all = [...assignment.values()].flatMap((a) => a[TOPIC] ?? []).sort((a, b) => a - b);
  t.deepEqual(all, Array.from({ length: n }, (_, i) => i));
}

const parts = new Map([[TOPIC, 12]]);

test('a first assignment spreads 12 partitions evenly over 2 members', (t) => {
  const a = assignSticky(members(new Map(), ['a', 'b']), parts);
  t.deepEqual(counts(a), [6, 6]);
  everyPartitionOnce(t, a, 12);
});

test('a member joining takes only its share, from the others', (t) => {
  const two = assignSticky(members(new Map(), ['a', 'b']), parts);
  const three = assignSticky(members(two, ['c']), parts);
  t.deepEqual(counts(three), [4, 4, 4]);
  everyPartitionOnce(t, three, 12);
  // 4 partitions move to c; nothing moves between a and b.
  t.is(movedPartitions(two, three), 4);
  for (const id of ['a', 'b']) for (const p of three.get(id)![TOPIC]!) t.true(two.get(id)![TOPIC]!.includes(p));
});

test('a member leaving hands over only its own partitions', (t) => {
  const three = assignSticky(members(new Map(), ['a', 'b', 'c']), parts);
  const two = assignSticky(members(three, [], ['b']), parts);
  t.deepEqual(counts(two), [6, 6]);
  everyPartitionOnce(t, two, 12);
  t.is(movedPartitions(three, two), 0, 'a and c keep theirs and take b\'s');
  for (const id of ['a', 'c']) for (const p of three.get(id)![TOPIC]!) t.true(two.get(id)![TOPIC]!.includes(p));
});

test('an unchanged group keeps every partition where it is', (t) => {
  const a = assignSticky(members(new Map(), ['a', 'b', 'c']), parts);
  t.deepEqual(assignSticky(members(a), parts), a);
});

test('the round robin it replaces would move far more on a join', (t) => {
  // kafkajs's round robin: partition p goes to member p mod n.
  const rr = (ids: string[]): GroupAssignment => new Map(ids.map((id, i) => [id, { [TOPIC]: Array.from({ length: 12 }, (_, p) => p).filter((p) => p % ids.length === i) }]));
  const sticky = assignSticky(members(rr(['a', 'b']), ['c']), parts);
  t.true(movedPartitions(rr(['a', 'b']), rr(['a', 'b', 'c'])) > movedPartitions(rr(['a', 'b']), sticky));
});

test('a partition claimed twice goes to one member; partitions that no longer exist are dropped', (t) => {
  const a = assignSticky(
    [
      { id: 'a', topics: [TOPIC], owned: { [TOPIC]: [0, 1, 2, 40] } },
      { id: 'b', topics: [TOPIC], owned: { [TOPIC]: [2, 3] } },
    ],
    new Map([[TOPIC, 4]]),
  );
  t.deepEqual(a.get('a'), { [TOPIC]: [0, 1] });
  t.deepEqual(a.get('b'), { [TOPIC]: [2, 3] });
});

test('partitions only go to members subscribed to their topic', (t) => {
  const a = assignSticky(
    [
      { id: 'a', topics: ['x', 'y'], owned: {} },
      { id: 'b', topics: ['y'], owned: {} },
    ],
    new Map([['x', 3], ['y', 3]]),
  );
  t.deepEqual(a.get('a')!.x, [0, 1, 2]);
  t.deepEqual(a.get('b')!.y, [0, 1, 2]);
});

test('property: from a balanced assignment, any join or leave: balanced, complete, and only surplus partitions move', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: -3, max: 3 }),
      (n, size, change) => {
        const ids = Array.from({ length: size }, (_, i) => `m${i}`);
        const partitions = new Map([[TOPIC, n]]);
        const before = assignSticky(members(new Map(), ids), partitions);
        const after = change >= 0
          ? assignSticky(members(before, Array.from({ length: change }, (_, i) => `new${i}`)), partitions)
          : assignSticky(members(before, [], ids.slice(0, Math.min(-change, size - 1))), partitions);
        const c = counts(after);
        if (Math.max(...c) - Math.min(...c) > 1) return false;
        const all = [...after.values()].flatMap((a) => a[TOPIC] ?? []).sort((x, y) => x - y);
        if (all.join() !== Array.from({ length: n }, (_, i) => i).join()) return false;
        // Fewest moves: survivors keep min(owned, share) where at most n mod size members may have the larger share.
        const k = after.size;
        const floor = Math.floor(n / k);
        const owned = [...before].filter(([id]) => after.has(id)).map(([, a]) => (a[TOPIC] ?? []).length);
        const kept = owned.reduce((s, o) => s + Math.min(o, floor), 0) + Math.min(n % k, owned.filter((o) => o > floor).length);
        return movedPartitions(before, after) === owned.reduce((s, o) => s + o, 0) - kept;
      },
    ),
  );
  t.pass();
});
