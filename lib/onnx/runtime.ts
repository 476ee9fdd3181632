/**
 * Lazy loading of the optional peer `onnxruntime-node`, through a minimal structural view of its API (so the
 * published types never depend on it).
 *
 * @packageDocumentation
 */
import { lwError } from '../runtime/validate';

/** The part of an ONNX Runtime tensor the adapter uses. */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** Input/output metadata as onnxruntime-node ≥ 1.22 reports it. */
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor?: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

/** The part of an InferenceSession the adapter uses. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  readonly outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

/** @internal */
export interface OrtModule {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
  InferenceSession: {
    create(path: string, opts?: Record<string, unknown>): Promise<OrtSession>;
  };
}

let cached: OrtModule | undefined;

/**
 * @internal Loads onnxruntime-node on first use.
 * @throws Error saying how to install it when it is missing.
 */
export function loadOrt(): OrtModule {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('onnxruntime-node') as OrtModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND') {
      throw lwError('ERR_LENGTHWISE', 
        "lengthwise/onnx needs the optional peer dependency 'onnxruntime-node' (>= 1.30): " +
          'npm install onnxruntime-node --onnxruntime-node-install=skip   (skip = no CUDA download; CPU works)',
      );
    }
    throw err;
  }
  return cached;
}
