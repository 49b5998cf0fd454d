"""An adapter whose module starts a thread when it is imported: a template
must refuse to fork it (fork_safety.py) and the pool spawns its workers."""

import threading

from snakepit_worker.showcase import ShowcaseAdapter

threading.Thread(target=threading.Event().wait, name="import-time-thread", daemon=True).start()


class ThreadAtImport(ShowcaseAdapter):
    pass
