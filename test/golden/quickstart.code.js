// chain of source:orders → sink:paid:0
"use strict";
const ops = ["paid/0:where","paid/1:select","paid/2:key-by"];
const f0 = lib["dmul"];
const f1 = lib["long"];
const f2 = lib["dtrunc"];
const f3 = lib["upper"];
for (const [n, f] of [["dmul", f0], ["long", f1], ["dtrunc", f2], ["upper", f3]]) {
  if (typeof f !== "function") throw new Error("the function library has no " + n);
}
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
return function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i], ts = timestamps[i];
    s1: {
      let r1 = r0, k1 = k0;
      try {
        at = 0;
        if (!((r1.status === "PAID") && (r1.amount > 0))) break s1;
        at = 1;
        r1 = { "order_id": r1.id, "customer_id": r1.customer_id, "amount_cents": f1(f2(f0(r1.amount, 2, 100, 0, 23, 2))), "country": f3((r1.country ?? "zz")), "placed_at": r1.created_at };
        at = 2;
        k1 = r1.customer_id;
      } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s1; }
      o0k.push(k1); o0v.push(r1); o0o.push(off);
    }
  }
};
