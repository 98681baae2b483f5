/**
 * Store entries as bytes, for the local store and the changelog: keys and
 * values in the Avro schemas their store declares in the plan
 * (`PlanStore.keySchema`, `valueSchema`), so that a new version of a
 * pipeline reads the state of the old one by Avro's rules of schema
 * resolution (`sensei check --against`). An operator whose values are
 * shaped differently in memory (an aggregate's Sets and key arrays) gives
 * a `StoredForm` that converts them.
 */
import type { TimeState } from '../../src/plan/chain.ts';
import type { PlanStore } from '../../src/plan/plan.ts';
import { avroType, type AvroType } from '../../src/formats/avro-codec.ts';

/** How an operator's values look in the store's schema, and back (`key`: the entry's key, for what the value leaves out). */
export interface StoredForm {
  toStored(value: unknown): unknown;
  fromStored(value: unknown, key: unknown): unknown;
}

export class StoreCodec {
  private readonly keyType: AvroType;
  private readonly valueType: AvroType;

  constructor(
    store: PlanStore,
    private readonly form?: StoredForm,
  ) {
    this.keyType = avroType(store.keySchema);
    this.valueType = avroType(store.valueSchema);
  }

  key(key: unknown): Buffer {
    return this.keyType.toBuffer(key);
  }

  value(value: unknown): Buffer {
    return this.valueType.toBuffer(this.form ? this.form.toStored(value) : value);
  }

  readKey(bytes: Uint8Array): unknown {
    return this.keyType.fromBuffer(asBuffer(bytes));
  }

  readValue(bytes: Uint8Array, key: unknown): unknown {
    const value = this.valueType.fromBuffer(asBuffer(bytes));
    return this.form ? this.form.fromStored(value, key) : value;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A batch's changes to one store, encoded: the changed keys and their values (null: deleted). */
export interface StoreChanges {
  operator: string;
  store: string;
  keys: Uint8Array[];
  values: (Uint8Array | null)[];
}

/** What a batch changed in a task's state: what a result carries to the coordinator, which keeps it. */
export interface StateChanges {
  stores: StoreChanges[];
  time: TimeState;
}
