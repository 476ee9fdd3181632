/**
 * Jest runs tests in a vm realm whose typed-array constructors differ from Node's main realm (jest issue
 * #2549), while onnxruntime-node's native code returns main-realm arrays and its JS layer checks them with
 * `instanceof` in the jest realm. Test-only shim: make the jest realm's typed-array `instanceof` also accept
 * main-realm instances. Plain Node (the CLI, users) has one realm and needs none of this.
 */
import { runInThisContext } from 'node:vm';

const names = ['Float32Array', 'Float64Array', 'Uint16Array', 'Int32Array', 'BigInt64Array', 'Uint8Array', 'Int8Array', 'Uint32Array', 'Int16Array', 'BigUint64Array'] as const;
const plain = Function.prototype[Symbol.hasInstance];
for (const n of names) {
  const Ours = globalThis[n] as unknown as object;
  const Main = runInThisContext(n) as object;
  if (Main !== Ours) {
    Object.defineProperty(Ours, Symbol.hasInstance, {
      value: (x: unknown) => plain.call(Ours, x) || plain.call(Main, x),
      configurable: true,
    });
  }
}
export {};
