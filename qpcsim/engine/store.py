"""The resumable sweep store: an SQLite database (WAL mode) of finished points.

Why SQLite and not JSON lines
-----------------------------
The store used to be an append-only JSON-lines file. Hardening it means
re-implementing, by hand, what an embedded database already guarantees:
a crash in the middle of a write left a torn last line that had to be found and
cut off, one corrupt line in the middle stopped the parser so every later point
was recomputed forever (30 -> 51 -> 72 -> 93 lines in the issue), duplicates had
to be tolerated, and every open re-parsed the whole file. SQLite (standard
library) gives instead:

* **atomic commits**: a point is one transaction, so a process killed at any
  instant leaves the database at the last commit (WAL frames carry checksums and
  an uncommitted tail is discarded on open: the "torn last line" is repaired by
  SQLite's own recovery). Tested: a child writing points is SIGKILLed at random
  delays (5 trials by default, 50 in the slow suite); every resume equals the
  uninterrupted run bit for bit and computes each missing point exactly once;
* a **primary key per task**, so a point cannot be stored twice and a lookup
  does not parse the file;
* measured cost (``PRAGMA synchronous=FULL``, fsync per commit, this machine's
  disk): 6.1 ms per point against 3.0 ms for an fsynced JSON line; a point's
  solve takes 10 ms to seconds, so durability is kept at full strength.

What the store adds on top
--------------------------
* An **exclusive lock for the sweep's lifetime**: a POSIX lock on ``PATH.lock``
  (which holds the owner's PID and host). A second process on the same store is
  refused with an error naming that PID. POSIX locks belong to the process, so
  forked workers never hold it and the kernel drops it when the owner dies,
  even by SIGKILL.
* Every record is keyed by the **full task** (``task_key``: every fixed and
  swept parameter, the energy, temperature and method), never by the swept
  values alone, and carries a SHA-256 **checksum** of (key, result). A record
  whose checksum, JSON or fields are wrong (edited or damaged) is reported
  (:class:`StoreWarning`), deleted and so recomputed once.
* A **header** (device fingerprint, sweep spec, code hash): a store written for
  anything else is refused rather than mixed.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import sqlite3
import warnings
from pathlib import Path

__all__ = ["Store", "NoStore", "output_lock", "StoreWriteError", "StoreWarning", "StoreBusyError",
           "task_key", "source_digest", "clear_store",
           "STORE_FORMAT"]

#: Version of the record layout (3: SQLite, records keyed by the full task, checksummed).
STORE_FORMAT = 3

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HELD: set = set()   # lock files held by this process (POSIX locks do not exclude oneself)


class StoreWarning(UserWarning):
    """A store record was damaged or edited; it is dropped and recomputed."""


class StoreBusyError(ValueError):
    """Another process holds the store's lock."""


def _canonical(obj):
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)


def task_key(task) -> str:
    """The store key of one task: canonical JSON of the *whole* task.

    A sweep task is ``(energy, temperature, method, params)`` (meV, K, name,
    every fixed and swept device parameter), so two sweeps that differ in any
    of these never share a record. Every kind keys its points this one way, by a
    :class:`~.task.SweepTask` ``(energy, temperature, method, params, structural)``
    (a series' temperature: its list; a bias point's bias: ``params["V_sd"]``).
    Floats are written with ``repr`` (exact).
    """
    if isinstance(task, tuple) and len(task) == 4 and isinstance(task[3], dict):
        energy, temperature, method, params = task
        task = {"energy": energy, "temperature": temperature, "method": method,
                "params": params}
    return json.dumps(_canonical(task), sort_keys=True, allow_nan=True)


