"""Output sets: the files one roundtrip writer puts in a folder, written, replaced and owned as one.

``roundtrip book`` (the books), ``net --eliminations`` (the eliminations) and ``roundtrip report``
(the reports) each write a *set* of files into a folder the user names. A set is

- **owned**: the folder's manifest ``.roundtrip-manifest.json`` names the set's kind and every
  file it wrote (with its SHA-256). The next run of the same writer replaces exactly those files:
  it removes the ones its new set no longer has (the book of a company that left the input) and
  never touches a file the manifest does not name (a user's own notes stay). A folder holds one
  set: a writer of another kind is refused there, and so is a folder that is one of the run's
  inputs (``net BOOKS --eliminations BOOKS`` would turn the eliminations into books);
- **atomic as a set**: a reader of the folder sees the whole old set or the whole new one, never
  a mix, even when the writer is interrupted (Ctrl-C) or killed (SIGKILL, power loss).

How (stage -> fsync -> swap -> manifest), in the manner of a database's rollback journal
(SQLite's "atomic commit", https://sqlite.org/atomiccommit.html): the new files are written into
``<folder>/.roundtrip-staging/new/`` and fsynced; the new manifest is staged last, which marks
the stage ready. The swap then moves every file the set replaces or drops aside into
``.roundtrip-staging/old/``, moves the new files into place, and commits by renaming the staged
manifest over the folder's manifest (one atomic ``rename``). Until that rename, the staging
folder holds everything needed to put the old set back; after it, the new set is complete and
the staging folder is only deleted. Whoever next opens the folder — a writer, or a reader through
:func:`recover` — finishes the job: it rolls back a swap that did not reach its commit and
removes the staging folder, so nothing is left behind. Writers of one folder take an exclusive
``flock`` on it, so two runs never interleave.

In: a folder, a kind (``books``, ``eliminations``, ``reports``), the files. Out: the final paths;
refusals (a folder of another kind, an input as output, foreign files, a write that fails) as
:class:`~ledger.model.BadInput` with ``file: message`` records, the folder unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ledger.model import BadInput, CannotWrite, LedgerError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking, the rest holds
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MANIFEST",
    "STAGING",
    "Manifest",
    "Stage",
    "read_manifest",
    "recover",
    "refuse_inputs",
    "replace_file",
    "staged",
    "write_set",
]

#: The manifest of the set a folder holds.
MANIFEST = ".roundtrip-manifest.json"
#: Where a writer stages its set; removed by the writer, or by whoever next opens the folder.
STAGING = ".roundtrip-staging"
_RESERVED = ".roundtrip-"
_FORMAT = "roundtrip output set"
_FLUSHERS = 16  # threads flushing (or deleting) staged files at once
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Manifest:
    """Which set a folder holds: its kind and ``{relative path: sha256 hex}`` of its files."""

    kind: str
    files: Mapping[str, str]

    def text(self) -> str:
        """The manifest file: deterministic (sorted, no dates), so a committed one stays put."""
        data = {
            "format": _FORMAT,
            "version": _VERSION,
            "set": self.kind,
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


class Stage:
    """A set being written: put its files under :attr:`folder`, with their final layout."""

    def __init__(self, out_dir: Path, folder: Path) -> None:
        self.out_dir = out_dir
        self.folder = folder

    def write_text(self, name: str, text: str) -> Path:
        """Stage one file (``name`` relative, ``/``-separated); returns its final path."""
        path = self.folder / _relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return self.out_dir / _relative(name)

    def final(self, staged: Path) -> Path:
        """Where a file staged at ``staged`` ends up once the set is committed."""
        return self.out_dir / Path(staged).relative_to(self.folder)


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of ``folder``, or None when it holds no set.

    Raises:
        BadInput: the manifest is there but is not one roundtrip wrote (edited or truncated).
    """
    path = Path(folder) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput([LedgerError(str(path), 0, f"cannot read the manifest: {exc}")]) from None
    try:
        data = json.loads(text)
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise ValueError("not a roundtrip manifest of version 1")
        files = {str(_relative(name)): str(digest) for name, digest in data["files"].items()}
        return Manifest(str(data["set"]), files)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = (
            f"not a manifest roundtrip wrote ({exc}); it names the files roundtrip owns in "
            "this folder: restore it, or delete it to let roundtrip write here afresh"
        )
        raise BadInput([LedgerError(str(path), 0, message)]) from None


