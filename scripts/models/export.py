"""Build the ONNX graph of a Llama-style decoder (arch.py layout) directly with onnx.helper.

Usage: python3 export.py WEIGHTS.npz OUT_DIR [--bos 1 --eos 2]
Writes OUT_DIR/<name>.onnx, <name>.json (sidecar, interface in models/README.md) and <name>.ref.json
(a float64 numpy reference of two calls, past-free then with past and a tree bias, for check.mjs).
Weights stay float16 in the file and are cast to float32 inside the graph; all I/O is float32 / int64.
Written by hand (not torch.onnx) so the graph is exactly the contract and identical for any torch version.
"""
import argparse
import hashlib
import json
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import arch

OPSET = 17
IR_VERSION = 8


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def op(self, kind, inputs, out=None, **attrs):
        self.n += 1
        out = out or f"{kind.lower()}_{self.n}"
        self.nodes.append(helper.make_node(kind, inputs, [out], name=f"n{self.n}_{kind}", **attrs))
        return out

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight32(self, name, array16):
        return self.op("Cast", [self.const(name, np.asarray(array16, dtype=np.float16))], name + ".f32",
                       to=TensorProto.FLOAT)

    def rms_norm(self, x, w, eps):
        ms = self.op("ReduceMean", [self.op("Mul", [x, x])], axes=[-1], keepdims=1)
        return self.op("Mul", [self.op("Div", [x, self.op("Sqrt", [self.op("Add", [ms, eps])])]), w])


def rotate_half_matrix(dh):
    """x @ R == concat(-x[h:], x[:h]) (rotate-half RoPE)."""
    h, r = dh // 2, np.zeros((dh, dh), dtype=np.float32)
    for j in range(h):
        r[j + h, j] = -1.0
        r[j, j + h] = 1.0
    return r


