/**
 * Loaded by jest.arm64.config.js only: multiplies the timeout argument a test or hook passes (`test(name, fn, ms)`,
 * `test.each(table)(name, fn, ms)`, `beforeAll(fn, ms)` and the other hooks) by LW_TIME_SCALE, as that config does
 * for the default testTimeout, because qemu-user runs everything 10-30× slower. Names, bodies and assertions are
 * untouched.
 */
const scale = Number(process.env.LW_TIME_SCALE ?? 20);

type Fn = (...args: unknown[]) => unknown;
function scaled(f: Fn): Fn {
  const g = function (this: unknown, name: unknown, body: unknown, timeout?: unknown) {
    return typeof timeout === 'number' ? f.call(this, name, body, timeout * scale) : f.call(this, name, body);
  } as Fn;
  return Object.assign(g, f);
}

function scaleGlobal(name: 'test' | 'it'): void {
  const g = globalThis as unknown as Record<string, Fn & Record<string, Fn>>;
  const orig = g[name]!;
  const each = orig.each;
  const wrapped = scaled(orig) as Fn & Record<string, Fn>;
  wrapped.each = (...table: unknown[]) => scaled(each.apply(orig, table) as Fn);
  for (const k of ['only', 'concurrent', 'failing']) if (typeof orig[k] === 'function') wrapped[k] = scaled(orig[k]!);
  g[name] = wrapped;
}

type Hook = (fn: unknown, timeout?: number) => unknown;
function scaleHook(name: 'beforeAll' | 'afterAll' | 'beforeEach' | 'afterEach'): void {
  const g = globalThis as unknown as Record<string, Hook>;
  const orig = g[name]!;
  g[name] = (fn: unknown, timeout?: number) => (typeof timeout === 'number' ? orig(fn, timeout * scale) : orig(fn));
}

if (scale !== 1) {
  scaleGlobal('test');
  scaleGlobal('it');
  for (const h of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach'] as const) scaleHook(h);
}
