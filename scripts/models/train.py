"""Train the target and the (distilled) draft on KJV + passkey + copy documents; evaluate; save weights.

  python3 train.py DATA_DIR OUT_DIR [--target-steps 4000 --draft-steps 3000 --seed 0 --time-limit 240]
DATA_DIR is tokenize.mjs's output. Writes OUT_DIR/{target,draft}.npz (float16, arch.py layout) and
OUT_DIR/metrics.json (loss curve, validation losses, passkey accuracy, draft/target agreement).
A step's batch: 30% KJV/WEB windows, 60% passkey documents (key redrawn every time, answer tokens weighted x6,
rest of the row filled with text), 10% copy documents (a text span, then " Again:" and the same span).
Residual dropout 0.1 while training (the corpus is small: ~2.2M tokens).
--time-limit (seconds per model) only guards the device budget: hitting it is recorded in metrics.json.
"""
import argparse
import json
import math
import os
import time
import numpy as np
import torch
import torch.nn.functional as F

import arch
from data import Data, ROW, ANSWER_WEIGHT
from model import Llama

DEV = "cuda"
BATCH = 64


def lm_loss(logits, labels, weight=None):
    ce = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), reduction="none")
    if weight is None:
        return ce.mean()
    weight = weight.flatten()
    return (ce * weight).sum() / weight.sum()


