"""The showcase adapter's ``preload`` (examples/hybrid_pools/pools.json has
``"preload": ["matmul"]``): it warms the named commands up in ``setup``,
so numpy is loaded before the worker reports ready, and refuses names it
does not know. Each check runs in a fresh interpreter, where numpy is not
loaded yet."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from snakepit_worker.showcase import ShowcaseAdapter


def numpy_loaded_after_setup(preload: list[str]) -> bool:
    script = ("import json, sys\n"
              "from snakepit_worker.showcase import ShowcaseAdapter\n"
              "ShowcaseAdapter().setup(json.loads(sys.argv[1]))\n"
              "print('numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script, json.dumps(preload)], check=True,
                         capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": ":".join(sys.path)})
    return out.stdout.strip() == "True"


def test_preloading_matmul_loads_numpy_before_the_first_call() -> None:
    assert numpy_loaded_after_setup(["matmul"])
    assert not numpy_loaded_after_setup([])


def test_an_unknown_preload_name_fails_the_start_naming_it() -> None:
    expected = r"preload: the showcase adapter warms up \['matmul'\], not 'model.bin'"
    with pytest.raises(ValueError, match=expected):
        ShowcaseAdapter().setup(["model.bin"])
