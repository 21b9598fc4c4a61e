// Served files read with a size limit, checked before anything is parsed: a wrong or hostile
// file cannot make the page download or hold more than its limit.

/** Largest model file (the f32 MNIST U-Net is 2.5 MB). */
export const MAX_MODEL_BYTES = 64 << 20;
/** Largest JSON file: GITS schedules, toy data (each a few kB). */
export const MAX_JSON_BYTES = 8 << 20;

/** The body of `response` (from `name`), at most `limit` bytes, else an error naming both. */
export async function boundedBytes(response: Response, name: string, limit: number): Promise<Uint8Array> {
  const tooBig = (size: string) => new Error(`${name} is ${size}, more than the limit of ${limit} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) throw tooBig(`${declared} bytes`);
  if (!response.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw tooBig('larger');
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The body of `response` as text, bounded as [`boundedBytes`]. */
export async function boundedText(response: Response, name: string, limit = MAX_JSON_BYTES): Promise<string> {
  return new TextDecoder().decode(await boundedBytes(response, name, limit));
}

/** `text` (from `name`) parsed as JSON; a parse error names the file. */
export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
