"""A fault-injecting HTTP/1.1 proxy for tests: it sits between the function (its
AWS_ENDPOINT_URL_DYNAMODB points here) and moto's server, and for chosen requests returns
throttling errors, 500/503, answers late, or resets the connection before or after
forwarding the request (after = the write landed but its response is lost).

Standard library only. Plain HTTP/1.1 on loopback, one thread per client connection
(bounded), keep-alive, request bodies with Content-Length or chunked transfer coding (both
are what hyper, under the Rust SDK, may send), `Expect: 100-continue`.

    with FaultProxy(upstream, seed=7, rates={"throttle": 0.05, "reset_after": 0.02}) as proxy:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.url
        ...
        proxy.script(["http503", None, "reset_before"])  # the next three matching requests
        proxy.script([{"status": 400, "type": "com.amazon.coral.validate#ValidationException",
                       "message": "..."}])              # a custom error response
        proxy.counts()  # {"requests": .., "faults": {"http503": 1, ..}, "statuses": .., ..}
        proxy.wait_idle()  # until no request is held (a delayed one still lands upstream)

Kinds: throttle (400 ProvisionedThroughputExceededException), throttling (400
ThrottlingException), http500 (InternalServerError), http503 (empty body), delay (answer after
`delay` seconds: the request is forwarded after the wait, even if the client gave up),
reset_before (RST without forwarding), reset_after (forward, then RST instead of the answer).

Faults apply only to requests whose `X-Amz-Target` is in `targets` (PutItem by default); the
rest pass through and are counted. With a script queued, it decides the next matching
requests (`None` = pass); otherwise each matching request draws from a seeded RNG. Threads
race for the RNG, so which request gets which fault depends on arrival order; the sequence of
draws is fixed by the seed.
"""

from __future__ import annotations

import collections
import http.client
import json
import random
import socket
import struct
import threading
import time
import urllib.parse
import uuid

KINDS = ("throttle", "throttling", "http500", "http503", "delay", "reset_before", "reset_after", "unprocessed")

_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "content-length", "expect", "proxy-authenticate", "proxy-authorization"}

MAX_HEADER_LINE = 65536
MAX_HEADERS = 200
MAX_BODY = 64 * 1024 * 1024


class BadRequest(Exception):
    pass


def _error(status: int, reason: str, type_: str | None, message: str) -> tuple[int, str, list, bytes]:
    body = json.dumps({"__type": type_, "message": message}).encode() if type_ else b""
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", uuid.uuid4().hex)]
    if type_:
        headers.append(("x-amzn-ErrorType", type_.rsplit("#", 1)[-1]))
    return status, reason, headers, body


