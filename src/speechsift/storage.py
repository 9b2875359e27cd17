"""Where an output folder lives: every write and read of OUT goes through ``Storage``, one small
layer over ``pyarrow.fs``, so OUT may be a local folder, a shared filesystem (NFS, Lustre: a local
path to the OS) or an object store (``s3://bucket/prefix``; any URI ``pyarrow.fs`` opens).

Paths are the layout's (``speechsift.layout``): a ``Path`` for a local OUT, a ``PurePosixPath``
``bucket/prefix/...`` for an object store; ``Storage`` turns either into the filesystem's own path.

Writes are atomic, so a reader (or a resumed run) sees the old file or the whole new one, never
half of one: on a local or shared filesystem the bytes go to a temporary file beside the target
and are renamed over it (``os.replace``, atomic on POSIX filesystems, NFS included); on an object
store one PUT (or a multipart upload, completed at once) is atomic by itself. Object stores have
no folders: a folder exists when a file is under it, and listing is by prefix.

A write or read the filesystem refuses (a bucket that is not there, credentials that may not
write, a full disk) is a ``StorageError`` naming the file, the store's own words and what to
check; a run stopped by one resumes from its finished shards.

Object-store credentials and endpoints come from the environment, as ``pyarrow.fs`` reads them
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` for an
S3-compatible server), or from the URI's query (``s3://bucket/prefix?endpoint_override=host:port``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath, PurePosixPath
from typing import IO, Any

from speechsift.errors import ConfigError, StorageError

# A path inside OUT: local, or on an object store (bucket/prefix/...).
OutPath = Path | PurePosixPath


def is_remote(location: str | PurePath) -> bool:
    """Whether ``location`` names an object store (``s3://...``) rather than a local path."""
    text = str(location)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() != "file" and len(scheme) > 1  # a Windows drive letter is no scheme


@contextmanager
def refused(action: str, where: str, remote: bool) -> Iterator[None]:
    """An ``OSError`` of the filesystem (not a missing file) as a ``StorageError`` naming ``where``."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        check = ("that the bucket exists and that the credentials in the environment (AWS_ACCESS_KEY_ID, "
                 "AWS_SECRET_ACCESS_KEY; AWS_ENDPOINT_URL or ?endpoint_override= for an S3-compatible server) may "
                 f"{action} there" if remote else f"that the folder is there, that you may {action} there and that "
                 "its disk has room")
        raise StorageError(f"{where}: could not {action} it ({exc}). Check {check}, or write to another "
                           "output.dir (-o OUT); a rerun resumes from the finished shards.") from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to the local ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class Storage:
    """One filesystem and the root of an output folder in it.

    ``Storage("out/run")`` (a local folder) or ``Storage("s3://bucket/prefix")``; ``root`` is the
    folder as a path of that filesystem (``Path`` locally, ``PurePosixPath("bucket/prefix")`` on an
    object store) and ``uri`` how the user named it.
    """

    def __init__(self, location: str | PurePath) -> None:
        text = str(location)
        self.location = text  # as given: an object store's URI with its query (endpoint_override=...)
        self.remote = is_remote(text)
        if self.remote:
            import pyarrow.fs as pafs

            try:
                self.fs, base = pafs.FileSystem.from_uri(text)
            except Exception as exc:  # pyarrow raises ArrowInvalid/ArrowNotImplemented/OSError for a bad URI
                raise ConfigError(f"output.dir: {text} is not a location pyarrow.fs can open ({exc}); use a local "
                                  f"folder or an object-store URI such as s3://bucket/prefix.") from None
            self.root: OutPath = PurePosixPath(base.rstrip("/"))
            self.uri = text.split("?", 1)[0].rstrip("/")
        else:
            self.fs = None  # local files go through os and pathlib: the same calls, without a layer
            self.root = Path(text.removeprefix("file://")).absolute()
            self.uri = str(self.root)

    def __repr__(self) -> str:
        return f"Storage({self.uri!r})"

    def display(self, path: OutPath) -> str:
        """``path`` as a user names it: the local path, or the object store's URI."""
        if not self.remote:
            return str(path)
        return f"{self.uri}/{PurePosixPath(path).relative_to(self.root)}"

    # --- writing ---------------------------------------------------------------------------

    def write_bytes(self, path: OutPath, data: bytes) -> None:
        """``data`` at ``path``, atomically (temp + rename locally, one PUT on an object store)."""
        with refused("write", self.display(path), self.remote):
            if not self.remote:
                atomic_write_bytes(Path(path), data)
                return
            with self.fs.open_output_stream(str(path)) as stream:
                stream.write(data)

    def check_writable(self) -> None:
        """A ``StorageError`` now, before any work, when OUT cannot be written (an object store:
        one small file written and removed under ``.work``)."""
        probe = self.root / ".work" / ".write-check"
        self.write_bytes(probe, b"")
        with refused("delete files", self.display(probe), self.remote):
            self.delete(probe)

    def write_text(self, path: OutPath, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    @contextmanager
    def writer(self, path: OutPath) -> Iterator[IO[bytes]]:
        """A binary stream that becomes ``path`` when the block ends without an error (and nothing
        when it fails): for files written piece by piece (Parquet, JSONL)."""
        if self.remote:
            import pyarrow as pa

            sink = pa.BufferOutputStream()
            yield sink  # type: ignore[misc]
            self.write_bytes(path, sink.getvalue().to_pybytes())
            return
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        with refused("write", self.display(path), False):
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = tmp.open("wb")
        try:
            with handle:
                yield handle
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def copy_in(self, source: Path, path: OutPath) -> None:
        """A local file's bytes at ``path``, atomically: a hard link where OUT is on the same local
        filesystem, a copy otherwise."""
        with refused("write", self.display(path), self.remote):
            if self.remote:
                import pyarrow.fs as pafs

                with pafs.LocalFileSystem().open_input_stream(str(source)) as stream, \
                        self.fs.open_output_stream(str(path)) as out:
                    while chunk := stream.read(1 << 22):
                        out.write(chunk)
                return
            import shutil

            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            tmp.unlink(missing_ok=True)
            try:
                os.link(source, tmp)
            except OSError:  # another filesystem, or links not allowed
                shutil.copyfile(source, tmp)
            os.replace(tmp, target)

    # --- reading ---------------------------------------------------------------------------

    def read_bytes(self, path: OutPath) -> bytes:
        """The file's bytes; ``FileNotFoundError`` when there is none."""
        if not self.remote:
            return Path(path).read_bytes()
        try:
            with self.fs.open_input_stream(str(path)) as stream:
                return stream.read()
        except FileNotFoundError:
            raise
        except OSError:
            if not self.is_file(path):
                raise FileNotFoundError(self.display(path)) from None
            with refused("read", self.display(path), True):
                raise

    def read_text(self, path: OutPath) -> str:
        return self.read_bytes(path).decode("utf-8")

    def source(self, path: OutPath) -> Any:
        """What ``pyarrow.parquet.read_table``/``ParquetFile`` read ``path`` from: the local path, or a
        random-access file of the object store (a Parquet reader reads the footer, then only the
        columns it asks for)."""
        return str(path) if not self.remote else self.fs.open_input_file(str(path))

    def is_file(self, path: OutPath) -> bool:
        if not self.remote:
            return Path(path).is_file()
        import pyarrow.fs as pafs

        with refused("read", self.display(path), True):
            return self.fs.get_file_info(str(path)).type == pafs.FileType.File

    def files(self, folder: OutPath, suffix: str = "") -> list[OutPath]:
        """Every file under ``folder`` (recursively) whose name ends with ``suffix``, sorted; none when
        the folder is not there. Hidden temporary files (``.name.tmp-*``) are left out."""
        if not self.remote:
            root = Path(folder)
            if not root.is_dir():
                return []
            found: list[OutPath] = [p for p in root.rglob(f"*{suffix}") if p.is_file() and ".tmp-" not in p.name]
            return sorted(found)
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(str(folder), recursive=True, allow_not_found=True)
        with refused("list", self.display(folder), True):
            infos = self.fs.get_file_info(selector)
        return sorted(PurePosixPath(info.path) for info in infos
                      if info.type == pafs.FileType.File and info.path.endswith(suffix)
                      and ".tmp-" not in info.base_name)

    # --- removing --------------------------------------------------------------------------

    def delete(self, path: OutPath) -> None:
        """Remove a file (nothing when it is not there)."""
        if not self.remote:
            Path(path).unlink(missing_ok=True)
            return
        try:
            self.fs.delete_file(str(path))
        except FileNotFoundError:
            pass

    def prune(self, folder: OutPath) -> None:
        """Remove the folders under ``folder`` left empty (an object store has none to remove)."""
        root = Path(folder)
        if self.remote or not root.is_dir():
            return
        for sub in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(sub.iterdir()):
                sub.rmdir()


__all__ = ["OutPath", "Storage", "atomic_write_bytes", "atomic_write_text", "is_remote", "refused"]
