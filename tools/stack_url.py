"""Print where WordPress answers for a stack, from its outputs file (what `make up` ends with).

    python tools/stack_url.py [outputs/<stack>.json ...]

The local run's URL (wordpress_local_url, the verify phase on the local cloud) comes first, then
the load balancer's (wordpress_url). Exits 1 when no outputs file names a URL.
"""

import glob
import json
import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def urls(path):
    with open(path) as handle:
        outputs = json.load(handle)
    stack = outputs.get("stack") or os.path.basename(path)[:-len(".json")]
    for key, where in (("wordpress_local_url", "local run"), ("wordpress_url", "load balancer")):
        if outputs.get(key):
            yield stack, where, outputs[key], outputs.get("wordpress_admin_secret_name")


def main(paths):
    paths = paths or sorted(glob.glob(os.path.join(TOP, "outputs", "*.json")))
    found = False
    for path in paths:
        for stack, where, url, admin_secret in urls(path):
            found = True
            line = "WordPress (stack %s, %s): %s" % (stack, where, url)
            if admin_secret and where == "local run":
                line += "  (administrator for the installer: secret %s)" % admin_secret
            print(line)
    if not found:
        print("No WordPress URL in %s: run `make up` first." % (", ".join(paths) or "outputs/"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
