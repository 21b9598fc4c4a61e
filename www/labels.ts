// Class labels for a batch from a picker's value.

/** One class per sample: a class number, 'cycle' (0, 1, ..., classes - 1, 0, ...) or 'none'
 * (the null class, unconditional). Models without classes get the null class 0. */
export function labels(label: string, batch: number, classes: number): Uint32Array {
  const out = new Uint32Array(batch);
  for (let i = 0; i < batch; i++) {
    out[i] = classes === 0 ? 0 : label === 'cycle' ? i % classes : label === 'none' ? classes : Number(label);
  }
  if (out.some((l) => !Number.isInteger(l) || l > classes) || (classes > 0 && !/^(cycle|none|\d+)$/.test(label))) {
    throw new Error(`unknown class "${label}" (expected 0..${Math.max(classes - 1, 0)}, cycle or none)`);
  }
  return out;
}
