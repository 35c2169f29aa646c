"""Make ``ansible_collections.autostack.wordpress`` importable in unit tests.

The checkout is linked as ``collections/ansible_collections/autostack/wordpress`` (``make setup``);
``ansible_collections`` is a namespace package, so this path merges with the installed collections.
"""

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(TOP, "collections")

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
