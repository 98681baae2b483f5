/**
 * Record fields and map keys are own properties of plain objects; the one
 * name assignment gets wrong is `__proto__`, which sets the prototype
 * instead (a valid Avro field name, and any JSON key).
 */

/** Sets `key` as the object's own property, `__proto__` included. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
