#!/usr/bin/env python3
"""Group the failures of schemathesis NDJSON reports: one line per
(operation, check, failure title, status), with a count and one example
(request and response) each.  usage: failures.py OUT/*.ndjson [-v]"""
import base64
import json
import sys
from collections import OrderedDict

verbose = "-v" in sys.argv
files = [a for a in sys.argv[1:] if a != "-v"]
groups = OrderedDict()
errors = []
for f in files:
    for line in open(f):
        e = json.loads(line)
        if "NonFatalError" in e or "FatalError" in e:
            errors.append((f, json.dumps(e)[:1500]))
        s = e.get("ScenarioFinished")
        if not s or s.get("status") == "success":
            continue
        rec = s["recorder"]
        for cid, checks in (rec.get("checks") or {}).items():
            for c in checks:
                if c["status"] != "failure":
                    continue
                fi = c["failure_info"]["failure"]
                inter = rec["interactions"].get(cid) or {}
                resp = inter.get("response") or {}
                req = inter.get("request") or {}
                status = resp.get("status_code")
                key = (f.rsplit("/", 1)[-1].split(".")[0], fi["operation"], c["name"], fi["title"], status)
                g = groups.setdefault(key, {"n": 0, "ex": None})
                g["n"] += 1
                if g["ex"] is None:
                    body = resp.get("content") or {}
                    if "$base64" in body:
                        body = base64.b64decode(body["$base64"]).decode("utf-8", "replace")
                    rb = req.get("body") or {}
                    if isinstance(rb, dict) and "$base64" in rb:
                        rb = base64.b64decode(rb["$base64"]).decode("utf-8", "replace")
                    g["ex"] = {
                        "msg": fi.get("message", "")[:400],
                        "req": f'{req.get("method")} {req.get("uri")}',
                        "req_body": str(rb)[:300],
                        "req_headers": {k: v for k, v in (req.get("headers") or {}).items() if k.lower() not in ("user-agent", "accept-encoding", "accept", "connection", "content-length")},
                        "resp": str(body)[:300],
                        "phase": s.get("phase"),
                    }
for (run, op, check, title, status), g in groups.items():
    print(f"{run:10} {op:45} {check:28} {status}  x{g['n']}  {title}")
    if verbose:
        ex = g["ex"]
        print(f"    phase={ex['phase']} {ex['req']} headers={ex['req_headers']}")
        if ex["req_body"] not in ("", "{}"):
            print(f"    body: {ex['req_body']}")
        print(f"    msg: {ex['msg']!r}")
        print(f"    resp: {ex['resp']}")
for f, e in errors:
    print("ERROR", f, e)
