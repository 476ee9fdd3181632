import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { runXl3m, demoXl3m } from '../lib/cli/xl3m';
import { score } from '../lib/xl3m/score';
import { random16 } from './helpers/logits';
import { rng } from './helpers/rng';

function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.writeUInt8(0x93, 0);
  h.write('NUMPY', 1, 'latin1');
  h.writeUInt8(1, 6);
  h.writeUInt8(0, 7);
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}


/** A zip (.npz) of `members`, each stored or deflated (CRC left 0: readers here do not check it). */
function zip(members: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const body = m.deflate ? zlib.deflateRawSync(m.data) : m.data;
    const name = Buffer.from(m.name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(m.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(m.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(m.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(m.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await runXl3m(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('lengthwise xl3m', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-xl3m-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const S = 6, P = 3, V = 1000;
  const data = random16(S * P * V, 'bfloat16', rng(5));
  const targets = Int32Array.from({ length: S * P }, (_, i) => (i * 37) % V);

  test('3-D .npy of bfloat16 words with targets, JSON output', async () => {
    const f = path.join(dir, 'l.npy');
    fs.writeFileSync(f, npy('<u2', [S, P, V], data));
    const t = path.join(dir, 't.npy');
    fs.writeFileSync(t, npy('<i8', [S * P], BigInt64Array.from(targets, (x) => BigInt(x))));
    const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--metric', 'nll', '--targets', t, '--top-k', '2', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { scores: number[]; selected: number[]; ranking: number[] };
    const want = await score({ data, dtype: 'bfloat16', rows: S * P, vocab: V }, { segments: S, metric: 'nll', targets, backend: 'cpu' });
    expect(j.scores).toEqual(Array.from(want));
    expect(j.selected).toEqual(j.ranking.slice(0, 2).sort((a, b) => a - b));
    // --devices: the CPU backend ignores the list; a malformed list is a usage error.
    const d = await capture(['--logits', f, '--dtype', 'bfloat16', '--metric', 'nll', '--targets', t, '--json', '--backend', 'cpu', '--devices', '0, 1']);
    expect(d.code).toBe(0);
    expect((JSON.parse(d.out) as { scores: number[] }).scores).toEqual(Array.from(want));
    for (const bad of ['', '0,', 'a', '-1', '0.5', '1024']) {
      const e = await capture(['--logits', f, '--dtype', 'bfloat16', '--backend', 'cpu', `--devices=${bad}`]);
      expect([bad, e.code]).toEqual([bad, 2]);
      expect(e.err).toMatch(/--devices must be comma-separated GPU ordinals/);
    }
  });

  test('raw file with shape flags, table output, token budget', async () => {
    const f = path.join(dir, 'l.bin');
    fs.writeFileSync(f, Buffer.from(data.buffer));
    const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--rows', String(S * P), '--vocab', String(V), '--segments', String(S),
      '--pooling', 'min', '--token-budget', '25', '--segment-tokens', '10', '--overlap-tokens', '5', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/6 segments × 3 positions × vocab 1000/);
    expect(r.out).toMatch(/selected \(chronological\):/);
  });

  test('usage errors exit 2 with a message', async () => {
    expect((await capture([])).code).toBe(2);
    const f = path.join(dir, 'small.bin');
    fs.writeFileSync(f, Buffer.alloc(12));
    expect((await capture(['--logits', f, '--rows', '2'])).err).toMatch(/--rows and --vocab/);
    expect((await capture(['--logits', f, '--rows', '2', '--vocab', '2', '--segments', '1'])).err).toMatch(/bytes/);
    expect((await capture(['--bogus'])).code).toBe(2);
    expect((await capture(['--help'])).out).toMatch(/usage: lengthwise xl3m/);
  });


  test('streamed in chunks: same scores as one call; float64 converted with a notice', async () => {
    const f32 = new Float32Array(S * P * V);
    const r = rng(9);
    for (let i = 0; i < f32.length; i++) f32[i] = (r() * 2 - 1) * 6;
    const want = await score({ data: f32, rows: S * P, vocab: V }, { segments: S, backend: 'cpu' });
    const f = path.join(dir, 'f32.npy');
    fs.writeFileSync(f, npy('<f4', [S * P, V], f32));
    process.env.LENGTHWISE_CLI_CHUNK_BYTES = String(4 * V * 5); // 5 rows a chunk: chunks end inside segments
    try {
      const a = await capture(['--logits', f, '--segments', String(S), '--json', '--backend', 'cpu']);
      expect(a.code).toBe(0);
      expect(JSON.parse(a.out).scores).toEqual(Array.from(want));
      const g = path.join(dir, 'f64.npy');
      fs.writeFileSync(g, npy('<f8', [S, P, V], Float64Array.from(f32)));
      const b = await capture(['--logits', g, '--json', '--backend', 'cpu']);
      expect(b.code).toBe(0);
      expect(b.err).toMatch(/holds float64; converting to float32/);
      expect(JSON.parse(b.out).scores).toEqual(Array.from(want));
    } finally {
      delete process.env.LENGTHWISE_CLI_CHUNK_BYTES;
    }
  });

  test('.npz: stored and deflated members, picked by name; a misnamed file is recognised by its bytes', async () => {
    const logits = npy('<u2', [S, P, V], data);
    const want = await score({ data, dtype: 'bfloat16', rows: S * P, vocab: V }, { segments: S, backend: 'cpu' });
    for (const deflate of [false, true]) {
      const f = path.join(dir, `l${deflate ? 'd' : 's'}.npz`);
      fs.writeFileSync(f, zip([{ name: 'other.npy', data: npy('<i4', [2], Int32Array.from([1, 2])), deflate }, { name: 'logits.npy', data: logits, deflate }]));
      process.env.LENGTHWISE_CLI_CHUNK_BYTES = String(2 * V * 4);
      try {
        const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--json', '--backend', 'cpu']);
        expect(r.err).toBe('');
        expect(JSON.parse(r.out).scores).toEqual(Array.from(want));
      } finally {
        delete process.env.LENGTHWISE_CLI_CHUNK_BYTES;
      }
      expect((await capture(['--logits', f, '--npz-key', 'nope', '--dtype', 'bfloat16'])).err).toMatch(/no array 'nope' \(arrays: other, logits\)/);
    }
    const two = path.join(dir, 'two.npz');
    fs.writeFileSync(two, zip([{ name: 'a.npy', data: logits, deflate: false }, { name: 'b.npy', data: logits, deflate: false }]));
    expect((await capture(['--logits', two, '--dtype', 'bfloat16'])).err).toMatch(/2 arrays \(a, b\); pick one with --npz-key/);
    const misnamed = path.join(dir, 'really-npz.bin');
    fs.copyFileSync(path.join(dir, 'ls.npz'), misnamed);
    expect((await capture(['--logits', misnamed, '--dtype', 'bfloat16', '--json', '--backend', 'cpu'])).code).toBe(0);
    const fake = path.join(dir, 'fake.npz');
    fs.writeFileSync(fake, Buffer.alloc(64));
    expect((await capture(['--logits', fake])).err).toMatch(/not a .npz file/);
  });

  test('a 3-D file whose S disagrees with --segments is rejected, not reshaped; other shape errors', async () => {
    const f = path.join(dir, 'l3.npy');
    fs.writeFileSync(f, npy('<u2', [S, P, V], data));
    const r = await capture(['--logits', f, '--dtype', 'bfloat16', '--segments', '3']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/6 segments, not --segments 3/);
    const two = path.join(dir, 'l2.npy');
    fs.writeFileSync(two, npy('<u2', [S * P, V], data));
    expect((await capture(['--logits', two, '--dtype', 'bfloat16', '--segments', '4'])).err).toMatch(/18 rows are not a multiple of --segments 4/);
    expect((await capture(['--logits', two, '--dtype', 'bfloat16'])).err).toMatch(/--segments S is required/);
    const missing = await capture(['--logits', path.join(dir, 'nope.npy'), '--segments', '2']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read .*nope\.npy: no such file or directory/);
    const ints = path.join(dir, 'i.npy');
    fs.writeFileSync(ints, npy('<i4', [2, 2], Int32Array.from([1, 2, 3, 4])));
    expect((await capture(['--logits', ints, '--segments', '1'])).err).toMatch(/not int32/);
    const trunc = path.join(dir, 't.npy');
    fs.writeFileSync(trunc, npy('<f4', [4, 4], new Float32Array(15)));
    expect((await capture(['--logits', trunc, '--segments', '1'])).err).toMatch(/holds 60 data bytes, its shape \(4, 4\) needs 64/);
  });

  test('demo finds the needle', async () => {
    const text = await demoXl3m();
    expect(text).toMatch(/the secret code of the blue castle is seven four nine/);
    const m = /needle sits in segment (\d+); best by entropy: (\d+)/.exec(text);
    expect(m?.[1]).toBe(m?.[2]);
  });
});
