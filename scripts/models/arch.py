"""Llama-style decoder: config, weight layout and a float64 numpy reference forward.

The reference is what the ONNX graph (export.py) and the PyTorch trainer (train.py) are both checked against,
so it is written for clarity, not speed. Weight layout (all matrices are [in, out], applied as x @ W):
  embed [V, D] (tied: logits = norm(h) @ embed.T), norm [D],
  layers.{i}.{attn_norm [D], wq wk wv wo [D, D], ffn_norm [D], w_gate w_up [D, F], w_down [F, D]}.
"""
import json
import numpy as np

MASK_VALUE = -1e9


def config(name, d_model, layers, heads, ffn, window, vocab=32000, rope_theta=10000.0, norm_eps=1e-5):
    return dict(name=name, dModel=d_model, layers=layers, heads=heads, kvHeads=heads, headDim=d_model // heads,
                ffnDim=ffn, vocab=vocab, window=window, ropeTheta=rope_theta, normEps=norm_eps)


def weight_names(cfg):
    names = ["embed", "norm"]
    for i in range(cfg["layers"]):
        names += [f"layers.{i}.{n}" for n in ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_up", "w_down")]
    return names


def save_weights(path, cfg, weights):
    """weights: dict name -> array; stored as float16 with the config as JSON."""
    arrays = {n: np.asarray(weights[n], dtype=np.float16) for n in weight_names(cfg)}
    np.savez(path, __config__=np.array(json.dumps(cfg)), **arrays)


def load_weights(path):
    z = np.load(path)
    cfg = json.loads(str(z["__config__"]))
    return cfg, {n: z[n] for n in weight_names(cfg)}


def random_weights(cfg, seed):
    rng = np.random.default_rng(seed)
    d, f, v = cfg["dModel"], cfg["ffnDim"], cfg["vocab"]
    w = {"embed": rng.normal(0, 0.5, (v, d)), "norm": 1 + 0.1 * rng.normal(size=d)}
    for i in range(cfg["layers"]):
        p = f"layers.{i}."
        w[p + "attn_norm"] = 1 + 0.1 * rng.normal(size=d)
        w[p + "ffn_norm"] = 1 + 0.1 * rng.normal(size=d)
        for n in ("wq", "wk", "wv", "wo"):
            w[p + n] = rng.normal(0, 1 / np.sqrt(d), (d, d))
        w[p + "w_gate"] = rng.normal(0, 1 / np.sqrt(d), (d, f))
        w[p + "w_up"] = rng.normal(0, 1 / np.sqrt(d), (d, f))
        w[p + "w_down"] = rng.normal(0, 1 / np.sqrt(f), (f, d))
    return {k: v.astype(np.float16) for k, v in w.items()}


def rope_inv_freq(cfg):
    dh = cfg["headDim"]
    half = cfg["ropeTheta"] ** (-np.arange(0, dh // 2, dtype=np.float64) * 2.0 / dh)
    return np.concatenate([half, half])  # [Dh], rotate-half layout


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def causal_bias(batch, s, p):
    """[B,1,S,P+S]: new token s sees all P past positions and new tokens 0..s."""
    b = np.full((s, p + s), MASK_VALUE, dtype=np.float32)
    for r in range(s):
        b[r, : p + r + 1] = 0
    return np.broadcast_to(b, (batch, 1, s, p + s)).copy()


def forward(cfg, w, input_ids, position_ids, bias, past=None):
    """float64 reference. past: list of (k, v) [B,H,P,Dh] or None. Returns logits [B,S,V], present list."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
    b, s = input_ids.shape
    hh, dh, eps = cfg["heads"], cfg["headDim"], cfg["normEps"]
    ang = position_ids[..., None].astype(np.float64) * rope_inv_freq(cfg)  # [B,S,Dh]
    cos, sin = np.cos(ang)[:, None], np.sin(ang)[:, None]  # [B,1,S,Dh]
    x = w["embed"][input_ids]
    present = []
    for i in range(cfg["layers"]):
        p = f"layers.{i}."
        h = rms_norm(x, w[p + "attn_norm"], eps)
        q, k, v = (np.transpose((h @ w[p + n]).reshape(b, s, hh, dh), (0, 2, 1, 3)) for n in ("wq", "wk", "wv"))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = np.concatenate([past[i][0], k], axis=2)
            v = np.concatenate([past[i][1], v], axis=2)
        present.append((k, v))
        sc = q @ np.swapaxes(k, -1, -2) / np.sqrt(dh) + bias
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        att = (sc / sc.sum(-1, keepdims=True)) @ v  # [B,H,S,Dh]
        x = x + np.transpose(att, (0, 2, 1, 3)).reshape(b, s, hh * dh) @ w[p + "wo"]
        h = rms_norm(x, w[p + "ffn_norm"], eps)
        g = h @ w[p + "w_gate"]
        x = x + (g / (1 + np.exp(-g)) * (h @ w[p + "w_up"])) @ w[p + "w_down"]
    return rms_norm(x, w["norm"], eps) @ w["embed"].T, present
