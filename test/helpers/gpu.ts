// GPU tests run only where the CUDA addon loads and sees a device; elsewhere jest reports them as skipped.
import { cudaNative } from '../../lib/runtime/native';

/** True where the CUDA addon is loaded (it loads only with a visible device). */
export const hasGpu = Boolean(cudaNative());

/** `describe` where a GPU is available, `describe.skip` elsewhere. */
export const describeGpu: jest.Describe = hasGpu ? describe : describe.skip;
