#!/bin/sh
# Public-domain corpus: the King James Version from Debian's bible-kjv-text (read with bible-kjv's `bible`).
# Writes one chapter per line (verse numbers stripped) to $1 (default kjv.txt).
#   apt-get install -y bible-kjv bible-kjv-text
set -eu
out="${1:-kjv.txt}"
bible -f "Gen1:1-Rev22:21" | awk '
  { ref = $1; sub(/:[0-9]+$/, "", ref); $1 = ""; sub(/^ +/, "");
    if (ref != cur) { if (cur != "") print line; cur = ref; line = $0 } else line = line " " $0 }
  END { print line }' > "$out"
echo "$(wc -l < "$out") chapters, $(wc -c < "$out") bytes -> $out"
