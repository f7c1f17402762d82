/**
 * fromFeatureExtractor's promises the stop-19 mutation run found unguarded (issue 17, H-MUT6): a tensor with a row
 * per text but not the batch's count of rows is refused, the refusal says which pooling to use, and the options
 * given reach the pipeline.
 */
import { describe, expect, it } from 'vitest';
import { fromFeatureExtractor, loadTransformersEmbedder, type FeatureExtractor } from '../src/dedup/adapters/transformers.js';

/** An extractor answering a fixed tensor, recording the options it was called with. */
function fixed(dims: number[], data: number[]) {
  const options: unknown[] = [];
  const extractor: FeatureExtractor = async (_texts, callOptions) => {
    options.push(callOptions);
    return { dims, data: new Float32Array(data) };
  };
  return { extractor, options };
}

describe('fromFeatureExtractor', () => {
  it('refuses a tensor of more rows than texts, even when its values match its shape', async () => {
    const { extractor } = fixed([3, 2], [1, 2, 3, 4, 5, 6]);
    await expect(fromFeatureExtractor(extractor)(['a', 'b'])).rejects.toThrow(
      new TypeError("feature extraction returned a tensor of shape [3, 2], expected [2, dims]; use a pooling other than 'none'"),
    );
  });

  it('refuses a tensor of vectors of no dimension', async () => {
    const { extractor } = fixed([1, 0], []);
    await expect(fromFeatureExtractor(extractor)(['a'])).rejects.toThrow(/shape \[1, 0\], expected \[1, dims\]/);
  });

  it('splits the rows in order, each a Float32Array of the tensor\'s width', async () => {
    const { extractor } = fixed([2, 2], [1, 2, 3, 4]);
    const vectors = await fromFeatureExtractor(extractor)(['a', 'b']);
    expect(vectors).toEqual([new Float32Array([1, 2]), new Float32Array([3, 4])]);
  });

  it('passes the pooling and normalisation it is given', async () => {
    const { extractor, options } = fixed([1, 1], [1]);
    await fromFeatureExtractor(extractor, { pooling: 'cls', normalize: false })(['a']);
    expect(options).toEqual([{ pooling: 'cls', normalize: false }]);
  });
});

describe('loadTransformersEmbedder', () => {
  it("keeps the import's error as cause when the package cannot be loaded", async () => {
    const missing = new Error("Cannot find package '@huggingface/transformers'");
    const error = await loadTransformersEmbedder({ model: 'm', localModelPath: '.', importModule: () => Promise.reject(missing) }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe('loadTransformersEmbedder: cannot load @huggingface/transformers; install it to use local models');
    expect(error?.cause).toBe(missing);
  });
});
