"""The embedded MongoDB-wire server: nx-27017 (MongoDB wire protocol over SQLite) as a child process.

Used when no MongoDB URI is configured, so that one PyMongo code path serves both.  It listens
on a free loopback port, keeps its data under ``data_dir``, and is stopped on shutdown.

Files: ``data_dir`` and ``data_dir/mongo`` are 0700 and what the server writes is 0600 (it runs
with umask 077).  While it runs, its address is in ``data_dir/embedded-store.uri`` (0600), so
that ``hubchat admin`` commands can use the running server's store (:func:`running_uri`); a
second server on the same ``data_dir`` is refused with a clear error.  The port is not logged
above DEBUG.

Supervision (``supervise=True``, what a serving node uses): a child that exits while it should
run (killed, crashed) is started again on the same ``data_dir`` and the same port, so the node's
MongoDB client finds it again without being rebuilt; attempts back off from
``RESTART_DELAY_SECS`` up to ``MAX_RESTART_DELAY_SECS``.  Every acknowledged write was committed
to SQLite before its answer, so nothing acknowledged is lost by a kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from hubchat.background import cancel_and_wait
from hubchat.errors import Unavailable

log = logging.getLogger(__name__)

START_TIMEOUT_SECS = 30.0
# nx-27017 exits at once on SIGTERM when no client is connected, but waits for open connections
# (a node's pool may still hold some at shutdown): after this long it is killed.  Every
# acknowledged write is already committed to SQLite, which survives a kill.
STOP_TIMEOUT_SECS = 2.0
RESTART_DELAY_SECS = 0.2
MAX_RESTART_DELAY_SECS = 10.0
ADDRESS_FILE = "embedded-store.uri"
PID_FILE = "nx-27017.pid"
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
# How the child is started.  "hubchat": nx-27017 with hubchat.embedded_server's narrow fix to
# neosqlite's SQL update path (datetimes and sub-documents stay BSON values; every query keeps
# using the indexes).  The two others exist for tests and benchmarks only: "plain" is nx-27017 as
# shipped (mis-stores datetimes given to $set), "fallback" is nx-27017 with neosqlite's global
# set_force_fallback(True) (correct values, but every query is a full scan in Python).
LAUNCH_VARIANTS = {
    "hubchat": (
        "import sys\n"
        f"sys.path.append({_PACKAGE_PARENT!r})\n"
        "from hubchat.embedded_server import main\n"
        "sys.exit(main())\n"
    ),
    "plain": "import sys\nfrom nx_27017.nx_27017 import main\nsys.exit(main())\n",
    "fallback": (
        "import sys\n"
        "from neosqlite.collection.query_helper.utils import set_force_fallback\n"
        "set_force_fallback(True)\n"
        "from nx_27017.nx_27017 import main\n"
        "sys.exit(main())\n"
    ),
}

# How nx-27017 serves its connections.  "threaded" (hubchat's choice): one thread per connection
# that reads, runs and answers each command in turn.  "asyncio" (nx-27017's default): an event
# loop that hands every command to a worker thread and back, which cost the store 1.2-2.6 x the
# CPU per command of the threaded mode (bench/store_commands.py; results in bench/RESULTS.md).
# Commands are serialised by nx-27017's lock on the SQLite connection either way.
SERVER_MODES = {"threaded": ("--threaded",), "asyncio": ()}


def secure_data_dir(data_dir: Path) -> None:
    """``data_dir`` (and its ``mongo`` store) 0700, the files directly in them 0600: nobody but
    the owner reads password hashes or the token key, whatever umask created them."""
    for directory in (data_dir, data_dir / "mongo"):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        for entry in directory.iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.chmod(0o600)


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` (0600 from the first byte), atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


async def _answers(uri: str, timeout_ms: int = 1000) -> bool:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        await client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        await client.close()


async def running_uri(data_dir: Path | str) -> str | None:
    """The URI of the embedded server that a running hubchat keeps in ``data_dir``, if it answers."""
    try:
        uri = (Path(data_dir) / ADDRESS_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not uri.startswith("mongodb://127.0.0.1:"):
        return None
    return uri if await _answers(uri) else None


def _live_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedMongo:
    """``async with EmbeddedMongo(path) as server: server.uri``"""

    def __init__(self, data_dir: Path | str, port: int | None = None, *, variant: str = "hubchat",
                 supervise: bool = False, server_mode: str = "threaded"):
        if variant not in LAUNCH_VARIANTS:
            raise ValueError(f"unknown nx-27017 launch variant {variant!r}")
        if server_mode not in SERVER_MODES:
            raise ValueError(f"unknown nx-27017 server mode {server_mode!r}")
        self.server_mode = server_mode
        self.data_dir = Path(data_dir)
        self.port = port or free_loopback_port()
        self.variant = variant
        self.supervise = supervise
        self.restarts = 0  # children started again after an unexpected exit
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    async def start(self) -> None:
        secure_data_dir(self.data_dir)
        await self._refuse_if_in_use()
        await self._launch()
        log.info("embedded MongoDB-wire server started", extra={"data_dir": str(self.data_dir / "mongo")})
        log.debug("embedded MongoDB-wire server address", extra={"port": self.port})
        if self.supervise:
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise(),
                                                                      name="embedded-store-supervisor")

    async def _launch(self) -> None:
        """Starts the child and waits until it answers; killed again if it does not."""
        store_dir = self.data_dir / "mongo"
        log_file = self.data_dir / "nx-27017.log"
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LAUNCH_VARIANTS[self.variant],
            "--data-dir", str(store_dir), "--host", "127.0.0.1", "--port", str(self.port),
            "--log-file", str(log_file), "--pid-file", str(self.data_dir / PID_FILE),
            *SERVER_MODES[self.server_mode],
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, umask=0o077,
        )
        try:
            await self._wait_until_ready()
        except BaseException:
            await self._kill()
            raise
        write_private(self.data_dir / ADDRESS_FILE, self.uri + "\n")

    async def _supervise(self) -> None:
        """Starts the child again whenever it exits on its own (until :meth:`stop`)."""
        while True:
            process = self._process
            if process is None:
                return
            code = await process.wait()
            log.error("embedded MongoDB-wire server exited with %s; starting it again on the same data_dir",
                      code, extra={"data_dir": str(self.data_dir / "mongo")})
            delay = RESTART_DELAY_SECS
            await asyncio.sleep(delay)
            while True:
                try:
                    await self._launch()
                    break
                except (Unavailable, OSError) as exc:
                    delay = min(delay * 2, MAX_RESTART_DELAY_SECS)
                    log.error("embedded MongoDB-wire server did not start again (%s); retrying in %.1f s",
                              exc, delay)
                    await asyncio.sleep(delay)
            self.restarts += 1
            log.warning("embedded MongoDB-wire server running again", extra={"restarts": self.restarts})

    async def _refuse_if_in_use(self) -> None:
        """A second server on the same files would exit at once: say why instead."""
        pid = _live_pid(self.data_dir / PID_FILE)
        if pid is None:
            return
        if await running_uri(self.data_dir):
            raise Unavailable(f"the embedded store in {self.data_dir} is in use by another hubchat process "
                              f"(embedded server pid {pid}); stop it first (hubchat admin commands use it "
                              f"while it runs)", code="store_in_use")
        raise Unavailable(f"the embedded store in {self.data_dir} is held by process {pid}, which does not "
                          f"answer; stop that process (or remove {self.data_dir / PID_FILE} if it is not "
                          f"nx-27017)", code="store_in_use")

    async def _wait_until_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECS
        while loop.time() < deadline:
            if self._process is not None and self._process.returncode is not None:
                raise Unavailable(f"embedded MongoDB-wire server exited with {self._process.returncode}")
            client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(self.uri, serverSelectionTimeoutMS=300)
            try:
                await client.admin.command("ping")
                return
            except PyMongoError:
                await asyncio.sleep(0.1)
            finally:
                await client.close()
        raise Unavailable(f"embedded MongoDB-wire server did not answer within {START_TIMEOUT_SECS:.0f} s")

    async def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def stop(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            await cancel_and_wait({supervisor})
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        address = self.data_dir / ADDRESS_FILE
        with contextlib.suppress(OSError):
            if address.read_text(encoding="utf-8").strip() == self.uri:
                address.unlink()
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECS)
        except TimeoutError:
            process.kill()
            await process.wait()
            with contextlib.suppress(OSError):
                (self.data_dir / PID_FILE).unlink()  # it had no chance to remove it
        log.info("embedded MongoDB-wire server stopped")

    async def __aenter__(self) -> EmbeddedMongo:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
