/**
 * Custom scaling laws: a small expression language compiled to the native bytecode of core/scaling/model.h
 * (a stack machine over dual numbers, evaluated at native grid speed on CPU and CUDA).
 *
 * @packageDocumentation
 */
import { invalidType, options, outOfRange, rangeError } from '../runtime/validate';

/** Opcodes, as `lw::scaling::Op`. */
const OP = {
  Const: 0, Param: 1, Var: 2, LogVar: 3, Add: 4, Sub: 5, Mul: 6, Div: 7, Neg: 8, Pow: 9, PowVar: 10,
  Exp: 11, Log: 12, Sqrt: 13, Min: 14, Max: 15, Slot: 16, Store: 17, PowTerm: 18,
} as const;
const MAX_SLOTS = 8;
const VARS: Record<string, number> = { N: 0, D: 1, U: 2 };
const MAX_PARAMS = 8;
const MAX_STACK = 16;

type Node =
  | { t: 'num'; v: number }
  | { t: 'param'; i: number }
  | { t: 'var'; i: number }
  | { t: 'neg'; a: Node }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '^'; a: Node; b: Node }
  | { t: 'call'; f: string; args: Node[] };

/** @internal A compiled program: code (opcode | operand << 8), constants, parameter count, variables read. */
export interface CompiledLaw {
  code: Int32Array;
  consts: Float64Array;
  params: number;
  names: readonly string[];
  reads: { N: boolean; D: boolean; U: boolean };
  /** Float64 evaluation in JS (the reference the tests compare against). */
  evaluate(theta: ArrayLike<number>, N: number, D: number, U: number): number;
}

const FUNCS: Record<string, number> = { exp: 1, log: 1, sqrt: 1, min: 2, max: 2, pow: 2 };

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^(),]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw rangeError(`law.expression: unexpected character at ${pos}: '${src.slice(pos, pos + 10)}'`);
    out.push(m[1] ?? m[2] ?? (m[3] === '**' ? '^' : m[3]!));
    pos = re.lastIndex;
  }
  return out;
}

function parse(src: string, names: readonly string[]): Node {
  const tok = tokenize(src);
  let i = 0;
  const peek = () => tok[i];
  const expect = (t: string) => {
    if (tok[i] !== t) throw rangeError(`law.expression: expected '${t}' at token ${i} (got '${tok[i] ?? 'end'}') in '${src}'`);
    i++;
  };
  const expr = (): Node => {
    let a = term();
    while (peek() === '+' || peek() === '-') {
      const op = tok[i++] as '+' | '-';
      a = { t: 'bin', op, a, b: term() };
    }
    return a;
  };
  const term = (): Node => {
    let a = unary();
    while (peek() === '*' || peek() === '/') {
      const op = tok[i++] as '*' | '/';
      a = { t: 'bin', op, a, b: unary() };
    }
    return a;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      i++;
      return { t: 'neg', a: unary() };
    }
    if (peek() === '+') {
      i++;
      return unary();
    }
    return power();
  };
  const power = (): Node => {
    const a = primary();
    if (peek() === '^') {
      i++;
      return { t: 'bin', op: '^', a, b: unary() };
    }
    return a;
  };
  const primary = (): Node => {
    const t = tok[i++];
    if (t === undefined) throw rangeError(`law.expression: unexpected end of '${src}'`);
    if (t === '(') {
      const e = expr();
      expect(')');
      return e;
    }
    if (/^[\d.]/.test(t)) return { t: 'num', v: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(') {
        if (!(t in FUNCS)) throw rangeError(`law.expression: unknown function '${t}' (known: ${Object.keys(FUNCS).join(', ')})`);
        i++;
        const args: Node[] = [expr()];
        while (peek() === ',') {
          i++;
          args.push(expr());
        }
        expect(')');
        if (args.length !== FUNCS[t]) throw rangeError(`law.expression: ${t}() takes ${FUNCS[t]} argument(s)`);
        return { t: 'call', f: t, args };
      }
      const p = names.indexOf(t);
      if (p >= 0) return { t: 'param', i: p };
      if (t in VARS) return { t: 'var', i: VARS[t]! };
      throw rangeError(`law.expression: unknown name '${t}' (parameters: ${names.join(', ')}; variables: N, D, U)`);
    }
    throw rangeError(`law.expression: unexpected '${t}' in '${src}'`);
  };
  const root = expr();
  if (i !== tok.length) throw rangeError(`law.expression: unexpected '${tok[i]}' after the expression in '${src}'`);
  return root;
}

