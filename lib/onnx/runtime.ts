/**
 * Lazy loading of the optional peer `onnxruntime-node`, through a minimal structural view of its API (so the
 * published types never depend on it).
 *
 * @packageDocumentation
 */
import { lwError } from '../runtime/validate';

/** The part of an ONNX Runtime tensor the adapter uses. */
export interface OrtTensor {
  /** Element type, e.g. 'float32', 'float16', 'int64'. */
  readonly type: string;
  /** Shape, outermost first. */
  readonly dims: readonly number[];
  /** The elements, row-major (a typed array of the element type). */
  readonly data: unknown;
}

/** Input/output metadata as onnxruntime-node ≥ 1.22 reports it. */
export interface OrtValueMetadata {
  /** Input or output name. */
  readonly name: string;
  /** Whether the value is a tensor. */
  readonly isTensor?: boolean;
  /** Element type of a tensor. */
  readonly type?: string;
  /** Shape of a tensor: numbers for fixed dimensions, names for symbolic ones. */
  readonly shape?: readonly (number | string)[];
}

/** The part of an InferenceSession the adapter uses. */
export interface OrtSession {
  /** Names of the model's inputs. */
  readonly inputNames: readonly string[];
  /** Names of the model's outputs. */
  readonly outputNames: readonly string[];
  /** Per input: name, type and shape, when the runtime reports them. */
  readonly inputMetadata?: readonly OrtValueMetadata[];
  /** Per output: name, type and shape, when the runtime reports them. */
  readonly outputMetadata?: readonly OrtValueMetadata[];
  /** Runs the model on named input tensors; resolves to the named outputs. */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  /** Frees the session's native resources. */
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
