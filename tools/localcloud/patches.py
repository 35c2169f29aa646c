"""Fidelity patches for moto: each restores one AWS behaviour the stack relies on.

Every patch is a function named ``patch_<what>`` registered in ``PATCHES``; each has a
test in ``tests/localcloud/`` that shows the AWS behaviour it restores.
"""

PATCHES = []


def patch(func):
    PATCHES.append(func)
    return func


def apply_all():
    for func in PATCHES:
        func()
