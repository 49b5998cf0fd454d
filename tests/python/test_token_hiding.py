"""The adapter cannot find the worker's token in its own process (issue 14,
item 14a): not through gc.get_objects(), not in any live frame's locals,
not in posix.environ. On both transports (the ``spawn`` fixture runs each).

The one exception is grpcio's: the metadata of an RPC in flight, the
hunting call's own included, is a tuple of ``_Metadatum`` in grpcio's call
objects until the RPC ends, and it holds the token the caller presented
(docs/worker-protocol.md, "What the adapter can see")."""

from __future__ import annotations

import hashlib
import json

from snakepit_worker._proto import worker_pb2 as pb

TOKEN = "5eed" * 16
GOOD = [("snakepit-token", TOKEN)]
HUNTER = "token_hunter:TokenHunterAdapter"


def test_the_adapter_finds_no_trace_of_the_token(spawn, transport: str) -> None:
    worker = spawn("--adapter", HUNTER, env={"SNAKEPIT_WORKER_TOKEN": TOKEN})
    assert worker.record is not None and worker.record["ok"] is True, worker.stderr()
    # The hunter works: it finds a string it is shown.
    planted = "f00d" * 16
    request = worker.request("hunt", {"sha256_hex": hashlib.sha256(planted.encode()).hexdigest(),
                                      "planted": planted})
    reply = worker.stub.Execute(request, metadata=GOOD, timeout=30)
    assert reply.WhichOneof("outcome") == "result", reply
    assert "[]" != reply.result.json
    # And finds no trace of the token, after some calls have gone through.
    assert worker.stub.Health(pb.HealthRequest(), metadata=GOOD, timeout=5).pid > 0
    request = worker.request("hunt", {"sha256_hex": hashlib.sha256(TOKEN.encode()).hexdigest()})
    reply = worker.stub.Execute(request, metadata=GOOD, timeout=30)
    assert reply.WhichOneof("outcome") == "result", reply
    found = json.loads(reply.result.json)
    if transport == "grpcio":
        found = [where for where in found if not where.endswith("> _Metadatum > str")]
    assert found == []
