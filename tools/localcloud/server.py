"""Run the AWS API emulator (moto in server mode) with autostack's fidelity patches.

Started by ``localcloud.py start``; not meant to be run by hand. The patches in
``patches.py`` restore AWS behaviours that moto lacks and that the collection's
idempotence or teardown order depend on.

Environment read by the patches: ``LOCALCLOUD_NAT_DELETE_SECONDS`` (how long a NAT
gateway stays ``deleting``, default 1), ``LOCALCLOUD_DISABLE_PATCHES`` (comma-separated
patch names to leave out, to show what a patch fixes), and ``LOCALCLOUD_REGISTRY`` with
``LOCALCLOUD_REGISTRY_PASSWORD_FILE`` (the local registry's ``127.0.0.1:<port>`` and the file
holding its password: ECR then hands out that registry and lists what is pushed to it; without
them ECR is moto's own).

``instrument.py`` adds what the tests use to watch and provoke the emulator: a log of the AWS
API requests it served (``/_localcloud/requests``) and injected faults (``/_localcloud/faults``).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    # Managed policies (AmazonEC2ContainerServiceforEC2Role, ...) exist on AWS; moto
    # only knows them when asked to load them at start.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    import patches  # noqa: E402  (needs the environment above)
    import patches_ecs_service  # noqa: E402,F401  (registers its patches with patches.patch)

    patches.apply_all()

    import instrument  # noqa: E402  (the request log and fault injection, outermost)

    instrument.install()

    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main()
