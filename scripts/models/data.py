"""Training batches from tokenize.mjs's output (numpy only, shared by train.py and the checks)."""
import json
import os
import numpy as np

ROW = 512  # window
ANSWER_WEIGHT = 6.0
MIX = (0.3, 0.9)  # batch rows: text below the first, passkey below the second, copy above


class Data:
    def __init__(self, d, seed):
        self.meta = json.load(open(os.path.join(d, "meta.json")))
        rd = lambda n: np.fromfile(os.path.join(d, n), dtype="<u2").astype(np.int64)
        self.text = {s: rd(f"text_{s}.u16") for s in ("train", "val")}
        self.pk = {s: rd(f"passkey_{s}.u16") for s in ("train", "val")}
        self.docs = {s: self.meta[f"passkey_{s}"] for s in ("train", "val")}
        self.digits = np.array(self.meta["digitIds"])
        self.rng = np.random.default_rng(seed)

    def text_span(self, n, split="train"):
        o = self.rng.integers(0, len(self.text[split]) - n)
        return self.text[split][o:o + n]

    def passkey_row(self, doc, split="train"):
        ids = self.pk[split][doc["offset"]:doc["offset"] + doc["length"]].copy()
        key = np.concatenate([self.rng.integers(1, 10, 1), self.rng.integers(0, 10, 4)])
        for g in doc["groups"]:
            ids[g:g + 5] = self.digits[key]
        return ids, doc["groups"][-1]

    def batch(self, b):
        x = np.zeros((b, ROW + 1), dtype=np.int64)
        w = np.ones((b, ROW), dtype=np.float32)
        kinds = self.rng.random(b)
        for r in range(b):
            if kinds[r] < MIX[0]:
                x[r] = self.text_span(ROW + 1)
                continue
            if kinds[r] < MIX[1]:
                ids, ans = self.passkey_row(self.docs["train"][self.rng.integers(len(self.docs["train"]))])
                w[r, ans - 2:ans + 4] = ANSWER_WEIGHT  # label t is token t+1: "▁" + 5 digits
            else:
                n = int(self.rng.integers(16, 240))
                span = self.text_span(n)
                ids = np.concatenate([self.meta["copy"]["repeat"], span, self.meta["copy"]["then"], span, [2]])
            x[r, :len(ids)] = ids
            x[r, len(ids):] = self.text_span(ROW + 1 - len(ids))
        return x, w
