"""The web client served at ``/``: plain ES modules and vendored assets, no build step, no CDN.

Routes (nothing here shadows ``/api``, ``/socket.io``, ``/healthz``, ``/readyz`` or ``/metrics``):

    GET /                    index.html, with a strict Content-Security-Policy; never cached
    GET /config.json         {tile_url, tile_attribution, cell_phone, version}; never cached
    GET /sw.js               the service worker (``sw.js`` with this release's hash and file list):
                             the app shell loads with no network; never cached
    GET /static/{path}       files under ``static/``; revalidated (ETag) on every use
    GET /static/v-{hash}/…   the same files under the content hash of the whole tree: cached for a
                             year (``immutable``), so a phone on a slow link asks for nothing again
                             until the server's files change; index.html always names the current hash

Text assets are gzipped once in memory and sent compressed to clients that accept it.  Files
are read once and kept (the tree is small: ~300 KiB); a file edited on disk is noticed by its
modification time.  Only regular files inside ``static/`` are served (no ``..``, no dot files,
no source maps).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from aiohttp import web

from hubchat.config import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
SERVICE_WORKER = Path(__file__).resolve().parent / "sw.js"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
GZIP_MIN_BYTES = 512
VERSIONED = re.compile(r"^v-([0-9a-f]{6,64})/(.+)$")

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    "": "text/plain",  # LICENSE, VERSION
}
TEXT_TYPES = frozenset({"text/javascript", "text/css", "text/html", "application/json", "image/svg+xml",
                        "application/manifest+json", "text/plain"})


@dataclasses.dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    mtime_ns: int


class StaticFiles:
    """The files under one directory, read and compressed once, addressed by a content hash."""

    def __init__(self, root: Path = STATIC_DIR):
        self.root = root.resolve()
        self._assets: dict[str, Asset] = {}
        self.version = self._tree_hash()

    def _files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file() and self._servable(p.relative_to(self.root)))

    @staticmethod
    def _servable(rel: Path | PurePosixPath) -> bool:
        parts = rel.parts
        return bool(parts) and not any(part.startswith(".") for part in parts) and rel.suffix != ".map" \
            and rel.suffix in CONTENT_TYPES and "__pycache__" not in parts

    def _tree_hash(self) -> str:
        digest = hashlib.sha256()
        for path in self._files():
            digest.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        return digest.hexdigest()[:12]

    def paths(self) -> list[str]:
        """Relative paths of every file served from the tree."""
        return [p.relative_to(self.root).as_posix() for p in self._files()]

    def modules(self) -> list[str]:
        """Relative paths of the ES modules (everything ``.js`` except Leaflet and Chart.js, classic scripts)."""
        return [p.relative_to(self.root).as_posix() for p in self._files()
                if p.suffix == ".js" and "leaflet" not in p.parts and "chart.js" not in p.parts]

    def get(self, rel: str) -> Asset | None:
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or "\\" in rel or not self._servable(pure):
            return None
        path = self.root.joinpath(*pure.parts)
        try:
            if not path.resolve().is_relative_to(self.root) or not path.is_file():
                return None
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._assets.get(rel)
        if cached is not None and cached.mtime_ns == mtime_ns:
            return cached
        body = path.read_bytes()
        content_type = CONTENT_TYPES[path.suffix]
        gzipped = None
        if content_type in TEXT_TYPES and len(body) >= GZIP_MIN_BYTES:
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        asset = Asset(body, gzipped, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', mtime_ns)
        self._assets[rel] = asset
        return asset


def _accepts_gzip(request: web.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _send(request: web.Request, asset: Asset, cache_control: str, extra: dict[str, str] | None = None,
          body: bytes | None = None) -> web.Response:
    """The asset (or ``body``, a rendered variant) with caching, ETag and gzip handled."""
    raw = asset.body if body is None else body
    gz = asset.gzipped if body is None else (gzip.compress(raw, 6, mtime=0) if len(raw) >= GZIP_MIN_BYTES else None)
    etag = asset.etag if body is None else '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
    use_gzip = gz is not None and _accepts_gzip(request)
    if use_gzip:
        etag = etag[:-1] + '-gz"'
    headers = {"Cache-Control": cache_control, "ETag": etag, "X-Content-Type-Options": "nosniff",
               "Vary": "Accept-Encoding", **(extra or {})}
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    charset = "utf-8" if asset.content_type in TEXT_TYPES else None
    return web.Response(body=gz if use_gzip else raw, content_type=asset.content_type, charset=charset,
                        headers=headers)


def tile_source(tile_url: str) -> str | None:
    """The CSP source that lets the map load tiles from ``tile_url`` (a Leaflet URL template such as
    ``https://{s}.tile.example.org/{z}/{x}/{y}.png``), or None when there is none or it is not http(s)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    labels = host.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label or "}" in label for label in labels) or not re.fullmatch(r"[A-Za-z0-9.*:\-\[\]]+",
                                                                                   ".".join(labels)):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}"


