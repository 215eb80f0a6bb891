"""Gzip from shared parts (incremental/gzip.py): a part deflated once is reused across files, and every result is one
valid gzip member."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import zlib

from hypothesis import given
from hypothesis import strategies as st

from syndicator.incremental.gzip import Compressor


@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=8), st.integers(0, 7))
def test_gzip_from_parts_is_the_gzip_of_the_joined_body(parts: list[bytes], shared_index: int) -> None:
    """Shared parts' deflate segments are reused across files; every result is one valid gzip member."""
    shared = [b"<entry>" + bytes(range(256)) * 3 + b"</entry>\n", b"<entry>second</entry>\n"]
    files = [
        [parts[0], shared[0], *parts[1:-1], shared[1], parts[-1]],
        [b"head", shared[shared_index % 2], b"tail"],
        [b"".join(parts)],
    ]
    for file in files:
        zipped = Compressor().parts(file)
        assert gzip.decompress(zipped) == b"".join(file)
        assert zlib.decompress(zipped, 31) == b"".join(file)  # one member, nothing after it
    system_gzip = shutil.which("gzip")
    if system_gzip is not None:
        out = subprocess.run([system_gzip, "-dc"], input=Compressor().parts(files[0]), capture_output=True, check=True)
        assert out.stdout == b"".join(files[0])
