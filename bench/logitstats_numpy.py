# The numpy composition logitStats is compared with (bench/logitStats.bench.ts): log_softmax, entropy, gather
# (NLL of targets) and argmax, the way a numpy user would write it. Serves timing requests on stdin:
#   python3 logitstats_numpy.py LOGITS.npy TARGETS.npy
#   stdin "run" -> seconds of one pass; "check" -> JSON [entropy[0..3], nll[0..3]]; "quit".
import json, sys, time
import numpy as np

x = np.load(sys.argv[1])
t = np.load(sys.argv[2])


def stats(x):
    m = x.max(axis=1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    logp = z - np.log(s)
    p = e / s
    entropy = -(p * logp).sum(axis=1)
    nll = -logp[np.arange(x.shape[0]), t]
    argmax = x.argmax(axis=1)
    return entropy, nll, argmax


print('ready', flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == 'run':
        t0 = time.perf_counter()
        stats(x)
        print(time.perf_counter() - t0, flush=True)
    elif cmd == 'check':
        h, n, a = stats(x)
        print(json.dumps([h[:4].tolist(), n[:4].tolist()]), flush=True)
    else:
        break
