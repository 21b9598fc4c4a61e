// The models the playground and the widget offer: shipped in models/, or ONNX models opened in
// the page (own-model.ts registers them).
import type { OnnxInfo } from './protocol.js';

export interface CatalogueEntry {
  /** The name in URLs and widget attributes. */
  id: string;
  label: string;
  /** A weights file (*.gsw) or an analytic denoiser's JSON. */
  url: string;
  /** 'image': a grid of images (28x28 digits, or an ONNX model's C x H x W); 'points': an ONNX
  * model's samples drawn as points (their first two values); the others are 2-D. */
  kind: 'gmm' | 'kde' | 'mlp' | 'image' | 'points';
  /** One sample's [C, H, W] (images; 28x28 digits where absent). */
  shape?: number[];
  /** The data's value range (images: black..white), [-1, 1] where absent. */
  range?: [number, number];
  /** An opened ONNX model: what it is. */
  onnx?: OnnxInfo;
  /** Points drawn under 2-D views of models without an analytic density (a KDE file). */
  data?: string;
  /** The GITS schedule file searched for this model (the best variant measured). */
  gits?: string;
  /** One searched with the paper's cost (where a jump lands), to compare with. */
  gitsPaper?: string;
  /** Class-conditional: labels 0..classes-1 and guidance. */
  classes?: number;
}

const toy = (id: string, name: string): CatalogueEntry[] => [
  { id: `${id}-mlp`, label: `2-D ${name}: MLP (int8)`, url: `models/toy-${id}.int8.gsw`, kind: 'mlp', data: `models/toy-${id}.kde.json` },
  { id: `${id}-kde`, label: `2-D ${name}: exact KDE of 512 points`, url: `models/toy-${id}.kde.json`, kind: 'kde', data: `models/toy-${id}.kde.json` },
];

export const MODELS: CatalogueEntry[] = [
  { id: 'gmm', label: '2-D eight Gaussians: exact mixture', url: 'models/eight-gaussians.gmm.json', kind: 'gmm', gits: 'schedules/eight-gaussians.gits.json', gitsPaper: 'schedules/eight-gaussians.gits-paper.json' },
  ...toy('moons', 'moons'),
  ...toy('swiss-roll', 'swiss roll'),
  ...toy('eight-gaussians', 'eight Gaussians'),
  ...toy('checkerboard', 'checkerboard'),
  { id: 'mnist', label: 'MNIST digits: U-Net (int8)', url: 'models/mnist-unet.int8.gsw', kind: 'image', gits: 'schedules/mnist-unet.gits.json', gitsPaper: 'schedules/mnist-unet.gits-paper.json', classes: 10 },
];

/** ONNX models opened in this page, by id. */
const opened = new Map<string, CatalogueEntry>();

/** Adds an opened model (or replaces the one with its id). */
export function registerModel(entry: CatalogueEntry): void {
  opened.set(entry.id, entry);
}

export function modelById(id: string): CatalogueEntry {
  const m = MODELS.find((m) => m.id === id) ?? opened.get(id);
  if (m) return m;
  if (id.startsWith('file:')) throw new Error(`model "${id}" was opened from a file: open it again (Open model…)`);
  throw new Error(`unknown model "${id}" (one of: ${MODELS.map((m) => m.id).join(', ')}, or url:PATH of an ONNX model on this site)`);
}
