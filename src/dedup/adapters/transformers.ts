import type { Embedder } from '../embedder.js';

/** The part of a `@huggingface/transformers` tensor this adapter reads: row-major data of shape `[texts, dims]`. */
export interface TensorLike {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Pooling and normalisation options of a feature-extraction call. */
export interface FeatureExtractionOptions {
  pooling: 'mean' | 'cls' | 'none';
  normalize: boolean;
}

/**
 * The part of a `@huggingface/transformers` `FeatureExtractionPipeline` this adapter calls. Declared
 * structurally so the library neither depends on nor imports the package.
 */
export type FeatureExtractor = (texts: string[], options: FeatureExtractionOptions) => Promise<TensorLike>;

/**
 * Wraps a `@huggingface/transformers` feature-extraction pipeline as an `Embedder`: one call per batch, mean
 * pooling and L2 normalisation by default (what sentence-transformers models expect).
 *
 * ## Example
 * ```ts
 * import { pipeline } from '@huggingface/transformers';
 * const extractor = await pipeline('feature-extraction', 'Xenova/all-MiniLM-L6-v2', { local_files_only: true });
 * batchDedup({ execute, dedupStrategy: 'hybrid', embed: fromFeatureExtractor(extractor) });
 * ```
 *
 * @param extractor The pipeline (or anything of its shape).
 * @param options `pooling` ('mean'), `normalize` (true).
 * @return An embedder returning one `Float32Array` per text; a tensor of the wrong shape makes it throw, so the
 * batch falls back to exact dedup.
 */
export function fromFeatureExtractor(extractor: FeatureExtractor, options: Partial<FeatureExtractionOptions> = {}): Embedder {
  const callOptions: FeatureExtractionOptions = { pooling: options.pooling ?? 'mean', normalize: options.normalize ?? true };
  return async (texts) => {
    const tensor = await extractor(texts, callOptions);
    const [rows, dimensions] = tensor.dims;
    if (tensor.dims.length !== 2 || rows !== texts.length || !dimensions) {
      throw new TypeError(
        `feature extraction returned a tensor of shape [${tensor.dims.join(', ')}], expected [${texts.length}, dims]; ` +
          "use a pooling other than 'none'",
      );
    }
    if (tensor.data.length !== rows * dimensions) {
      throw new TypeError(`feature extraction returned ${tensor.data.length} values for shape [${rows}, ${dimensions}]`);
    }
    // Each row copied by Float32Array.from: no index loop whose bound (`d < dimensions` made `<=`) a write past
    // the end of a typed array, which is ignored, would hide.
    const vectors: Float32Array[] = [];
    for (let r = 0; r < rows; r++) vectors.push(Float32Array.from({ length: dimensions }, (_, d) => tensor.data[r * dimensions + d]!));
    return vectors;
  };
}

/** The part of the `@huggingface/transformers` module `loadTransformersEmbedder` uses. */
export interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  pipeline(task: 'feature-extraction', model: string, options?: Record<string, unknown>): Promise<FeatureExtractor>;
}

export interface TransformersEmbedderOptions extends Partial<FeatureExtractionOptions> {
  /** The model's folder name under `localModelPath` (e.g. `'Xenova/all-MiniLM-L6-v2'`). */
  model: string;
  /** The folder holding local models. Required: this loader never downloads. */
  localModelPath: string;
  /** Extra options for `pipeline()` (`dtype`, `device`, ...). */
  pipelineOptions?: Record<string, unknown>;
  /** How to load the package; the default imports `@huggingface/transformers`. For tests and bundlers. */
  importModule?: () => Promise<TransformersModule>;
}

// A variable specifier keeps bundlers from resolving the optional peer dependency at build time.
const TRANSFORMERS = '@huggingface/transformers';

/**
 * Loads a feature-extraction model from a local folder with `@huggingface/transformers` (an optional peer
 * dependency: install it yourself) and returns it as an `Embedder`. Remote downloads are switched off in the
 * package's global `env`, so a missing model fails here instead of fetching at request time.
 *
 * @param options `model`, `localModelPath`, `pooling`, `normalize`, `pipelineOptions`, `importModule`.
 * @return A promise of the embedder.
 */
export async function loadTransformersEmbedder(options: TransformersEmbedderOptions): Promise<Embedder> {
  const load = options.importModule ?? (() => import(/* @vite-ignore */ TRANSFORMERS) as Promise<TransformersModule>);
  let transformers: TransformersModule;
  try {
    transformers = await load();
  } catch (error) {
    throw new Error(`loadTransformersEmbedder: cannot load ${TRANSFORMERS}; install it to use local models`, { cause: error });
  }
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  transformers.env.localModelPath = options.localModelPath;
  const extractor = await transformers.pipeline('feature-extraction', options.model, {
    local_files_only: true,
    ...options.pipelineOptions,
  });
  return fromFeatureExtractor(extractor, options);
}