def refuse_inputs(out_dir: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that is one of the run's input folders.

    Raises:
        BadInput: ``out_dir`` is an input folder (writing there would change the input).
    """
    out = Path(out_dir).resolve()
    for source in inputs:
        if Path(source).is_dir() and Path(source).resolve() == out:
            message = (
                f"is an input of this run: writing here would change what was read; "
                f"choose another folder (e.g. {Path(out_dir).name}-out/)"
            )
            raise BadInput([LedgerError(str(out_dir), 0, message)])


def recover(folder: Path) -> tuple[LedgerError, ...]:
    """Finish what an interrupted writer left in ``folder``: the old set back, no staging left.

    A no-op (and no lock taken) when the folder has no staging folder, so readers call it
    freely before they read, as SQLite rolls back a hot journal on open.

    Returns:
        One error naming the folder when the interrupted write cannot be undone (e.g. the
        folder became read-only); the folder is then left as it is.
    """
    folder = Path(folder)
    if not (folder / STAGING).exists():
        return ()
    try:
        with _locked(folder):
            _roll_back(folder, folder / STAGING)
    except OSError as exc:
        message = f"cannot finish an interrupted roundtrip write in this folder: {exc}"
        return (LedgerError(str(folder), 0, message),)
    return ()


@contextmanager
def staged(
    out_dir: Path,
    kind: str,
    *,
    inputs: Sequence[Path] = (),
    foreign: str | None = None,
) -> Iterator[Stage]:
    """Stage a set of ``kind`` for ``out_dir``; commit it when the block ends without error.

    Write the set's files under ``stage.folder``. An exception in the block (a bad book, a
    failing ``--save``, Ctrl-C) discards the stage and leaves ``out_dir`` as it was (removed
    again if this call created it).

    Args:
        out_dir: the folder the set goes in (created when missing).
        kind: the set's kind; a folder holding a set of another kind is refused.
        inputs: the run's inputs: refused as the output folder, and never overwritten.
        foreign: a glob (e.g. ``*.beancount``); refuse a folder holding matching files that the
            folder's set does not own (eliminations among books would be read as books).

    Raises:
        BadInput: a refusal (an input as the output, a folder of another kind); nothing changed.
        CannotWrite: a failed write (a full disk, a read-only folder), naming the folder or
            file; nothing changed.
    """
    out_dir = Path(out_dir)
    refuse_inputs(out_dir, inputs)
    staging = out_dir / STAGING
    with ExitStack() as lock:
        created, old = _open(out_dir, kind, foreign, lock)
        try:
            try:
                try:
                    yield Stage(out_dir, staging / "new")
                except OSError as exc:
                    if not _in_stage(exc, staging):
                        raise
                    raise _write_error(exc, out_dir, staging) from None
                _commit(out_dir, staging, kind, old, inputs)
            finally:
                if staging.exists():
                    _roll_back(out_dir, staging)
        except BaseException:
            lock.close()
            _remove_empty(created)
            raise


def _open(
    out_dir: Path, kind: str, foreign: str | None, lock: ExitStack
) -> tuple[list[Path], Manifest | None]:
    """Create and lock the folder, finish any interrupted write, check it, make the stage.

    Returns:
        The folders created (to remove again if the set is abandoned) and the set there now.
    """
    created: list[Path] = []
    try:
        created = _make_folder(out_dir)
        lock.enter_context(_locked(out_dir))
        _roll_back(out_dir, out_dir / STAGING)
        old = read_manifest(out_dir)
        _refuse_kind(out_dir, old, kind)
        _refuse_foreign(out_dir, old, foreign)
        (out_dir / STAGING / "new").mkdir(parents=True)
    except OSError as exc:
        lock.close()
        _remove_empty(created)
        raise _write_error(exc, out_dir, out_dir / STAGING) from None
    except BaseException:
        lock.close()
        _remove_empty(created)
        raise
    return created, old


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """Write one file whole or not at all (an interrupted write leaves the old file).

    ``write`` fills a hidden temporary file beside ``path``, which is then renamed over it.

    Raises:
        CannotWrite: the machine refused the write (naming ``path``); ``path`` is unchanged.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    except OSError as exc:
        raise CannotWrite.of(exc, path) from None
    finally:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_set(
    out_dir: Path,
    files: Mapping[str, str],
    kind: str,
    *,
    inputs: Sequence[Path] = (),
    foreign: str | None = None,
) -> tuple[Path, ...]:
    """Write ``{relative path: text}`` as the set of ``kind`` in ``out_dir`` (see :func:`staged`).

    Returns:
        The final paths, in the order of ``files``.
    """
    with staged(out_dir, kind, inputs=inputs, foreign=foreign) as stage:
        paths = tuple(stage.write_text(name, text) for name, text in files.items())
    return paths


