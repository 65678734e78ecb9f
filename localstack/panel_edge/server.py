"""The panel's local edge as an HTTP server on 127.0.0.1 (stdlib only): the built panel, the API
proxied at ``/api/*``, ``/config.json`` generated, the security headers on every answer."""

from __future__ import annotations

import argparse
import html
import http.client
import json
import logging
import mimetypes
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from panel_edge import rules
from panel_edge.headers import edge_settings, security_headers

log = logging.getLogger("panel_edge")

# Hop-by-hop headers (RFC 9110 §7.6.1): a proxy never passes them on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
CHUNK = 64 * 1024
UPSTREAM_TIMEOUT_S = 60.0  # CloudFront's default origin response timeout is 30 s; the API's is 29 s
# As the prod deploy writes them (capabilities/panel.py): hashed assets for good, the rest revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
BUILD_HINT = "cd web && npm ci && npm run build"


@dataclass(frozen=True)
class EdgeConfig:
    dist: Path  # the built panel (web/dist); read on each request, so a build shows without a restart
    api_url: str  # the API's base URL (LocalStack's path-style stage URL)
    ws_url: str | None = None  # the WebSocket API's URL, when the stack has one
    storage_sources: list[str] = field(default_factory=list)  # where photos are uploaded and shown from

    @classmethod
    def load(cls, path: Path) -> EdgeConfig:
        raw: dict[str, Any] = json.loads(path.read_text())
        return cls(
            dist=Path(raw["dist"]),
            api_url=str(raw["api_url"]),
            ws_url=raw.get("ws_url") or None,
            storage_sources=list(raw.get("storage_sources") or []),
        )

    def headers(self) -> dict[str, str]:
        websocket = []
        if self.ws_url:
            parts = urlsplit(self.ws_url)
            websocket.append(f"{parts.scheme}://{parts.netloc}")
        return security_headers(websocket=websocket, storage=self.storage_sources)

    def panel_config(self) -> dict[str, str | None]:
        """config.json, as the prod deploy writes it (capabilities/panel.panel_config)."""
        return {"apiBase": edge_settings()["api_prefix"], "wsUrl": self.ws_url}


def not_built_page(dist: Path) -> bytes:
    return f"""<!doctype html>
<html lang="pt-BR">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Painel não compilado — assistec</title></head>
<body>
<main>
<h1>O painel ainda não foi compilado</h1>
<p>Esta é a página do painel local da assistec, mas a pasta <code>{html.escape(str(dist))}</code>
não existe (ou não tem <code>index.html</code>).</p>
<p>Para compilar o painel, na raiz do repositório:</p>
<pre><code>{html.escape(BUILD_HINT)}</code></pre>
<p>Depois recarregue esta página: não é preciso reiniciar nada. A API continua disponível em
<code>/api/...</code>.</p>
</main>
</body>
</html>
""".encode()


class EdgeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EdgeServer

    # --- dispatch ---------------------------------------------------------------------------------

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        behavior, uri = rules.origin_uri(path)
        if behavior == "api":
            self._proxy(uri, query)
        else:
            self._panel(path, uri)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    # --- the panel's files (the default behavior) -----------------------------------------------

    def _panel(self, path: str, uri: str) -> None:
        config = self.server.config
        self._drain_request_body()
        if self.command not in ("GET", "HEAD"):
            # CloudFront answers a method its behavior does not allow (GET, HEAD) with 403.
            self._reply(403, b"Forbidden\n", "text/plain; charset=utf-8")
            return
        if path == "/config.json":
            body = json.dumps(config.panel_config()).encode()
            self._reply(200, body, "application/json", cache_control=NO_CACHE)
            return
        dist = config.dist.resolve()
        if not (dist / "index.html").is_file():
            self._reply(503, not_built_page(config.dist), "text/html; charset=utf-8", cache_control=NO_CACHE)
            return
        target = (dist / unquote(uri).lstrip("/")).resolve()
        if not target.is_relative_to(dist) or not target.is_file():
            self._reply(404, b"Not Found\n", "text/plain; charset=utf-8")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        relative = target.relative_to(dist).as_posix()
        cache_control = IMMUTABLE if relative.startswith("assets/") else NO_CACHE
        self._reply(200, target.read_bytes(), content_type, cache_control=cache_control)

    def _reply(
        self, status: int, body: bytes, content_type: str, *, cache_control: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cache_control:
            self.send_header("Cache-Control", cache_control)
        self._security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _security_headers(self) -> None:
        for name, value in self.server.security_headers.items():
            self.send_header(name, value)

    def _drain_request_body(self) -> None:
        for _ in self._request_body():
            pass

    # --- the API (/api/*) ---------------------------------------------------------------------------

    def _request_body(self) -> Iterator[bytes]:
        """The request's body as it arrives (Content-Length or chunked), in pieces."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                remaining = size
                while remaining:
                    piece = self.rfile.read(min(CHUNK, remaining))
                    if not piece:
                        return
                    remaining -= len(piece)
                    yield piece
                self.rfile.readline()  # the CRLF after the chunk
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            piece = self.rfile.read(min(CHUNK, remaining))
            if not piece:
                return
            remaining -= len(piece)
            yield piece

    def _proxy(self, uri: str, query: str) -> None:
        upstream = self.server.upstream
        target = upstream.path.rstrip("/") + uri + (f"?{query}" if query else "")
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("host", "content-length")
        }
        headers["Host"] = upstream.netloc
        forwarded = self.headers.get("X-Forwarded-For")
        client_ip = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {client_ip}" if forwarded else client_ip
        headers["X-Forwarded-Proto"] = "http"
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        if not chunked and self.headers.get("Content-Length") is not None:
            headers["Content-Length"] = self.headers["Content-Length"]
        conn = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port or 80, timeout=UPSTREAM_TIMEOUT_S
        )
        try:
            has_body = chunked or self.headers.get("Content-Length") is not None
            conn.request(
                self.command,
                target,
                body=self._request_body() if has_body else None,
                headers=headers,
                encode_chunked=chunked,
            )
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            log.warning("upstream %s unreachable: %s", upstream.netloc, exc)
            self.close_connection = True
            body = json.dumps(
                {
                    "code": "upstream_error",
                    "message": f"O painel local não alcançou a API em {self.server.config.api_url} "
                    "(ela está no ar? make up).",
                    "details": None,
                    "correlation_id": None,
                },
                ensure_ascii=False,
            ).encode()
            self._reply(502, body, "application/json")
            return
        try:
            self._relay(response)
        finally:
            conn.close()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        """The upstream's status, headers (the edge's security headers over its own) and body, as it
        comes: with its Content-Length when it gave one, chunked otherwise."""
        ours = {name.lower() for name in self.server.security_headers}
        self.send_response(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() in HOP_BY_HOP or name.lower() in ours or name.lower() in ("date", "server"):
                continue
            self.send_header(name, value)
        self._security_headers()
        bodiless = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        chunked = length is None and not bodiless
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if bodiless:
            return
        while True:
            piece = response.read1(CHUNK)
            if not piece:
                break
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class EdgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: EdgeConfig, port: int = 0) -> None:
        self.config = config
        self.upstream = urlsplit(config.api_url)
        if self.upstream.scheme != "http":
            raise ValueError(f"the local API is plain http, not {config.api_url!r}")
        self.security_headers = config.headers()
        super().__init__(("127.0.0.1", port), EdgeHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class RunningEdge:
    server: EdgeServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def start(config: EdgeConfig, port: int = 0) -> RunningEdge:
    """Serve on a thread of its own (the tests and ``python -m panel_edge`` both use it)."""
    server = EdgeServer(config, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="panel-edge", daemon=True
    )
    thread.start()
    return RunningEdge(server, thread)


def main() -> int:
    parser = argparse.ArgumentParser(prog="panel_edge")
    parser.add_argument("--config", type=Path, required=True, help="the JSON written by `make up`")
    parser.add_argument("--port", type=int, default=4594, help="0: any free port (printed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    running = start(EdgeConfig.load(args.config), args.port)
    print(f"panel edge on {running.url}", flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
    return 0