def _checksum(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


class StoreWriteError(ValueError):
    """A point could not be committed (disk full, read-only file system, permissions)."""


def _write_failure(path: Path, exc: Exception) -> str:
    """``exc`` from writing near ``path``, said plainly: disk full (with the free
    space), read-only or not permitted, else SQLite's own words."""
    text = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        stats = os.statvfs(folder)
        free = stats.f_bavail * stats.f_frsize
        read_only = bool(stats.f_flag & os.ST_RDONLY)
    except OSError:
        free, read_only = None, False
    lowered = text.lower()
    nearly_full = free is not None and free < 64 * 1024
    if "full" in lowered or "no space" in lowered or (nearly_full and "i/o" in lowered):
        return f"disk full: {free // 1024 if free is not None else '?'} KiB free in {str(folder)!r}"
    if read_only or "readonly" in lowered or "read-only" in lowered:
        return f"read-only: {str(folder)!r} or the file cannot be written ({text})"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"permission denied on {str(path)!r} or its folder ({text})"
    return text


def _verify(path: Path) -> tuple[bool, int]:
    """``(intact, finished points)`` of the store at ``path``, read-only (nothing is
    written, so it works on a full or read-only disk): ``PRAGMA quick_check``."""
    if not path.is_file():
        return False, 0
    for uri in (f"file:{path}?mode=ro", f"file:{path}?immutable=1"):
        try:
            db = sqlite3.connect(uri, uri=True, timeout=0.0)
            try:
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    return False, 0
                count = db.execute("SELECT count(*) FROM records").fetchone()[0]
                return True, int(count)
            finally:
                db.close()
        except sqlite3.DatabaseError:
            continue
    return False, 0


class _Lock:
    """Exclusive POSIX lock on ``path`` holding ``pid@host``, or StoreBusyError."""

    def __init__(self, path: Path, what: str, other: str = "store path"):
        self.path = path
        real = os.path.realpath(path)
        if real in _HELD:
            raise StoreBusyError(f"{what} is already in use by this process (PID {os.getpid()}); "
                                 f"use another {other}")
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                try:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "?"
                finally:
                    os.close(fd)
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    pid, _, host = holder.partition("@")
                    raise StoreBusyError(
                        f"{what} is in use by another qpcsim process (PID {pid}"
                        f"{' on ' + host if host else ''}, lock {str(path)!r}); wait for it to "
                        f"finish, stop it, or use another {other}") from None
                raise
            # The file may have been unlinked by its previous owner between our open and lock.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode(), 0)
        self.fd, self.real = fd, real
        _HELD.add(real)

    def release(self):
        if self.fd is None:
            return
        try:
            os.unlink(self.path)       # while still holding it (see the inode check above)
        except OSError:
            pass
        os.close(self.fd)
        _HELD.discard(self.real)
        self.fd = None


class output_lock:   # noqa: N801 - used as a context manager, like open()
    """Hold ``PATH.lock`` while a result file is checked, computed and renamed into
    place: one writer per output. A second process is refused (StoreBusyError)
    with the holder's PID, before any work.

    Parameters
    ----------
    path : path
        The result file (``--out``).
    flag : str
        How the user named it, for messages (``"--out"``).
    """

    def __init__(self, path, flag: str = "out"):
        self.path = Path(path)
        self.what = f"{flag} {str(self.path)!r}"

    def __enter__(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _Lock(Path(str(self.path) + ".lock"), self.what, "output path")
        except OSError as exc:
            raise ValueError(f"{self.what} cannot be written: {exc.strerror or exc}") from None
        return self

    def __exit__(self, *exc):
        self._lock.release()


def _refuse_path(path: Path, what: str):
    if path.exists() and not path.is_file():
        raise ValueError(f"{what} is not a regular file (a directory or device); "
                         "give a file path")


class Store:
    """Finished points (and adaptive batches) of one sweep, locked for its lifetime.

    Parameters
    ----------
    path : path
        The database file; created if missing. ``PATH.lock`` is its lock.
    header : dict
        The sweep's header (:meth:`SweepSpec.header`), with its content ``hash``.

    Raises
    ------
    ValueError
        The path is not a regular file, not a qpcsim store, damaged, written for
        another sweep, or (:class:`StoreBusyError`) locked by another process.
    """

    def __init__(self, path, header: dict):
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"store={path!r} is not allowed: give a file path (str or Path)")
        self.path = Path(path)
        self.header = header
        self.what = f"store={str(self.path)!r}"
        self.dropped: list[str] = []      # keys of damaged records found on open
        _refuse_path(self.path, self.what)
        self._existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _Lock(Path(str(self.path) + ".lock"), self.what)
        except OSError as exc:
            raise self._open_error(exc) from None
        try:
            self._open()
        except BaseException:
            self._lock.release()
            raise

    # ------------------------------------------------------------ opening
    def _open(self):
        what = self.what
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                magic = fh.read(len(_SQLITE_MAGIC))
            if magic != _SQLITE_MAGIC:
                old = magic.startswith(b'{"header"')
                raise ValueError(
                    f"{what} is " + ("a JSON-lines store of an older qpcsim" if old else
                                     "not a qpcsim sweep store") +
                    "; delete it or choose another store path")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=0.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            tables = {r[0] for r in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                self._create()
            elif not {"meta", "records", "batches"} <= tables:
                raise ValueError(f"{what} is an SQLite database but not a qpcsim sweep store; "
                                 "delete it or choose another store path")
            self._check_header()
            self._results, self._batches = self._read()
        except sqlite3.DatabaseError as exc:
            self._close_db()
            raise self._open_error(exc) from None

    def _open_error(self, exc: Exception) -> ValueError:
        """Why the store cannot be opened. A write failure (disk full, read-only,
        permissions) is not damage: the file is verified read-only first (``PRAGMA
        quick_check``) and deleting it is advised only if that check fails."""
        cause = _write_failure(self.path, exc)
        if not self._existed:   # nothing of value in it: remove what the attempt left
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(str(self.path) + suffix)
                except OSError:
                    pass
            return ValueError(f"{self.what} cannot be created ({cause})")
        intact, count = _verify(self.path)
        if intact:
            return ValueError(f"{self.what} cannot be opened for writing ({cause}); the store "
                              f"itself is intact (quick_check ok, {count} finished points kept): "
                              "fix that and rerun the same command to resume")
        if cause != str(exc):
            return ValueError(f"{self.what} cannot be opened ({cause}) and could not be "
                              "verified; keep it, fix that, and rerun to resume")
        return ValueError(f"{self.what} is damaged ({exc}; quick_check failed); delete it to "
                          "start the sweep over")

    def _create(self):
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE records (key TEXT PRIMARY KEY, result TEXT NOT NULL, "
                             "checksum TEXT NOT NULL)")
            self._db.execute("CREATE TABLE batches (number INTEGER PRIMARY KEY, "
                             "keys TEXT NOT NULL, checksum TEXT NOT NULL)")
            text = json.dumps(self.header, sort_keys=True)
            self._db.execute("INSERT INTO meta VALUES ('header', ?), ('header_checksum', ?)",
                             (text, _checksum(text)))

    def _check_header(self):
        rows = dict(self._db.execute("SELECT name, value FROM meta"))
        text = rows.get("header", "")
        try:
            first = json.loads(text)
            if rows.get("header_checksum") != _checksum(text) or not isinstance(first, dict):
                raise ValueError
        except ValueError:
            raise ValueError(f"{self.what} has a damaged header; delete it to start the sweep "
                             "over") from None
        if first.get("hash") != self.header["hash"]:
            old_geo, new_geo = first.get("geometry_sha256"), self.header.get("geometry_sha256")
            same_file = first.get("geometry_file") == self.header.get("geometry_file")
            if old_geo and new_geo and old_geo != new_geo and same_file:
                raise ValueError(
                    f"{self.what} was written from another version of the geometry file "
                    f"(SHA-256 {old_geo[:16]} when the sweep started, {new_geo[:16]} now): it "
                    "was edited; refusing to mix "
                    "two potentials. Restore the file, or use another --out/--store path")
            diff = [k for k in ("kind", "device", "sweep", "code")
                    if first.get(k) != self.header.get(k)]
            raise ValueError(
                f"{self.what} was written for a different "
                f"{' and '.join(diff) or 'sweep'} (content hash {str(first.get('hash', '?'))[:12]} "
                f"!= {self.header['hash'][:12]}); refusing to mix results. Delete the store or "
                "use another --out/--store path")

    def _read(self):
        results, bad = {}, []
        for key, text, checksum in self._db.execute("SELECT key, result, checksum FROM records"):
            try:
                value = json.loads(text)
                ok = checksum == _checksum(key, text) and isinstance(value, dict)
            except (ValueError, TypeError):
                ok = False
            if ok:
                results[key] = value
            else:
                bad.append(key)
        batches = []
        rows = list(self._db.execute("SELECT number, keys, checksum FROM batches ORDER BY number"))
        for expected, (number, text, checksum) in enumerate(rows):
            try:
                keys = json.loads(text)
                ok = number == expected and checksum == _checksum(str(number), text)
            except (ValueError, TypeError):
                ok = False
            if not ok:       # the adaptive history is replayed in order: drop the rest
                self._db.execute("DELETE FROM batches WHERE number >= ?", (number,))
                warnings.warn(f"{self.what}: adaptive batch {number} is damaged; the sampler "
                              f"resumes from batch {number} (finished points are kept)",
                              StoreWarning, stacklevel=4)
                break
            batches.append(keys)
        if bad:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("DELETE FROM records WHERE key = ?", [(k,) for k in bad])
            warnings.warn(f"{self.what}: {len(bad)} damaged or edited record(s) (checksum "
                          "mismatch) dropped; they will be recomputed", StoreWarning,
                          stacklevel=4)
            self.dropped = bad
        return results, batches

    # ------------------------------------------------------------ API
    def results(self) -> dict:
        """Finished, checksum-verified points: task key -> record."""
        return dict(self._results)

    def batches(self) -> list[list[str]]:
        """The logged adaptive batches (task keys), in order."""
        return list(self._batches)

    def put(self, key: str, result: dict):
        """Store one finished point (one durable transaction)."""
        text = json.dumps(result, allow_nan=True)
        self._write("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                    (key, text, _checksum(key, text)))
        self._results[key] = result

    def log_batch(self, keys: list[str]):
        """Record the next adaptive batch of asked points (task keys)."""
        number = len(self._batches)
        text = json.dumps(keys)
        self._write("INSERT INTO batches VALUES (?, ?, ?)",
                    (number, text, _checksum(str(number), text)))
        self._batches.append(list(keys))

    def _write(self, sql: str, values: tuple):
        """One committed write; a failed one (disk full, read-only) is a one-line
        StoreWriteError saying the committed points are kept."""
        try:
            self._db.execute(sql, values)
        except sqlite3.DatabaseError as exc:
            raise StoreWriteError(
                f"{self.what} cannot be written ({_write_failure(self.path, exc)}); the "
                f"{len(self._results)} points committed before are kept: fix that and rerun "
                "the same command to resume") from None

    def __len__(self):
        return len(self._results)

    def _close_db(self):
        db = getattr(self, "_db", None)
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def close(self):
        self._close_db()
        self._lock.release()


def clear_store(path, what: str = "--store") -> int:
    """Delete the store at ``path`` (``--fresh``: start over) with its WAL, shared-memory and
    journal files, after confirming it is a qpcsim store and holding its lock (a store in
    use by another process is refused, StoreBusyError). Returns the finished points it
    held (0 when there was none); anything else at ``path`` is refused, never deleted."""
    path = Path(path)
    if not path.exists():
        return 0
    _refuse_path(path, f"{what} {str(path)!r}")
    intact, count = _verify(path)
    if not intact:
        raise ValueError(f"{what} {str(path)!r} is not a qpcsim store (or is damaged); "
                         "refusing to delete it: remove it yourself or use another path")
    lock = _Lock(Path(str(path) + ".lock"), f"{what} {str(path)!r}")
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(str(path) + suffix)
            except FileNotFoundError:
                pass
    finally:
        lock.release()
    return count


class NoStore:
    """Keeps nothing (a sweep without ``store=``)."""

    path = None
    dropped: tuple = ()

    def results(self) -> dict:
        return {}

    def batches(self) -> list:
        return []

    def put(self, key, result):
        pass

    def log_batch(self, keys):
        pass

    def __len__(self):
        return 0

    def close(self):
        pass


#: Parts of the package that never change a point's numbers (presentation):
#: everything else is hashed, so a new module cannot be forgotten.
_PRESENTATION = ("cli", "plotting", "analysis.py")


def source_digest() -> str:
    """Hash of the package source that computes a point: every module of
    ``qpcsim`` except the presentation layers (CLI, plots, trace analysis)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in _PRESENTATION:
            continue
        digest.update(rel.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