# A Host header that is a plain host[:port] (name, IPv4 or bracketed IPv6): anything else is not
# copied into the policy, so a forged header cannot add sources or directives.
_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def connect_sources(host: str | None) -> list[str]:
    """``connect-src`` for a page served to ``host`` (the request's Host): the page's own origin
    ('self') and the WebSocket equivalents of it, which 'self' does not cover in every browser."""
    sources = ["'self'"]
    if host and _PLAIN_HOST.fullmatch(host):
        sources += [f"ws://{host}", f"wss://{host}"]
    return sources


def content_security_policy(tile_url: str, host: str | None = None) -> str:
    images = ["'self'", "data:"]
    tiles = tile_source(tile_url)
    if tiles:
        images.append(tiles)
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {' '.join(images)}",
        f"connect-src {' '.join(connect_sources(host))}",
        "font-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
    ])


def web_routes(settings: Settings) -> list[web.RouteDef]:
    files = StaticFiles()
    tile_url = settings.map_tile_url
    tile_attribution = settings.map_tile_attribution
    base = f"/static/v-{files.version}"
    # Everything a member needs is preloaded in parallel (no import waterfall on a slow link);
    # the officers' console is loaded on demand.
    preload = "\n".join(f'<link rel="modulepreload" href="{base}/{m}">' for m in files.modules()
                        if m not in ("app.js", "views/console.js", "views/cases.js", "views/reports.js"))
    page_headers = {
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    config = {"tile_url": tile_url, "tile_attribution": tile_attribution, "cell_phone": settings.cell_phone,
              "version": files.version}

    async def index(request: web.Request) -> web.Response:
        asset = files.get("index.html")
        if asset is None:
            raise web.HTTPNotFound()
        html = asset.body.decode("utf-8").replace("{{STATIC}}", base).replace("{{PRELOAD}}", preload)
        headers = {"Content-Security-Policy": content_security_policy(tile_url, request.host), **page_headers}
        return _send(request, asset, REVALIDATE, headers, body=html.encode("utf-8"))

    # The service worker stores this release's files (index.html is the page at "/").
    release = [f"{base}/{rel}" for rel in files.paths() if rel != "index.html"]
    worker = SERVICE_WORKER.read_text(encoding="utf-8").replace("{{VERSION}}", files.version) \
        .replace("{{FILES}}", json.dumps(release))

    async def service_worker(request: web.Request) -> web.Response:
        return web.Response(text=worker, content_type="text/javascript", charset="utf-8",
                            headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"})

    async def config_json(request: web.Request) -> web.Response:
        return web.json_response(config, headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"})

    async def static(request: web.Request) -> web.Response:
        rel = request.match_info["path"]
        cache_control = REVALIDATE
        versioned = VERSIONED.match(rel)
        if versioned:
            rel = versioned.group(2)
            # An old page asking for an older version gets today's file, not to be kept.
            cache_control = IMMUTABLE if versioned.group(1) == files.version else REVALIDATE
        asset = files.get(rel)
        if asset is None or rel == "index.html":
            raise web.HTTPNotFound()
        return _send(request, asset, cache_control)

    return [
        web.get("/", index),
        web.get("/config.json", config_json),
        web.get("/sw.js", service_worker),
        web.get("/static/{path:.+}", static),
    ]


__all__ = ["STATIC_DIR", "StaticFiles", "connect_sources", "content_security_policy", "tile_source", "web_routes"]
