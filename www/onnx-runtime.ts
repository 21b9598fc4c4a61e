// ONNX models in the worker: onnxruntime-web, loaded only when a model is opened, runs the graph
// (WebGPU where this worker samples on WebGPU, wasm otherwise); the crate binds the card, runs
// the plan and turns the output into D(x; sigma), calling `run` once per evaluation.
import type * as Ort from 'onnxruntime-web';
import type * as Wasm from './pkg/gits_sampler_cpu.js';
import { boundedBytes } from './bounded.js';
import type { OnnxInfo, OnnxInterface, OnnxSource } from './protocol.js';

type Module = typeof Wasm;

/** Largest ONNX file opened (a browser tab holds little more; wasm memory ends at 4 GB). */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;

let ortModule: Promise<typeof Ort> | undefined;

/** onnxruntime-web, once: the WebGPU build where this worker has WebGPU, else the smaller
 * wasm-only one. Both sit in ort/ beside this worker. */
function ort(webgpu: boolean): Promise<typeof Ort> {
  ortModule ??= (async () => {
    const folder = new URL('./ort/', import.meta.url);
    const url = new URL(webgpu ? 'ort.min.mjs' : 'ort.wasm.min.mjs', folder).href;
    const m = (await import(/* @vite-ignore */ url)) as typeof Ort;
    m.env.wasm.wasmPaths = folder.href;
    // Threads need cross-origin isolation (SharedArrayBuffer); asking for them without it warns.
    m.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    m.env.logLevel = 'error';
    return m;
  })();
  ortModule.catch(() => (ortModule = undefined));
  return ortModule;
}

/** The file's bytes: a Blob as it is, a URL fetched with progress and a size limit. */
async function bytesOf(model: Blob | string, name: string, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
  if (typeof model !== 'string') {
    if (model.size > MAX_ONNX_BYTES) throw new Error(`${name} is ${model.size} bytes, more than the ${MAX_ONNX_BYTES} a browser can hold`);
    return new Uint8Array(await model.arrayBuffer());
  }
  const response = await fetch(model);
  if (!response.ok) throw new Error(`cannot load ${model}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let done = 0;
  const counted = new Response(
    response.body?.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          done += chunk.length;
          onProgress?.(done, total);
          out.enqueue(chunk);
        },
      }),
    ),
    { headers: response.headers },
  );
  return boundedBytes(counted, name, MAX_ONNX_BYTES);
}

/** A URL's bytes read for its interface, kept for the open that follows (one download). */
const fetched = new Map<string, Promise<Uint8Array>>();

/** The interface an ONNX file declares (no card, no runtime): what the card form offers. */
export async function onnxInterface(wasm: Module, model: Blob | string, onProgress?: (done: number, total: number) => void): Promise<OnnxInterface> {
  const name = typeof model === 'string' ? model : (model as File).name ?? 'the file';
  try {
    const bytes = bytesOf(model, name, onProgress);
    if (typeof model === 'string') {
      fetched.clear();
      fetched.set(model, bytes);
      bytes.catch(() => fetched.delete(model));
    }
    return wasm.inspectOnnx(await bytes) as OnnxInterface;
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What the browser says when memory runs out, in words a person can act on. */
function explain(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError || /out of memory|memory access out of bounds|Array buffer allocation failed|could not allocate/i.test(message)) {
    return `the model does not fit in the memory this browser gives a page (${message}); try a smaller model or close other tabs`;
  }
  return message;
}

export async function openOnnx(wasm: Module, sampler: Wasm.Sampler, source: OnnxSource, onProgress: (done: number, total: number) => void): Promise<{ model: Wasm.Model; info: OnnxInfo }> {
  const { name } = source;
  try {
    const kept = typeof source.model === 'string' ? fetched.get(source.model) : undefined;
    fetched.clear();
    const bytes = await (kept ?? bytesOf(source.model, name, onProgress));
    const iface = wasm.inspectOnnx(bytes) as OnnxInterface;
    const webgpu = sampler.backend === 'webgpu';
    const o = await ort(webgpu);
    let session: Ort.InferenceSession | undefined;
    const run = async (feeds: { name: string; type: Ort.Tensor.Type; dims: number[]; data: Ort.Tensor.DataType }[], output: string) => {
      if (!session) throw new Error('the session is not open');
      const inputs: Record<string, Ort.Tensor> = {};
      for (const f of feeds) inputs[f.name] = new o.Tensor(f.type, f.data, f.dims);
      const out = (await session.run(inputs, [output]))[output];
      const data = out.location === 'cpu' ? out.data : await out.getData(true);
      if (!(data instanceof Float32Array || data instanceof Float64Array)) throw new Error(`output "${output}" is ${out.type}, not float32 or float64`);
      return data;
    };
    // The card is bound before the runtime reads the graph: a card that contradicts it fails first.
    const model = sampler.loadOnnx(bytes, name, source.card, source.scheduler, run);
    let provider = webgpu ? 'webgpu' : 'wasm';
    try {
      try {
        session = await createSession(o, bytes, provider);
      } catch (e) {
        if (provider !== 'webgpu') throw e;
        provider = 'wasm'; // an operator without a WebGPU kernel, or a device onnxruntime cannot use
        session = await createSession(o, bytes, provider);
      }
    } catch (e) {
      model.free();
      throw e;
    }
    const onnx = model.onnx as { card: string; cardSource: string; description: string[] };
    const sha256 = model.sha256;
    const info: OnnxInfo = {
      ...iface,
      ...onnx,
      key: source.key,
      name,
      sha256,
      bytes: bytes.length,
      dim: model.dim,
      classes: model.classes,
      sampleShape: [...model.sampleShape],
      dataRange: [...model.dataRange] as [number, number],
      sigmaRange: [model.sigmaMin, model.sigmaMax],
      runtime: provider,
    };
    return { model, info };
  } catch (e) {
    const message = explain(e);
    throw new Error(message.startsWith(`${name}: `) ? message : `${name}: ${message}`);
  }
}

async function createSession(o: typeof Ort, bytes: Uint8Array, provider: string): Promise<Ort.InferenceSession> {
  try {
    return await o.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (e) {
    throw new Error(`onnxruntime-web (${provider}) cannot run the graph: ${e instanceof Error ? e.message : String(e)}`);
  }
}
