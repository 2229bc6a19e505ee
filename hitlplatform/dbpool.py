"""A forked child (Celery prefork, the audit verifier's segments) must not use its parent's connection
pool: the pool's threads did not survive the fork and its sockets belong to the parent. The child
forgets the inherited pools (without closing them: that would close the parent's connections) and
makes its own at its first query."""

import os
import sys


def _forget_inherited_pools() -> None:
    backend = sys.modules.get("django.db.backends.postgresql.base")
    if backend is not None:
        backend.DatabaseWrapper._connection_pools.clear()


os.register_at_fork(after_in_child=_forget_inherited_pools)
