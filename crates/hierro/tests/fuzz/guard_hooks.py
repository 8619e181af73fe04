"""Schemathesis hooks for Hierro's fuzz gate: a guard that keeps the run from
locking itself out, and nothing else.

Every request schemathesis sends (all phases, and the extra requests checks
such as use_after_free or ignored_auth make) passes `before_call`. A request
whose arguments name something the run itself depends on -- its own
principal, token, or the host's management network -- gets that one argument
changed to a name that does not exist (suffix GUARD), so the server answers
404/400 as it would for any unknown name. Nothing else is changed, no
response or failure is filtered.

Protected values come from the environment (comma-separated):
  FUZZ_PROTECT_USERS    user names (login, user deletion, permissions, groups)
  FUZZ_PROTECT_TOKENS   center API token ids, host service-token names
  FUZZ_PROTECT_NAMES    host network names the management path uses
                        (vmk0, its port group, its vSwitch)
"""

import os
from urllib.parse import unquote

import schemathesis

GUARD = "-fuzzguard"


def _set(name):
    return {v for v in os.environ.get(name, "").split(",") if v}


USERS = _set("FUZZ_PROTECT_USERS")
TOKENS = _set("FUZZ_PROTECT_TOKENS")
NAMES = _set("FUZZ_PROTECT_NAMES")
PRINCIPALS = {f"user:{u}" for u in USERS}
LOG = os.environ.get("FUZZ_GUARD_LOG")


def _note(case, what):
    if LOG:
        with open(LOG, "a") as f:
            f.write(f"{case.operation.method.upper()} {case.operation.path}: {what}\n")


def _guard_map(case, mapping, protected, keys):
    if not isinstance(mapping, dict):
        return
    for k in keys:
        v = mapping.get(k)
        # Values from links (stateful phase) arrive percent-encoded.
        if isinstance(v, str) and (v in protected or unquote(v) in protected):
            mapping[k] = v + GUARD
            _note(case, f"{k}={v!r} -> {mapping[k]!r}")


@schemathesis.hook
def before_call(context, case, kwargs):
    method = case.operation.method.upper()
    path = case.operation.path
    params = case.path_parameters
    # Logins: random names are harmless (an unknown account locks only
    # itself); the run's own accounts must not collect failures.
    if path == "/api/session" and method == "POST":
        _guard_map(case, case.body, USERS, ["username"])
    # Center: the run's user, its permissions, its API token.
    if method != "GET":
        _guard_map(case, params, USERS, ["name", "user"])
        _guard_map(case, params, TOKENS, ["id", "name"])
        _guard_map(case, case.query, PRINCIPALS, ["principal"])
        if isinstance(case.body, dict):
            _guard_map(case, case.body.get("principal"), USERS, ["user"])
    # Host network (directly, or through the center's host port group
    # routes): the management path.
    if method in ("PUT", "DELETE") and "/network/" in path:
        _guard_map(case, params, NAMES, ["name"])
        _guard_map(case, case.body, NAMES, ["name"])
