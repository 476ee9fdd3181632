# The numpy composition XL3M scoring is compared with (bench/xl3m.bench.ts): per row entropy (or NLL) from a
# max-shifted softmax, mean-pooled per segment. Serves timing requests on stdin so the caller can interleave
# numpy runs with its own (both then see the same machine load):
#   python3 xl3m_numpy.py LOGITS.npy SEGMENTS METRIC [TARGETS.npy]
#   stdin "run" -> stdout "wall_seconds cpu_seconds" of one scoring; "scores" -> JSON list; "quit".
import json, sys, time
import numpy as np

path, segments, metric = sys.argv[1], int(sys.argv[2]), sys.argv[3]
targets_path = sys.argv[4] if len(sys.argv) > 4 else None
raw = np.load(path)
t = np.load(targets_path) if targets_path else None


def score(raw):
    x = (raw.astype(np.uint32) << 16).view(np.float32) if raw.dtype == np.uint16 else raw
    m = x.max(axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(axis=1)
    if metric == 'nll':
        v = np.log(s) - z[np.arange(x.shape[0]), t]
    else:
        v = np.log(s) - (e * z).sum(axis=1) / s
    return v.reshape(segments, -1).mean(axis=1, dtype=np.float64)


print('ready', flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == 'run':
        t0, c0 = time.perf_counter(), time.process_time()
        score(raw)
        print(time.perf_counter() - t0, time.process_time() - c0, flush=True)
    elif cmd == 'scores':
        print(json.dumps(score(raw).tolist()), flush=True)
    else:
        break
