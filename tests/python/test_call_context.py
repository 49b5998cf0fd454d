"""CallContext's attachments: ``attachment_views`` are read-only views over
the buffers the call was given (no copy); ``attachments`` is made from the
views on first use, once. A ``bytearray`` stands in for the native
transport's AttachmentBuffer (a buffer that is not ``bytes``), so that a
change to it shows whether a view or a copy is being read.
"""

from __future__ import annotations

import array
import gc
import threading

import pytest

from snakepit_worker import Adapter, Reply, command, current_call
from snakepit_worker.context import CallContext
from snakepit_worker.dispatch import Dispatcher


def context(*attachments: object) -> CallContext:
    return CallContext(1, "c", list(attachments), None)


def test_the_context_has_slots_only() -> None:
    assert not hasattr(context(), "__dict__")


def test_views_are_read_only_memoryviews_over_the_buffers() -> None:
    buffer = bytearray(b"hello")
    call = context(buffer, b"", b"abc")
    views = call.attachment_views
    assert [type(v) for v in views] == [memoryview] * 3
    assert all(v.readonly for v in views)
    assert views[0].obj is buffer          # over the buffer itself: no copy
    assert [v.nbytes for v in views] == [5, 0, 3]
    with pytest.raises(TypeError):
        views[0][0] = 0
    buffer[0] = ord("j")
    assert bytes(views[0]) == b"jello"     # the view reads the buffer in place
    assert call.attachment_views is views


def test_views_are_flat_bytes_whatever_the_buffers_format() -> None:
    doubles = array.array("d", [1.0, 2.0])
    (view,) = context(doubles).attachment_views
    assert (view.format, view.ndim, view.nbytes) == ("B", 1, 16)
    assert view.obj is doubles


def test_attachments_are_made_from_the_views_on_first_use_then_kept() -> None:
    buffer = bytearray(b"abc")
    call = context(buffer)
    call.attachment_views                  # views alone make no bytes
    buffer[0] = ord("x")                   # so the bytes, made later, see this
    first = call.attachments
    assert first == [b"xbc"] and type(first[0]) is bytes
    buffer[0] = ord("y")                   # made once: the copy keeps its bytes
    assert call.attachments is first
    assert first == [b"xbc"]


def test_bytes_attachments_are_the_objects_given() -> None:
    blob = b"\x00\x01" * 1000
    call = context(blob)
    assert call.attachments[0] is blob
    assert call.attachment_views[0].obj is blob


def test_attachments_are_made_once_under_racing_threads() -> None:
    call = context(bytearray(1 << 20), bytearray(7))
    start = threading.Barrier(8)
    seen: list[list[bytes]] = []

    def first_use() -> None:
        start.wait()
        seen.append(call.attachments)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(s is seen[0] for s in seen)


def test_a_view_outlives_its_context() -> None:
    call = context(bytearray(b"kept"))
    view = call.attachment_views[0]
    del call
    gc.collect()
    assert bytes(view) == b"kept"


def test_numpy_reads_a_view_in_place() -> None:
    numpy = pytest.importorskip("numpy")
    buffer = bytearray(numpy.arange(4, dtype=numpy.float64).tobytes())
    (view,) = context(buffer).attachment_views
    values = numpy.frombuffer(view, dtype=numpy.float64)
    assert not values.flags.writeable and not values.flags.owndata
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0]
    buffer[:8] = numpy.array([9.0]).tobytes()
    assert values[0] == 9.0                # the same memory, not a copy


def test_a_command_returning_its_request_views_sends_them_uncopied() -> None:
    scratch = bytearray(b"mutable")

    class Echo(Adapter):
        @command
        def echo(self) -> Reply:
            views = current_call().attachment_views
            return Reply(None, attachments=[views[0], views[0][1:3], memoryview(scratch)])

    blob = b"immutable bytes"
    outcome = Dispatcher(Echo()).execute(CallContext(1, "echo", [blob], None), "")
    assert outcome.error is None, outcome.error
    whole, part, copied = outcome.attachments
    # Views of an immutable object are kept as they are: sent without a copy.
    assert isinstance(whole, memoryview) and whole.obj is blob
    assert isinstance(part, memoryview) and part.obj is blob and bytes(part) == b"mm"
    # A view of something the command may still change is copied at return.
    assert type(copied) is bytes and copied == b"mutable"
    scratch[0:1] = b"M"
    assert copied == b"mutable"
