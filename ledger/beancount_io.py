"""Legs <-> beancount books: the books layer's one import, kept for callers of old.

The writer is :mod:`ledger.books_write` (legs -> a book, a commitments file and a forward view
per company), the reader :mod:`ledger.books_read` (books -> reconciled legs), the loader
wrapper :mod:`ledger.books_load` and the chart of accounts :mod:`ledger.accounts`; their
docstrings are the manual.
"""

from __future__ import annotations

from ledger.books_read import BookSet, BooksRead, bean_check, book_sets, check_books, read_books
from ledger.books_write import BookFiles, book_slug, render_books, write_books

__all__ = [
    "BookFiles",
    "BookSet",
    "BooksRead",
    "bean_check",
    "book_sets",
    "book_slug",
    "check_books",
    "read_books",
    "render_books",
    "write_books",
]
