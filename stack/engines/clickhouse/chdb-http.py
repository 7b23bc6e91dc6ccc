#!/usr/bin/env python3
"""A ClickHouse HTTP interface in front of chdb, the embedded ClickHouse engine.

The machine we develop on has no ClickHouse server build newer than 2018, but PyPI's chdb
carries a current ClickHouse engine (26.x) as a library. This process serves that engine over
the subset of ClickHouse's HTTP protocol that @clickhouse/client and curl use, so tests and the
local stack talk to real ClickHouse SQL semantics (MergeTree, TTL, DateTime64, JSON functions,
lightweight DELETE, query parameters) through the same client the product uses in production.

What it is not (see README "ClickHouse in the local stack"): a server. Queries run one at a time,
results are buffered, there is no native TCP protocol, no users or grants beyond one password, no
replication, no ON CLUSTER, no KILL QUERY, and INSERT bodies must be text formats.
"""

import argparse
import email.parser
import email.policy
import gzip
import json
import re
import sys
import threading
import time
import uuid
import zlib
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chdb_session

# URL parameters that steer the HTTP layer rather than being ClickHouse settings.
PROTOCOL_PARAMS = {
    "query", "database", "query_id", "session_id", "session_timeout", "session_check",
    "default_format", "user", "password", "role", "compress", "decompress", "quota_key",
}
# Real ClickHouse settings that only mean something to the HTTP server; accepted and ignored.
HTTP_ONLY_SETTINGS = {
    "wait_end_of_query", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "http_zlib_compression_level", "http_native_compression_disable_checksumming_on_decompress",
    "cancel_http_readonly_queries_on_client_close", "add_http_cors_header", "http_response_buffer_size",
    "buffer_size", "http_wait_end_of_query", "async_insert", "wait_for_async_insert",
    "async_insert_busy_timeout_ms", "async_insert_max_data_size", "http_write_exception_in_output_format",
}
STATUS_BY_CODE = {62: 400, 27: 400, 115: 400, 36: 400, 47: 404, 60: 404, 81: 404, 516: 403, 164: 403}
CODE_RE = re.compile(r"Code: (\d+)\.")
FORMAT_RE = re.compile(r"\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$", re.IGNORECASE)


class Engine:
    """The chdb session. ClickHouse-local state (current database, settings) is per process, so
    every request runs alone and restores what it changed."""

    def __init__(self, path):
        self.session = chdb_session.Session(path)
        self.lock = threading.Lock()

    def run(self, sql, fmt, database, settings, params):
        with self.lock:
            restore = {}
            try:
                self.session.query(f"USE `{database}`") if database else self.session.query("USE default")
                if settings:
                    names = ", ".join("'" + n.replace("'", "") + "'" for n in settings)
                    current = self.session.query(f"SELECT name, value FROM system.settings WHERE name IN ({names})", "JSONEachRow")
                    for line in str(current).splitlines():
                        if line.strip():
                            row = json.loads(line)
                            restore[row["name"]] = row["value"]
                    unknown = [n for n in settings if n not in restore]
                    if unknown:
                        raise RuntimeError(f"Code: 115. DB::Exception: Unknown setting '{unknown[0]}'. (UNKNOWN_SETTING)")
                    for name, value in settings.items():
                        self.session.query(f"SET {name} = {sql_literal(value)}")
                started = time.monotonic()
                result = self.session.query(sql, fmt, params=params or None)
                elapsed = time.monotonic() - started
                return result, elapsed
            finally:
                for name, value in restore.items():
                    try:
                        self.session.query(f"SET {name} = {sql_literal(value)}")
                    except Exception:  # noqa: BLE001 - best effort; the next request sets what it needs
                        pass