# -- refusals ----------------------------------------------------------------------------------


def _refuse_kind(out_dir: Path, old: Manifest | None, kind: str) -> None:
    if old is not None and old.kind != kind:
        message = (
            f"holds the {old.kind} roundtrip wrote (see {MANIFEST}): write the {kind} to a "
            "folder of their own"
        )
        raise BadInput([LedgerError(str(out_dir), 0, message)])


def _refuse_foreign(out_dir: Path, old: Manifest | None, pattern: str | None) -> None:
    if pattern is None:
        return
    owned = set(old.files) if old else set()
    strangers = sorted(p.name for p in out_dir.glob(pattern) if p.name not in owned)
    if strangers:
        shown = ", ".join(strangers[:3]) + (", …" if len(strangers) > 3 else "")
        message = (
            f"holds {len(strangers)} {pattern} file{'s' if len(strangers) != 1 else ''} "
            f"roundtrip did not write here ({shown}); every {pattern} of a folder is read "
            "together, so choose a folder of their own"
        )
        raise BadInput([LedgerError(str(out_dir), 0, message)])


def _refuse_overwriting_inputs(out_dir: Path, names: Iterable[str], inputs: Sequence[Path]) -> None:
    sources = {Path(p).resolve() for p in inputs if Path(p).is_file()}
    for name in names:
        if (out_dir / name).resolve() in sources:
            message = "is an input of this run: the output set would overwrite or remove it"
            raise BadInput([LedgerError(str(out_dir / name), 0, message)])


# -- commit and roll back ----------------------------------------------------------------------


def _commit(
    out_dir: Path, staging: Path, kind: str, old: Manifest | None, inputs: Sequence[Path]
) -> None:
    """Swap the staged set in and commit its manifest; on any failure put the old set back."""
    new_dir = staging / "new"
    names = _files_under(new_dir)
    # fsync in parallel: the file system commits concurrent flushes together (ext4's journal
    # group commit), which makes 2,000 small files ~15x faster to flush than one by one.
    with ThreadPoolExecutor(max_workers=_FLUSHERS) as pool:
        files = dict(
            zip(names, pool.map(_fsync_and_hash, [new_dir / n for n in names]), strict=True)
        )
    _fsync_tree(new_dir)
    dropped = sorted(set(old.files) - set(files)) if old else []
    _refuse_overwriting_inputs(out_dir, [*names, *dropped], inputs)
    journal = {
        "created": sorted(
            {str(p) for n in names for p in Path(n).parents if p != Path(".")}
            - {str(p) for p in _existing_dirs(out_dir, names)},
            key=lambda p: (-p.count("/"), p),
        ),
        "dropped": dropped,
    }
    _write_durably(staging / "journal.json", json.dumps(journal))
    _write_durably(staging / "manifest.json", Manifest(kind, files).text())  # ready to swap
    try:
        for name in sorted({*names, *dropped}):
            _move_aside(out_dir, staging, name)
        for name in names:
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new_dir / name, target)
        _fsync_dirs(out_dir, names)
        os.replace(staging / "manifest.json", out_dir / MANIFEST)  # the commit
        _fsync_dir(out_dir)
    except OSError as exc:
        _roll_back(out_dir, staging)
        raise _write_error(exc, out_dir, staging) from None


def _in_stage(exc: OSError, staging: Path) -> bool:
    """Whether a failure in a writer's block is a write of the stage (a full disk: no name)."""
    return exc.filename is None or Path(exc.filename).is_relative_to(staging)


