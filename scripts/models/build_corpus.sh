#!/bin/sh
# Public-domain corpus from Debian packages, one chapter per line, verse numbers stripped:
#   $1/kjv.txt  King James Version (bible-kjv-text, read with bible-kjv's `bible`)
#   $1/web.txt  World English Bible, Protestant canon (sword-text-web, read with `diatheke`; public domain)
#   apt-get install -y bible-kjv bible-kjv-text diatheke sword-text-web
set -eu
dir="${1:-.}"
mkdir -p "$dir"
bible -f "Gen1:1-Rev22:21" | awk '
  { ref = $1; sub(/:[0-9]+$/, "", ref); $1 = ""; sub(/^ +/, "");
    if (ref != cur) { if (cur != "") print line; cur = ref; line = $0 } else line = line " " $0 }
  END { print line }' > "$dir/kjv.txt"
diatheke -b engWEB2015eb -f plain -k "Gen 1:1-Rev 22:21" | python3 "$(dirname "$0")/web_text.py" > "$dir/web.txt"
for f in kjv web; do echo "$f: $(wc -l < "$dir/$f.txt") chapters, $(wc -c < "$dir/$f.txt") bytes"; done
