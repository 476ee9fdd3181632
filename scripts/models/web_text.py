"""diatheke plain output (stdin) -> one chapter per line (stdout), verse references stripped.

diatheke prints "Book C:V: text" (sometimes indented), poetry on the following lines, and repeats a psalm's
heading line before every verse; the heading is kept once, at the start of its chapter.
"""
import re
import sys

REF = re.compile(r"^\s*([1-4]?\s?[A-Z][A-Za-z ]*?) (\d+):(\d+): ?(.*)$")
chapter, heading, pending, out = None, None, [], []
for raw in sys.stdin.read().split("\n"):
    line = raw.strip()
    if line == "(engWEB2015eb)" or line == "":
        continue
    m = REF.match(raw)
    if not m:
        pending.append(line)
        continue
    key = (m.group(1), m.group(2))
    if key != chapter:
        heading = pending[-1] if pending and chapter is not None and pending[-1] != heading else heading
        # pending lines before a new chapter: the end of the last verse, then possibly the new heading
        if chapter is not None:
            tail = [p for p in pending if p != heading]
            out[-1] += "".join(" " + p for p in tail)
            out.append((heading + " " if heading in pending else "") + m.group(4))
        else:
            out.append(" ".join(pending + [m.group(4)]))
        chapter = key
    else:
        out[-1] += "".join(" " + p for p in pending if p != heading) + " " + m.group(4)
    pending = []
out[-1] += "".join(" " + p for p in pending)
# chapters the reference pattern or the plain filter missed (markup, "Esther (Greek)") are left out
keep = [c for c in out if "<" not in c and not re.search(r"\d+:\d+", c)]
sys.stdout.write("\n".join(re.sub(r"\s+", " ", c).strip() for c in keep) + "\n")
