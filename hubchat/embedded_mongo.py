"""The embedded MongoDB-wire server: nx-27017 (MongoDB wire protocol over SQLite) as a child process.

Used when no MongoDB URI is configured, so that one PyMongo code path serves both.  It listens
on a free loopback port, keeps its data under ``data_dir``, and is stopped on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path
from types import TracebackType

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from hubchat.errors import Unavailable

log = logging.getLogger(__name__)

START_TIMEOUT_SECS = 30.0
STOP_TIMEOUT_SECS = 10.0
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


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedMongo:
    """``async with EmbeddedMongo(path) as server: server.uri``"""

    def __init__(self, data_dir: Path | str, port: int | None = None, *, variant: str = "hubchat"):
        if variant not in LAUNCH_VARIANTS:
            raise ValueError(f"unknown nx-27017 launch variant {variant!r}")
        self.data_dir = Path(data_dir)
        self.port = port or free_loopback_port()
        self.variant = variant
        self._process: asyncio.subprocess.Process | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    async def start(self) -> None:
        store_dir = self.data_dir / "mongo"
        store_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.data_dir / "nx-27017.log"
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LAUNCH_VARIANTS[self.variant],
            "--data-dir", str(store_dir), "--host", "127.0.0.1", "--port", str(self.port),
            "--log-file", str(log_file), "--pid-file", str(self.data_dir / "nx-27017.pid"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._wait_until_ready()
        log.info("embedded MongoDB-wire server started", extra={"port": self.port, "data_dir": str(store_dir)})

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
        await self.stop()
        raise Unavailable(f"embedded MongoDB-wire server did not answer within {START_TIMEOUT_SECS:.0f} s")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECS)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("embedded MongoDB-wire server stopped")

    async def __aenter__(self) -> EmbeddedMongo:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
