#!/bin/bash
# One GPU call: train both models, export them, and lay the results out for the device tool's $OUT.
#   bash gpu_run.sh DATA_DIR WORK_DIR RESULT_DIR [train.py options]
# RESULT_DIR gets target.onnx split into 15 MB parts (cat target.onnx.part-* > target.onnx), draft.onnx,
# results.tar (sidecars, reference cases, metrics.json) and train.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$1" work="$2" res="$3"
shift 3
export PYTHONUNBUFFERED=1
mkdir -p "$work" "$res"
python3 "$here/train.py" "$data" "$work/weights" "$@" 2>&1 | tee "$res/train.log"
for m in target draft; do
  python3 "$here/export.py" "$work/weights/$m.npz" "$work/onnx" \
    --extra '{"trainedWith": "scripts/models/train.py", "corpus": "KJV (bible-kjv-text) + WEB (sword-text-web) + passkey/copy documents"}' \
    2>&1 | tee -a "$res/train.log"
done
cp "$work/weights/metrics.json" "$work/onnx/"
split -b 15M -d "$work/onnx/target.onnx" "$res/target.onnx.part-"
cp "$work/onnx/draft.onnx" "$res/"
tar -C "$work/onnx" -cf "$res/results.tar" target.json draft.json target.ref.json draft.ref.json metrics.json
sha256sum "$work/onnx/"*.onnx | tee -a "$res/train.log"
