# The numpy composition XL3M scoring is compared with (bench/xl3m.bench.ts): per row entropy (or NLL) from a
# max-shifted softmax, mean-pooled per segment. Prints JSON {median_s, runs, scores}.
import json, sys, time
import numpy as np

path, segments, metric, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
targets_path = sys.argv[5] if len(sys.argv) > 5 else None
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


out = score(raw)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    score(raw)
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({'median_s': times[len(times) // 2], 'runs': runs, 'scores': out.tolist()}))