def _write_error(exc: OSError, out_dir: Path, staging: Path | None = None) -> CannotWrite:
    """A failed file-system call as an environment problem, naming the file it failed on.

    A staged file is named by its final path: the staging folder is no name a user knows.
    """
    where = Path(exc.filename) if exc.filename else out_dir
    if staging is not None and where.is_relative_to(staging / "new"):
        where = out_dir / where.relative_to(staging / "new")
    elif staging is not None and where.is_relative_to(staging):
        where = out_dir
    return CannotWrite.of(exc, where)


def _move_aside(out_dir: Path, staging: Path, name: str) -> None:
    """Move the file the set replaces or drops (owned or not) into the staging folder."""
    target = out_dir / name
    if target.is_file() or target.is_symlink():
        aside = staging / "old" / name
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, aside)


def _roll_back(out_dir: Path, staging: Path) -> None:
    """Undo a swap that did not commit, then remove the staging folder.

    Idempotent, so that it can itself be interrupted and run again: a staged manifest means
    the commit did not happen, so every new file already moved in goes back to the stage and
    every file moved aside comes back; the staged manifest is deleted only once that is done
    and durable. Without a staged manifest there is nothing to undo (the stage was never
    ready, or the set was committed) and the staging folder is only deleted.
    """
    if not staging.exists():
        return
    manifest = staging / "manifest.json"
    journal = _read_journal(staging)
    if manifest.exists():
        new_dir, old_dir = staging / "new", staging / "old"
        names = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        for name in names:
            target = out_dir / name
            if not (new_dir / name).exists() and (target.is_file() or target.is_symlink()):
                (new_dir / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, new_dir / name)
        for name in _files_under(old_dir):
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old_dir / name, out_dir / name)
        for folder in journal.get("created", ()):
            _rmdir_if_empty(out_dir / folder)
        _fsync_dir(out_dir)
        manifest.unlink()
        _fsync_dir(staging)
    else:
        for name in journal.get("dropped", ()):
            for parent in Path(name).parents:
                if parent != Path("."):
                    _rmdir_if_empty(out_dir / parent)
    _remove_tree(staging)
    _fsync_dir(out_dir)


def _remove_tree(folder: Path) -> None:
    """Delete a staging folder, its files in parallel.

    Unlinking just-flushed files one by one waits on the journal for each (2,000 take seconds);
    in parallel they take a fraction of one.
    """
    files = [Path(root) / name for root, _dirs, names in os.walk(folder) for name in names]
    with ThreadPoolExecutor(max_workers=_FLUSHERS) as pool:
        list(pool.map(_unlink, files))
    shutil.rmtree(folder)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _read_journal(staging: Path) -> dict[str, list[str]]:
    try:
        data = json.loads((staging / "journal.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- files and folders -------------------------------------------------------------------------


def _relative(name: str) -> Path:
    """A set member's path: relative, inside the folder, not one of roundtrip's own names."""
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"an output set file must be a relative path inside its folder: {name!r}")
    if path.parts[0].startswith(_RESERVED):
        raise ValueError(f"{name!r} is a name roundtrip reserves for its own bookkeeping")
    return path


def _files_under(folder: Path) -> list[str]:
    """Every file below ``folder``, as sorted ``/``-separated relative paths."""
    if not folder.is_dir():
        return []
    found = []
    for root, _dirs, files in os.walk(folder):
        for file in files:
            found.append((Path(root) / file).relative_to(folder).as_posix())
    return sorted(found)


def _existing_dirs(out_dir: Path, names: Iterable[str]) -> set[Path]:
    return {p for n in names for p in Path(n).parents if (out_dir / p).is_dir()}


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; returns those created, deepest first."""
    missing = [p for p in (folder, *folder.absolute().parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folders: Iterable[Path]) -> None:
    for folder in folders:
        _rmdir_if_empty(folder)


def _rmdir_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


def _write_durably(path: Path, text: str) -> None:
    """Write ``path`` so that it is either absent or complete, even after a power loss."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_and_hash(path: Path) -> str:
    """Flush a staged file to disk and return its SHA-256 (for the manifest)."""
    if path.is_symlink():
        raise ValueError(f"an output set holds files, not links: {path}")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, _files in os.walk(folder):
        _fsync_dir(Path(root))


def _fsync_dirs(out_dir: Path, names: Iterable[str]) -> None:
    for folder in sorted({(out_dir / name).parent for name in names} | {out_dir}):
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    """Make a folder's renames durable (POSIX: fsync the directory itself)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (no lock file is left behind)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
