"""cmark-gfm, the Markdown library, through cmarkgfm's bindings, freeing what they leave allocated.

Markdown text in, HTML out (CommonMark, tables, footnotes; raw HTML kept for the
sanitizer). No I/O.
"""

from __future__ import annotations

import ctypes

from cmarkgfm import _cmark
from cmarkgfm.cmark import Options

# Raw HTML passes through cmark and is cleaned by nh3; footnotes ([^1]) become links to a list of notes.
MARKDOWN_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES


class _Cmark:
    """cmark-gfm through cmarkgfm's bindings, freeing what they leave allocated.

    cmarkgfm's ``markdown_to_html*`` helpers never free the document tree or the
    rendered string (about 20 KB a post), which a long-running server and a
    100,000-post build cannot afford. Both are freed here with cmark's own
    ``cmark_node_free`` and the C library's ``free`` (cmark's default allocator),
    called through ctypes: a cffi declaration of the two is parsed by pycparser
    at every start (16 ms of each process that renders Markdown).
    """

    def __init__(self) -> None:
        self.lib, self.ffi = _cmark.lib, _cmark.ffi
        self.lib.cmark_gfm_core_extensions_ensure_registered()
        self.table = self.lib.cmark_find_syntax_extension(b"table")
        self.free_node = _void_function(ctypes.CDLL(_cmark.__file__).cmark_node_free)
        self.free = _void_function(ctypes.CDLL(None).free)

    def _pointer(self, value: object) -> int:
        return int(self.ffi.cast("uintptr_t", value))

    def to_html(self, text: str, options: int) -> str:
        lib = self.lib
        data = text.encode("utf-8", "surrogatepass")
        parser = lib.cmark_parser_new(options)
        try:
            lib.cmark_parser_attach_syntax_extension(parser, self.table)
            lib.cmark_parser_feed(parser, data, len(data))
            root = lib.cmark_parser_finish(parser)
            try:
                raw = lib.cmark_render_html(root, options, lib.cmark_parser_get_syntax_extensions(parser))
                try:
                    return str(self.ffi.string(raw).decode("utf-8", "replace"))
                finally:
                    self.free(self._pointer(raw))
            finally:
                self.free_node(self._pointer(root))
        finally:
            lib.cmark_parser_free(parser)


def _void_function(function: ctypes._NamedFuncPointer) -> ctypes._NamedFuncPointer:
    """A C function taking one pointer and returning nothing."""
    function.argtypes, function.restype = [ctypes.c_void_p], None
    return function


CMARK = _Cmark()  # the library, bound once (a handle, not a cache)