def sql_literal(value):
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def log(**fields):
    fields = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "component": "chdb-http", **fields}
    sys.stderr.write(json.dumps(fields) + "\n")
    sys.stderr.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms on loopback) — measured 51 ms per SELECT 1 with it, 5 ms without.
    disable_nagle_algorithm = True
    server_version = "uspa-chdb-http"
    engine: Engine = None  # type: ignore[assignment]
    password = ""

    def log_message(self, format, *args):  # noqa: A002 - silence the default access log
        pass

    def do_HEAD(self):
        self.reply(200, b"", {"Content-Type": "text/plain"})

    def do_GET(self):
        path = urlsplit(self.path).path
        if path in ("/ping", "/replicas_status") or (path == "/" and "query=" not in self.path):
            self.reply(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            return
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else self.read_chunked()
        self.handle_query(body)

    def do_OPTIONS(self):
        self.reply(204, b"", {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"})

    def read_chunked(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return b""
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def handle_query(self, body):
        query_id = None
        try:
            url = urlsplit(self.path)
            pairs = parse_qsl(url.query, keep_blank_values=True)
            args = {}
            for key, value in pairs:
                args[key] = value
            query_id = args.get("query_id") or str(uuid.uuid4())
            self.authenticate(args)

            encoding = self.headers.get("Content-Encoding", "").lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding not in ("", "identity"):
                raise RuntimeError(f"Code: 1. DB::Exception: Content-Encoding {encoding} is not supported by the chdb HTTP front; use gzip or deflate. (NOT_IMPLEMENTED)")

            params = {k[len("param_"):]: v for k, v in args.items() if k.startswith("param_")}
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
                body = b""
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    value = part.get_payload(decode=True).decode("utf-8")
                    if name == "query":
                        body = value.encode("utf-8")
                    elif name and name.startswith("param_"):
                        params[name[len("param_"):]] = value

            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise RuntimeError("Code: 1. DB::Exception: the chdb HTTP front accepts only text bodies (JSONEachRow, CSV, TSV, Values); binary formats are not supported. (NOT_IMPLEMENTED)")
            sql = args.get("query", "")
            sql = f"{sql}\n{text}" if sql and text else (sql or text)
            if not sql.strip():
                raise RuntimeError("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")

            settings = {k: v for k, v in args.items()
                        if k not in PROTOCOL_PARAMS and not k.startswith("param_") and k not in HTTP_ONLY_SETTINGS}
            head = sql.split("\n", 1)[0]
            match = FORMAT_RE.search(head) or FORMAT_RE.search(sql[:4096]) if not head.lstrip().upper().startswith("INSERT") else None
            fmt = match.group(1) if match else args.get("default_format", "TabSeparated")
            database = args.get("database") or self.headers.get("X-ClickHouse-Database") or "default"

            result, elapsed = self.engine.run(sql, fmt, database, settings, params)
            data = result.bytes() if hasattr(result, "bytes") else str(result).encode("utf-8")
            summary = {
                "read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
                "written_rows": "0", "written_bytes": "0", "total_rows_to_read": str(result.rows_read()),
                "result_rows": "0", "result_bytes": str(len(data)), "elapsed_ns": str(int(elapsed * 1e9)),
            }
            headers = {
                "Content-Type": "text/plain; charset=UTF-8" if fmt.startswith(("TabSeparated", "TSV", "CSV")) else "application/json; charset=UTF-8",
                "X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC",
                "X-ClickHouse-Summary": json.dumps(summary), "X-ClickHouse-Server-Display-Name": "uspa-chdb",
            }
            if args.get("enable_http_compression") == "1" and "gzip" in self.headers.get("Accept-Encoding", ""):
                data = gzip.compress(data, compresslevel=1)
                headers["Content-Encoding"] = "gzip"
            self.reply(200, data, headers)
            log(level="info", msg="query", query_id=query_id, kind=head.strip().split(" ", 1)[0].upper()[:16],
                bytes_in=len(body), bytes_out=len(data), elapsed_ms=round(elapsed * 1000, 1))
        except Exception as err:  # noqa: BLE001 - every failure becomes a ClickHouse-style error reply
            message = str(err)
            match = CODE_RE.search(message)
            code = int(match.group(1)) if match else 1001
            if not match:
                message = f"Code: {code}. DB::Exception: {message}. (STD_EXCEPTION)"
            status = STATUS_BY_CODE.get(code, 500)
            self.reply(status, (message.rstrip() + "\n").encode("utf-8"), {
                "Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(code),
                "X-ClickHouse-Query-Id": query_id or "",
            })
            log(level="warn", msg="query failed", query_id=query_id, code=code, status=status)

    def authenticate(self, args):
        user, password = args.get("user", "default"), args.get("password", "")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = b64decode(auth[6:]).decode("utf-8").partition(":")
        if "X-ClickHouse-User" in self.headers:
            user = self.headers["X-ClickHouse-User"]
            password = self.headers.get("X-ClickHouse-Key", "")
        if user != "default" or password != self.password:
            raise RuntimeError(f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)")

    def reply(self, status, data, headers):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True, help="folder holding the databases")
    parser.add_argument("--password-file", help="file with the password of user 'default' (none if absent)")
    opts = parser.parse_args()
    Handler.engine = Engine(opts.path)
    if opts.password_file:
        with open(opts.password_file, encoding="utf-8") as f:
            Handler.password = f.read().strip()
    version = str(Handler.engine.session.query("SELECT version()", "TSV")).strip()
    server = ThreadingHTTPServer((opts.host, opts.port), Handler)
    server.daemon_threads = True
    log(level="info", msg="listening", host=opts.host, port=opts.port, clickhouse_version=version, path=opts.path)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