def build(cfg, w):
    g = Graph()
    L, H, Dh, D, V = cfg["layers"], cfg["heads"], cfg["headDim"], cfg["dModel"], cfg["vocab"]
    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "S"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["B", "S"]),
              helper.make_tensor_value_info("attention_bias", f32, ["B", 1, "S", "T"])]
    outputs = [helper.make_tensor_value_info("logits", f32, ["B", "S", V])]
    for i in range(L):
        for kv in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kv}", f32, ["B", H, "P", Dh]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kv}", f32, ["B", H, "T", Dh]))

    eps = g.const("norm_eps", np.array(cfg["normEps"], dtype=np.float32))
    scale = g.const("attn_scale", np.array(1.0 / np.sqrt(Dh), dtype=np.float32))
    rot = g.const("rope_rotate_half", rotate_half_matrix(Dh))
    inv_freq = g.const("rope_inv_freq", arch.rope_inv_freq(cfg).astype(np.float32))
    heads_shape = g.const("shape_heads", np.array([0, 0, H, Dh], dtype=np.int64))
    model_shape = g.const("shape_model", np.array([0, 0, D], dtype=np.int64))
    flat_shape = g.const("shape_flat", np.array([-1, D], dtype=np.int64))
    vocab_dim = g.const("vocab_dim", np.array([V], dtype=np.int64))
    ax1, ax2 = g.const("axis1", np.array([1], dtype=np.int64)), g.const("axis2", np.array([2], dtype=np.int64))

    pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=f32), ax2])  # [B,S,1]
    ang = g.op("Mul", [pos, inv_freq])  # [B,S,Dh]
    cos = g.op("Unsqueeze", [g.op("Cos", [ang]), ax1])  # [B,1,S,Dh]
    sin = g.op("Unsqueeze", [g.op("Sin", [ang]), ax1])
    embed = g.weight32("embed", w["embed"])
    x = g.op("Gather", [embed, "input_ids"], axis=0)

    def heads(t):
        return g.op("Transpose", [g.op("Reshape", [t, heads_shape])], perm=[0, 2, 1, 3])

    def rope(t):
        return g.op("Add", [g.op("Mul", [t, cos]), g.op("Mul", [g.op("MatMul", [t, rot]), sin])])

    for i in range(L):
        p = f"layers.{i}."
        W = {}
        for n in ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_up", "w_down"):
            W[n] = g.weight32(p + n, w[p + n])
        h = g.rms_norm(x, W["attn_norm"], eps)
        q = rope(heads(g.op("MatMul", [h, W["wq"]])))
        k = rope(heads(g.op("MatMul", [h, W["wk"]])))
        v = heads(g.op("MatMul", [h, W["wv"]]))
        k_all = g.op("Concat", [f"past_key_values.{i}.key", k], f"present.{i}.key", axis=2)
        v_all = g.op("Concat", [f"past_key_values.{i}.value", v], f"present.{i}.value", axis=2)
        scores = g.op("MatMul", [q, g.op("Transpose", [k_all], perm=[0, 1, 3, 2])])
        scores = g.op("Add", [g.op("Mul", [scores, scale]), "attention_bias"])
        att = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v_all])
        att = g.op("Reshape", [g.op("Transpose", [att], perm=[0, 2, 1, 3]), model_shape])
        x = g.op("Add", [x, g.op("MatMul", [att, W["wo"]])])
        h = g.rms_norm(x, W["ffn_norm"], eps)
        gate = g.op("MatMul", [h, W["w_gate"]])
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), g.op("MatMul", [h, W["w_up"]])])
        x = g.op("Add", [x, g.op("MatMul", [act, W["w_down"]])])

    h = g.rms_norm(x, g.weight32("norm", w["norm"]), eps)
    flat = g.op("Gemm", [g.op("Reshape", [h, flat_shape]), embed], transB=1)  # tied head, [B*S, V]
    out_shape = g.op("Concat", [g.op("Shape", ["input_ids"]), vocab_dim], axis=0)
    g.op("Reshape", [flat, out_shape], "logits")

    graph = helper.make_graph(g.nodes, cfg["name"], inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lengthwise scripts/models/export.py")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def tree_case(cfg, w, seed=7):
    """Two reference calls: 3 tokens with P=0, then a 4-node tree (parents [-1,0,0,1]) with P=3, B=2."""
    rng = np.random.default_rng(seed)
    ids0 = rng.integers(3, cfg["vocab"], (2, 3))
    pos0 = np.tile(np.arange(3), (2, 1))
    _, past = arch.forward(cfg, w, ids0, pos0, arch.causal_bias(2, 3, 0))
    parents, depth = [-1, 0, 0, 1], [0, 1, 1, 2]
    bias = np.full((4, 7), arch.MASK_VALUE, dtype=np.float32)
    bias[:, :3] = 0
    for s in range(4):
        a = s
        while a >= 0:
            bias[s, 3 + a] = 0
            a = parents[a]
    bias = np.broadcast_to(bias, (2, 1, 4, 7)).copy()
    ids1 = rng.integers(3, cfg["vocab"], (2, 4))
    pos1 = np.tile(3 + np.array(depth), (2, 1))
    logits, _ = arch.forward(cfg, w, ids1, pos1, bias, past)
    return {"ids0": ids0.tolist(), "pos0": pos0.tolist(), "ids1": ids1.tolist(), "pos1": pos1.tolist(),
            "parents": parents, "bias1": bias[0, 0].tolist(), "logitsHead": logits[..., :64].tolist(),
            "argmax": logits.argmax(-1).tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("out_dir")
    ap.add_argument("--bos", type=int, default=1)
    ap.add_argument("--eos", type=int, default=2)
    ap.add_argument("--extra", default="{}", help="JSON merged into the sidecar (provenance)")
    a = ap.parse_args()
    cfg, w = arch.load_weights(a.weights)
    os.makedirs(a.out_dir, exist_ok=True)
    path = os.path.join(a.out_dir, cfg["name"] + ".onnx")
    data = build(cfg, w).SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    side = {"name": cfg["name"], "format": "lengthwise-model-v1", "architecture": "llama", **cfg,
            "bosId": a.bos, "eosId": a.eos, "padId": 0, "tokenizer": "llama-tokenizer-js", "tokenizerVocab": 32000,
            "maskValue": arch.MASK_VALUE, "logitsDtype": "float32", "kvDtype": "float32", "weightsDtype": "float16",
            "onnx": cfg["name"] + ".onnx", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            **json.loads(a.extra)}
    with open(os.path.join(a.out_dir, cfg["name"] + ".json"), "w") as f:
        json.dump(side, f, indent=2)
    with open(os.path.join(a.out_dir, cfg["name"] + ".ref.json"), "w") as f:
        json.dump(tree_case(cfg, w), f)
    print(f"{path}: {len(data)} bytes sha256 {side['sha256']}")


if __name__ == "__main__":
    main()
