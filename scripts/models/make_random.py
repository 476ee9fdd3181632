"""Random-weight dev models with the real interface: python3 make_random.py OUT_DIR"""
import sys
import os
import arch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for cfg, seed in ((arch.config("target", 256, 4, 4, 688, 512), 1), (arch.config("draft", 64, 2, 2, 172, 512), 2)):
    arch.save_weights(os.path.join(out, cfg["name"] + ".npz"), cfg, arch.random_weights(cfg, seed))
