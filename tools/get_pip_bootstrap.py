"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches ``get-pip-<version>.py`` from a host that this project's machines cannot
reach (only package registries are reachable), then runs it with pip's arguments inside each
sanity-test virtualenv. This script does the same job with what is at hand: the interpreter's
bundled ``ensurepip``, then ``pip install`` of the requested versions from the package index.
``tools/setup.sh`` copies it to ``~/.ansible/test/cache/get_pip_<version>.py`` when that is absent.
"""

import ensurepip
import subprocess
import sys

# get-pip.py options that are not pip's own.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    ensurepip.bootstrap(upgrade=True)
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))


if __name__ == "__main__":
    main()
