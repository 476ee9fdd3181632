"""PyTorch twin of arch.py (same weight names and layout: matrices [in, out], tied embedding/head)."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

import arch


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = q.shape[-2]  # torch < 2.0 (Debian's CPU torch, smoke tests only)
    mask = torch.ones(s, s, dtype=torch.bool, device=q.device).tril()
    sc = (q @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1])
    return (sc.masked_fill(~mask, float("-inf")).softmax(-1).to(v.dtype)) @ v


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.dropout = 0.0  # residual-branch dropout, training only (the exported graph has none)
        d, f, v, n = cfg["dModel"], cfg["ffnDim"], cfg["vocab"], cfg["layers"]
        shapes = {"embed": (v, d), "norm": (d,)}
        for i in range(n):
            p = f"layers.{i}."
            shapes.update({p + "attn_norm": (d,), p + "ffn_norm": (d,), p + "wq": (d, d), p + "wk": (d, d),
                           p + "wv": (d, d), p + "wo": (d, d), p + "w_gate": (d, f), p + "w_up": (d, f),
                           p + "w_down": (f, d)})
        self.names = arch.weight_names(cfg)
        self.w = nn.ParameterDict()
        for name in self.names:
            shape = shapes[name]
            if len(shape) == 1:
                t = torch.ones(shape)
            else:
                std = 0.02 / math.sqrt(2 * n) if name.endswith(("wo", "w_down")) else 0.02
                t = torch.randn(shape) * std
            self.w[name.replace(".", "_")] = nn.Parameter(t)
        self.register_buffer("inv_freq", torch.tensor(arch.rope_inv_freq(cfg), dtype=torch.float32), persistent=False)

    def W(self, name):
        return self.w[name.replace(".", "_")]

    def rms(self, x, name):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.cfg["normEps"])).to(x.dtype) * self.W(name).to(x.dtype)

    def forward(self, ids, pos=None):
        b, s = ids.shape
        hh, dh = self.cfg["heads"], self.cfg["headDim"]
        if pos is None:
            pos = torch.arange(s, device=ids.device).expand(b, s)
        ang = pos[..., None].float() * self.inv_freq
        cos, sin = ang.cos()[:, None], ang.sin()[:, None]

        def rope(t):
            h = t.shape[-1] // 2
            rot = torch.cat([-t[..., h:], t[..., :h]], dim=-1)
            return (t.float() * cos + rot.float() * sin).to(t.dtype)

        x = F.embedding(ids, self.W("embed"))
        for i in range(self.cfg["layers"]):
            p = f"layers.{i}."
            h = self.rms(x, p + "attn_norm")
            q, k, v = ((h @ self.W(p + n)).view(b, s, hh, dh).transpose(1, 2) for n in ("wq", "wk", "wv"))
            att = attention(rope(q), rope(k), v)
            x = x + self.drop(att.transpose(1, 2).reshape(b, s, hh * dh) @ self.W(p + "wo"))
            h = self.rms(x, p + "ffn_norm")
            x = x + self.drop((F.silu(h @ self.W(p + "w_gate")) * (h @ self.W(p + "w_up"))) @ self.W(p + "w_down"))
        return self.rms(x, "norm") @ self.W("embed").t()

    def drop(self, t):
        return F.dropout(t, self.dropout, self.training) if self.dropout > 0 else t

    def numpy_weights(self):
        return {n: self.W(n).detach().float().cpu().numpy() for n in self.names}