def train(model, data, steps, lr, seed, time_limit, teacher=None, log=None):
    torch.manual_seed(seed)
    decay = [p for n, p in model.w.items() if p.dim() == 2]
    other = [p for n, p in model.w.items() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), **({"fused": True} if DEV == "cuda" else {}))
    warm = 100
    sched = lambda s: min(1.0, (s + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    curve, t0, tokens = [], time.time(), 0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * sched(step)
        x, w = (torch.from_numpy(t) for t in data.batch(BATCH))
        x, w = x.to(DEV, non_blocking=True), w.to(DEV, non_blocking=True)
        with torch.autocast(DEV, dtype=torch.bfloat16):
            logits = model(x[:, :-1])
            loss = lm_loss(logits, x[:, 1:], w)
            if teacher is not None:
                with torch.no_grad():
                    t_logits = teacher(x[:, :-1])
                kd = F.kl_div(F.log_softmax(logits.float(), -1), F.log_softmax(t_logits.float(), -1),
                              log_target=True, reduction="none").sum(-1)
                loss = 0.3 * loss + 0.7 * (kd * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += x.shape[0] * ROW
        if step % 100 == 0 or step == steps - 1:
            loss_value = loss.item()
            el = time.time() - t0
            curve.append({"step": step, "loss": round(loss_value, 4), "tokens": tokens, "s": round(el, 1)})
            if step % 500 == 0 or step == steps - 1:
                curve[-1]["valLoss"] = round(val_loss(model, data), 4)
            print(f"[{model.cfg['name']}] {curve[-1]} step {step} loss {loss_value:.4f} {tokens / el / 1e6:.2f}M tok/s", flush=True)
            if el > time_limit:
                print(f"[{model.cfg['name']}] time limit hit at step {step}", flush=True)
                return curve, {"steps": step + 1, "stoppedByTimeLimit": True, "tokens": tokens, "seconds": el}
    return curve, {"steps": steps, "stoppedByTimeLimit": False, "tokens": tokens, "seconds": time.time() - t0}


@torch.no_grad()
def val_loss(model, data):
    model.eval()
    v = torch.from_numpy(data.text["val"]).to(DEV)
    n = (len(v) - 1) // ROW
    inp, lab = v[: n * ROW].view(n, ROW), v[1: n * ROW + 1].view(n, ROW)
    tot = sum(F.cross_entropy(model(inp[i:i + 16]).float().flatten(0, 1), lab[i:i + 16].flatten(), reduction="sum").item()
              for i in range(0, n, 16))
    model.train()
    return tot / (n * ROW)


@torch.no_grad()
def evaluate(model, data, other=None):
    """Validation loss on held-out KJV chapters; greedy passkey accuracy on the 1x-window validation docs.
    Greedy exact match == every answer token is the argmax given the correct earlier tokens."""
    model.eval()
    v = torch.from_numpy(data.text["val"]).to(DEV)
    n = (len(v) - 1) // ROW
    xs = v[: n * ROW + 1]
    inp, lab = xs[:-1].view(n, ROW), xs[1:].view(n, ROW)
    losses, agree, tot = [], 0, 0
    for i in range(0, n, 16):
        lg = model(inp[i:i + 16]).float()
        losses.append(F.cross_entropy(lg.flatten(0, 1), lab[i:i + 16].flatten(), reduction="sum").item())
        if other is not None:
            agree += (lg.argmax(-1) == other(inp[i:i + 16]).float().argmax(-1)).sum().item()
            tot += lg.shape[0] * ROW
    rng_state = data.rng
    data.rng = np.random.default_rng(1234)
    hits, by_depth = [], {}
    for doc in data.docs["val"]:
        ids, ans = data.passkey_row(doc, "val")
        t = torch.from_numpy(ids).to(DEV)[None]
        pred = model(t[:, :-1])[0, ans - 2:ans + 4].argmax(-1)
        ok = bool((pred == t[0, ans - 1:ans + 5]).all().item())
        hits.append(ok)
        by_depth.setdefault(min(4, int(doc["depth"] * 5)), []).append(ok)
    data.rng = rng_state
    model.train()
    out = {"valLoss": sum(losses) / (n * ROW), "valTokens": n * ROW, "passkeyAcc": float(np.mean(hits)),
           "passkeyDocs": len(hits), "passkeyMeanLen": float(np.mean([d["length"] for d in data.docs["val"]])),
           "passkeyAccByDepthFifth": {k: float(np.mean(x)) for k, x in sorted(by_depth.items())}}
    if other is not None:
        out["top1AgreementWithOther"] = agree / tot
    return out


@torch.no_grad()
def torch_vs_numpy(model, seed=3):
    """The PyTorch model (float32, no autocast) against arch.forward (float64) on 40 random tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, model.cfg["vocab"], (1, 40))
    ref, _ = arch.forward(model.cfg, model.numpy_weights(), ids, np.arange(40)[None], arch.causal_bias(1, 40, 0))
    model.eval()
    got = model(torch.from_numpy(ids).to(DEV)).double().cpu().numpy()
    model.train()
    return float(np.abs(got - ref).max())


def round_fp16(model):
    for p in model.parameters():
        p.data = p.data.half().float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--target-steps", type=int, default=4000)
    ap.add_argument("--draft-steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=200)
    ap.add_argument("--draft-time-limit", type=float, default=90)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--smoke", action="store_true", help="tiny configs, for a CPU check of the code path")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    global DEV, BATCH
    DEV, BATCH = a.device, a.batch
    torch.backends.cuda.matmul.allow_tf32 = True
    data = Data(a.data, a.seed)
    cfgs = {"target": arch.config("target", 256, 6, 4, 704, ROW), "draft": arch.config("draft", 96, 2, 3, 256, ROW)}
    if a.smoke:
        cfgs = {"target": arch.config("target", 32, 2, 2, 64, ROW), "draft": arch.config("draft", 16, 1, 1, 32, ROW)}
        data.docs["val"] = data.docs["val"][:8]
        data.text["val"] = data.text["val"][:2049]
    metrics = {"configs": cfgs, "args": vars(a), "torch": torch.__version__}
    torch.manual_seed(a.seed)
    target = Llama(cfgs["target"]).to(DEV)
    target.dropout = a.dropout
    curve, info = train(target, data, a.target_steps, 2e-3, a.seed, a.time_limit)
    round_fp16(target)
    metrics["target"] = {"curve": curve, **info, "eval": evaluate(target, data)}
    print("target eval", json.dumps(metrics["target"]["eval"]), flush=True)
    torch.manual_seed(a.seed + 1)
    draft = Llama(cfgs["draft"]).to(DEV)
    draft.dropout = a.dropout
    target.eval()
    curve, info = train(draft, data, a.draft_steps, 3e-3, a.seed + 1, a.draft_time_limit, teacher=target)
    round_fp16(draft)
    metrics["draft"] = {"curve": curve, **info, "eval": evaluate(draft, data, other=target)}
    print("draft eval", json.dumps(metrics["draft"]["eval"]), flush=True)
    for name, m in (("target", target), ("draft", draft)):
        metrics[name]["torchVsNumpyMaxAbsDiff"] = torch_vs_numpy(m)
        arch.save_weights(os.path.join(a.out, f"{name}.npz"), cfgs[name], m.numpy_weights())
    json.dump(metrics, open(os.path.join(a.out, "metrics.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