function jsEval(n: Node, th: ArrayLike<number>, v: readonly number[]): number {
  switch (n.t) {
    case 'num': return n.v;
    case 'param': return th[n.i]!;
    case 'var': return v[n.i]!;
    case 'neg': return -jsEval(n.a, th, v);
    case 'bin': {
      const a = jsEval(n.a, th, v), b = jsEval(n.b, th, v);
      return n.op === '+' ? a + b : n.op === '-' ? a - b : n.op === '*' ? a * b : n.op === '/' ? a / b : Math.pow(a, b);
    }
    case 'call': {
      const a = n.args.map((x) => jsEval(x, th, v));
      switch (n.f) {
        case 'exp': return Math.exp(a[0]!);
        case 'log': return Math.log(a[0]!);
        case 'sqrt': return Math.sqrt(a[0]!);
        case 'min': return Math.min(a[0]!, a[1]!);
        case 'max': return Math.max(a[0]!, a[1]!);
        default: return Math.pow(a[0]!, a[1]!);
      }
    }
  }
}

/** @internal Compiles a {@link CustomLaw}; errors name `name` (e.g. 'opts.law'). */
export function compileLaw(law: unknown, name: string): CompiledLaw {
  if (law === null || typeof law !== 'object') throw invalidType(name, "a law name or { expression, params }", law);
  const o = options<Record<string, unknown>>(law, name, ['expression', 'params'], true);
  if (typeof o.expression !== 'string') throw invalidType(`${name}.expression`, 'a string', o.expression);
  const params = o.params;
  if (!Array.isArray(params) || params.length < 1 || params.length > MAX_PARAMS) {
    throw outOfRange(`${name}.params`, `an array of 1 to ${MAX_PARAMS} parameter names`, params);
  }
  params.forEach((p: unknown, j) => {
    if (typeof p !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) || p in VARS || p in FUNCS) {
      throw outOfRange(`${name}.params[${j}]`, 'an identifier other than N, D, U and the function names', p);
    }
    if (params.indexOf(p) !== j) throw rangeError(`${name}.params: '${p}' appears twice`);
  });
  const names = params as string[];
  const root = parse(o.expression, names);
  const code: number[] = [];
  const consts: number[] = [];
  const reads = { N: false, D: false, U: false };
  const used = new Set<number>();
  let depth = 0, maxDepth = 0;
  const emit = (op: number, arg = 0, delta = 0) => {
    code.push(op | (arg << 8));
    depth += delta;
    maxDepth = Math.max(maxDepth, depth);
  };
  const markVar = (i: number) => {
    reads[(['N', 'D', 'U'] as const)[i]!] = true;
  };
  // Subexpressions of the parameters alone (e.g. exp(a)) are hoisted into a prologue that runs once per
  // objective evaluation: `prologue` holds their code, each ending in Store k; the body reads them with Slot k.
  const prologue: number[] = [];
  let slots = 0;
  const paramOnly = (n: Node): boolean =>
    n.t === 'num' || n.t === 'param' ? true : n.t === 'var' ? false : n.t === 'neg' ? paramOnly(n.a) : n.t === 'bin' ? paramOnly(n.a) && paramOnly(n.b) : n.args.every(paramOnly);
  let inHoist = false;
  const hoist = (n: Node): number => {
    const saved = code.splice(0, code.length);
    const d0 = depth;
    depth = 0;
    inHoist = true;
    genInner(n);
    inHoist = false;
    prologue.push(...code, OP.Store | (slots << 8));
    code.splice(0, code.length, ...saved);
    depth = d0;
    return slots++;
  };
  // X · V^(±p) with X of the parameters alone and p a parameter: one PowTerm instruction.
  const powTerm = (x: Node, pw: Node, neg: boolean): boolean => {
    if (pw.t !== 'bin' || pw.op !== '^' || pw.a.t !== 'var' || pw.b.t !== 'param' || !paramOnly(x)) return false;
    let xs: number, xi: number;
    if (x.t === 'param') {
      xs = 0;
      xi = x.i;
      used.add(x.i);
    } else {
      if (x.t === 'num' || slots >= MAX_SLOTS) return false;
      xs = 1;
      xi = hoist(x);
    }
    markVar(pw.a.i);
    used.add(pw.b.i);
    emit(OP.PowTerm, xs | (xi << 1) | (pw.a.i << 4) | (pw.b.i << 6) | ((neg ? 1 : 0) << 9), 1);
    return true;
  };
  const gen = (n: Node): void => {
    if (inHoist) return genInner(n);
    if (n.t === 'bin' && n.op === '/' && powTerm(n.a, n.b, true)) return;
    if (n.t === 'bin' && n.op === '*' && (powTerm(n.a, n.b, false) || powTerm(n.b, n.a, false))) return;
    if (n.t !== 'num' && n.t !== 'param' && n.t !== 'neg' && slots < MAX_SLOTS && paramOnly(n)) {
      return emit(OP.Slot, hoist(n), 1);
    }
    genInner(n);
  };
  const genInner = (n: Node): void => {
    switch (n.t) {
      case 'num': {
        let k = consts.indexOf(n.v);
        if (k < 0) k = consts.push(n.v) - 1;
        return emit(OP.Const, k, 1);
      }
      case 'param': used.add(n.i); return emit(OP.Param, n.i, 1);
      case 'var': markVar(n.i); return emit(OP.Var, n.i, 1);
      case 'neg': gen(n.a); return emit(OP.Neg);
      case 'bin':
        if (n.op === '/' && n.b.t === 'bin' && n.b.op === '^' && n.b.a.t === 'var') {
          // x / V^y = x · V^(−y): a multiply instead of a division
          gen(n.a);
          markVar(n.b.a.i);
          gen(n.b.b);
          emit(OP.Neg);
          emit(OP.PowVar, n.b.a.i);
          return emit(OP.Mul, 0, -1);
        }
        if (n.op === '^' && n.a.t === 'var') {
          markVar(n.a.i);
          gen(n.b);
          return emit(OP.PowVar, n.a.i);
        }
        gen(n.a);
        gen(n.b);
        return emit({ '+': OP.Add, '-': OP.Sub, '*': OP.Mul, '/': OP.Div, '^': OP.Pow }[n.op], 0, -1);
      case 'call':
        if (n.f === 'log' && n.args[0]!.t === 'var') {
          markVar(n.args[0]!.i);
          return emit(OP.LogVar, n.args[0]!.i, 1);
        }
        if (n.f === 'pow' && n.args[0]!.t === 'var') {
          markVar(n.args[0]!.i);
          gen(n.args[1]!);
          return emit(OP.PowVar, n.args[0]!.i);
        }
        n.args.forEach(gen);
        switch (n.f) {
          case 'exp': return emit(OP.Exp);
          case 'log': return emit(OP.Log);
          case 'sqrt': return emit(OP.Sqrt);
          case 'min': return emit(OP.Min, 0, -1);
          case 'max': return emit(OP.Max, 0, -1);
          default: return emit(OP.Pow, 0, -1);
        }
    }
  };
  gen(root);
  code.unshift(...prologue);
  if (maxDepth > MAX_STACK) throw rangeError(`${name}.expression is nested too deeply (stack depth ${maxDepth} > ${MAX_STACK})`);
  names.forEach((p, j) => {
    if (!used.has(j)) throw rangeError(`${name}.params: '${p}' does not appear in the expression`);
  });
  return {
    code: Int32Array.from(code),
    consts: Float64Array.from(consts.length ? consts : [0]),
    params: names.length,
    names,
    reads,
    evaluate: (th, N, D, U) => jsEval(root, th, [N, D, U]),
  };
}

/**
 * Kaplan et al. (2020, eq. 1.6) / Su et al. (2024) L(N, S_min) = (Nc/N)^αN + (Sc/S_min)^αS as a custom law: put
 * S_min (minimum steps) in the `D` column. Fit it with `scaling.fit(data, { law: KAPLAN_NS_LAW, grid, bounds })`,
 * e.g. bounds `{ Nc: [0, Infinity], Sc: [0, Infinity] }`; `scaling.lossNS` evaluates it.
 */
export const KAPLAN_NS_LAW = {
  expression: '(Nc / N)^alphaN + (Sc / D)^alphaS',
  params: ['Nc', 'Sc', 'alphaN', 'alphaS'],
} as const satisfies { expression: string; params: readonly string[] };