CANNED = {
    "throttle": lambda: _error(400, "Bad Request", "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                               "The level of configured provisioned throughput for the table was exceeded."),
    "throttling": lambda: _error(400, "Bad Request", "com.amazon.coral.availability#ThrottlingException",
                                 "Rate of requests exceeds the allowed throughput."),
    "http500": lambda: _error(500, "Internal Server Error", "com.amazonaws.dynamodb.v20120810#InternalServerError",
                              "Internal server error"),
    "http503": lambda: _error(503, "Service Unavailable", None, ""),
}


def _reset(sock: socket.socket) -> None:
    """Closes with an RST (SO_LINGER 0) instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultProxy:
    def __init__(self, upstream: str, *, seed: int = 0, rates: dict[str, float] | None = None, delay: float = 5.0,
                 targets: tuple[str, ...] | None = ("DynamoDB_20120810.PutItem",), max_connections: int = 64,
                 idle_timeout: float = 120.0):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 80)
        self.delay = delay
        self.targets = targets
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rates: dict[str, float] = {}
        self.set_rates(rates or {})
        self._script: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.reset_counts()

    # ---- configuration --------------------------------------------------------------

    def set_rates(self, rates: dict[str, float], seed: int | None = None) -> None:
        unknown = set(rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if sum(rates.values()) > 1:
            raise ValueError("fault rates add up to more than 1")
        with self._lock:
            self._rates = dict(rates)
            if seed is not None:
                self._rng = random.Random(seed)

    def script(self, faults: list) -> None:
        """Queues decisions for the next matching requests: a kind, `None` (pass through), or
        a custom error response `{"status": 400, "type": "...#ValidationException", "message": ...}`."""
        for f in faults:
            if f is not None and not isinstance(f, dict) and f not in KINDS:
                raise ValueError(f"unknown fault kind {f!r}")
        with self._lock:
            self._script.extend(faults)

    def clear(self) -> None:
        """No faults from now on (rates zero, script emptied)."""
        with self._lock:
            self._rates = {}
            self._script.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self._requests = 0
            self._matching = 0
            self._forwarded = 0
            self._faults = collections.Counter()
            self._targets = collections.Counter()
            self._statuses = collections.Counter()
            self._connections = 0
            self._rejected = 0
            self._bad = 0
            self._chunked = 0
            self._in_flight = 0
            self._active = 0

    def counts(self) -> dict:
        with self._lock:
            return {
                "requests": self._requests, "matching": self._matching, "forwarded": self._forwarded,
                "faults": dict(self._faults), "targets": dict(self._targets), "statuses": dict(self._statuses),
                "connections": self._connections, "rejected_connections": self._rejected,
                "bad_requests": self._bad, "chunked_requests": self._chunked, "in_flight": self._in_flight,
                "active": self._active,
            }

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Waits until no request is being handled (a delayed request still lands upstream
        after its client gave up); True if idle within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return True
            time.sleep(0.02)
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(128)
        ls.settimeout(0.2)
        self._listener = ls
        self.port = ls.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in list(self._threads):
            t.join(timeout=5)
        if self._listener:
            self._listener.close()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- internals ------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                with self._lock:
                    self._rejected += 1
                _reset(conn)
                continue
            with self._lock:
                self._connections += 1
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn,), name="fault-proxy-conn", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _decide(self, target: str):
        """The fault for the next request: None, a kind, or a custom response (a dict)."""
        with self._lock:
            self._requests += 1
            self._targets[target or "-"] += 1
            if self.targets is not None and target not in self.targets:
                return None
            self._matching += 1
            if self._script:
                kind = self._script.popleft()
            else:
                kind = None
                x = self._rng.random()
                acc = 0.0
                for k in KINDS:
                    acc += self._rates.get(k, 0.0)
                    if x < acc:
                        kind = k
                        break
            if kind:
                self._faults["custom" if isinstance(kind, dict) else kind] += 1
            return kind

    def _serve(self, conn: socket.socket) -> None:
        upstream = [None]  # the kept-alive upstream connection of this client connection
        try:
            conn.settimeout(self.idle_timeout)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rfile = conn.makefile("rb")
            while not self._stop.is_set():
                try:
                    req = self._read_request(rfile, conn)
                except BadRequest:
                    with self._lock:
                        self._bad += 1
                    self._send(conn, 400, "Bad Request", [("Content-Type", "text/plain")], b"bad request", close=True)
                    return
                if req is None:
                    return  # the client closed the connection
                with self._lock:
                    self._active += 1
                try:
                    if self._handle(conn, upstream, *req):
                        return
                finally:
                    with self._lock:
                        self._active -= 1
        except (OSError, http.client.HTTPException):
            return
        finally:
            if upstream[0] is not None:
                upstream[0].close()
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass
            self._slots.release()

    def _handle(self, conn, upstream, method, path, headers, body, close) -> bool:
        """Answers one request; True when the client connection is finished."""
        target = next((v for k, v in headers if k.lower() == "x-amz-target"), "")
        kind = self._decide(target)
        if kind == "reset_before":
            _reset(conn)
            return True
        if isinstance(kind, dict):
            canned = _error(kind.get("status", 400), kind.get("reason", "Bad Request"), kind.get("type"), kind.get("message", ""))
        elif kind in CANNED:
            canned = CANNED[kind]()
        else:
            canned = None
        if canned:
            with self._lock:
                self._statuses[canned[0]] += 1
            self._send(conn, *canned, close=close)
            return close
        if kind == "delay" and self._stop.wait(self.delay):
            return True
        if kind == "unprocessed" and target.endswith(".BatchWriteItem"):
            # DynamoDB's partial success: forward the first half of each table's requests and
            # answer 200 with the rest as UnprocessedItems.
            req = json.loads(body)
            keep, rest = {}, {}
            for table, reqs in req.get("RequestItems", {}).items():
                half = len(reqs) // 2
                if reqs[:half]:
                    keep[table] = reqs[:half]
                rest[table] = reqs[half:]
            if keep:
                upstream[0], _ = self._forward(upstream[0], method, path, headers,
                                               json.dumps({**req, "RequestItems": keep}).encode())
            out = json.dumps({"UnprocessedItems": rest}).encode()
            with self._lock:
                self._statuses[200] += 1
            self._send(conn, 200, "OK", [("Content-Type", "application/x-amz-json-1.0"),
                                         ("x-amzn-RequestId", uuid.uuid4().hex)], out, close=close)
            return close
        upstream[0], resp = self._forward(upstream[0], method, path, headers, body)
        if kind == "reset_after":
            _reset(conn)  # the upstream applied the request; its answer is lost
            return True
        with self._lock:
            self._statuses[resp[0]] += 1
        self._send(conn, *resp, close=close)
        return close

    def _read_request(self, rfile, conn):
        line = rfile.readline(MAX_HEADER_LINE + 1)
        while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests
            line = rfile.readline(MAX_HEADER_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_HEADER_LINE or not line.endswith(b"\n"):
            raise BadRequest()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest()
        method, path, version = parts
        headers = []
        while True:
            h = rfile.readline(MAX_HEADER_LINE + 1)
            if not h or len(h) > MAX_HEADER_LINE:
                raise BadRequest()
            if h in (b"\r\n", b"\n"):
                break
            if len(headers) >= MAX_HEADERS or b":" not in h:
                raise BadRequest()
            k, v = h.decode("latin-1").split(":", 1)
            headers.append((k.strip(), v.strip()))
        hmap = {}
        for k, v in headers:
            hmap.setdefault(k.lower(), []).append(v)
        conn_tokens = {t.strip().lower() for v in hmap.get("connection", []) for t in v.split(",")}
        close = "close" in conn_tokens or (version == "HTTP/1.0" and "keep-alive" not in conn_tokens)
        if any(v.lower() == "100-continue" for v in hmap.get("expect", [])):
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        te = ",".join(hmap.get("transfer-encoding", [])).lower()
        if te:
            if te.split(",")[-1].strip() != "chunked":
                raise BadRequest()
            with self._lock:
                self._chunked += 1
            body = self._read_chunked(rfile)
        elif "content-length" in hmap:
            try:
                n = int(hmap["content-length"][0])
            except ValueError:
                raise BadRequest() from None
            if n < 0 or n > MAX_BODY:
                raise BadRequest()
            body = rfile.read(n)
            if len(body) != n:
                return None
        else:
            body = b""
        return method, path, headers, body, close

    def _read_chunked(self, rfile) -> bytes:
        out = bytearray()
        while True:
            line = rfile.readline(MAX_HEADER_LINE + 1)
            if not line or not line.endswith(b"\n"):
                raise BadRequest()
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest() from None
            if size == 0:
                break
            if len(out) + size > MAX_BODY:
                raise BadRequest()
            chunk = rfile.read(size)
            if len(chunk) != size or rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest()
            out += chunk
        while True:  # trailers
            t = rfile.readline(MAX_HEADER_LINE + 1)
            if not t:
                raise BadRequest()
            if t in (b"\r\n", b"\n"):
                return bytes(out)

    def _forward(self, upstream, method, path, headers, body):
        """Sends the request upstream on a kept-alive connection (reconnecting once if the
        kept-alive one went away) and returns (connection, (status, reason, headers, body))."""
        with self._lock:
            self._in_flight += 1
        try:
            for attempt in (0, 1):
                if upstream is None:
                    upstream = http.client.HTTPConnection(*self.upstream, timeout=300)
                try:
                    upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                    for k, v in headers:
                        if k.lower() not in _HOP:
                            upstream.putheader(k, v)
                    upstream.putheader("Content-Length", str(len(body)))
                    upstream.endheaders(body)
                    r = upstream.getresponse()
                    data = r.read()
                    h = [(k, v) for k, v in r.getheaders() if k.lower() not in _HOP]
                    if r.will_close:
                        upstream.close()
                        upstream = None
                    with self._lock:
                        self._forwarded += 1
                    return upstream, (r.status, r.reason, h, data)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # A stale kept-alive upstream socket: the request did not reach the server.
                    upstream.close()
                    upstream = None
                    if attempt:
                        raise
            raise AssertionError("unreachable")
        finally:
            with self._lock:
                self._in_flight -= 1

    @staticmethod
    def _send(conn, status, reason, headers, body, close=False) -> None:
        head = [f"HTTP/1.1 {status} {reason}"]
        head += [f"{k}: {v}" for k, v in headers]
        head.append(f"Content-Length: {len(body)}")
        head.append("Connection: close" if close else "Connection: keep-alive")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def _selftest() -> None:
    """`python fault_proxy.py`: a quick check against a local echo server."""
    import http.server

    class Echo(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            data = self.rfile.read(n)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with FaultProxy(f"http://127.0.0.1:{srv.server_address[1]}", targets=None, delay=0.2) as p:
        p.script([None, "throttle", "http503", "delay", "reset_before", "reset_after"])
        s = socket.create_connection(("127.0.0.1", p.port))
        f = s.makefile("rb")

        def roundtrip(raw: bytes):
            s.sendall(raw)
            status = f.readline()
            hdrs = {}
            while (h := f.readline()) not in (b"\r\n", b""):
                k, v = h.decode().split(":", 1)
                hdrs[k.lower()] = v.strip()
            return status, f.read(int(hdrs.get("content-length", 0)))

        st, b = roundtrip(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        assert st.startswith(b"HTTP/1.1 200") and b == b"abcde", (st, b)
        st, b = roundtrip(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        assert st.startswith(b"HTTP/1.1 400") and b"ProvisionedThroughputExceededException" in b
        st, _ = roundtrip(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        assert st.startswith(b"HTTP/1.1 503")
        t0 = time.monotonic()
        st, b = roundtrip(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        assert st.startswith(b"HTTP/1.1 200") and b == b"hi" and time.monotonic() - t0 >= 0.2
        for _ in ("reset_before", "reset_after"):
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            try:
                assert f.readline() == b""
            except ConnectionResetError:
                pass
            s = socket.create_connection(("127.0.0.1", p.port))
            f = s.makefile("rb")
        c = p.counts()
        assert c["forwarded"] == 3 and c["faults"]["reset_after"] == 1 and c["connections"] == 3, c
        print(c)
    srv.shutdown()


if __name__ == "__main__":
    _selftest()
