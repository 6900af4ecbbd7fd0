"""Fixtures of the OpenAI SDK compatibility suite.

Two real `customs serve` processes, each on a free loopback port, stderr captured to a
file:

* the *echo gateway* runs with no configuration file: the embedded default, which trusts
  the development key, so its callers use tokens minted by `customs token`, exactly as a
  developer trying Customs locally would;
* the *upstream gateway* runs with a configuration file written here: it trusts only the
  RSA test key (``tests/support/keys/jwks.json``, tokens signed below with
  ``rsa_test.pem``) -- a file can never trust the development key -- and its
  ``[upstream]`` table points the catalog's remote deployments at a mock OpenAI provider
  (stdlib ``http.server`` in a thread) that records every request it receives.

The binary is ``target/debug/customs`` (``cargo build --bin customs``) unless the
``CUSTOMS_BIN`` environment variable names another one. Nothing listens or connects
beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYS_DIR = REPO_ROOT / "tests" / "support" / "keys"

#: Environment variable, set only in the upstream gateway's environment, naming the key
#: the gateway presents to the (mock) provider.
UPSTREAM_KEY_ENV = "CUSTOMS_SDK_TEST_KEY"
UPSTREAM_KEY = "sk-upstream-test"

#: Customs' own AWS credentials for the Bedrock deployments (prefix → *_ACCESS_KEY_ID,
#: *_SECRET_ACCESS_KEY), set only in the upstream gateways' environment.
AWS_PREFIX = "CUSTOMS_SDK_TEST_AWS"
AWS_ACCESS_KEY_ID = "AKIDCUSTOMSSDKTEST"
AWS_SECRET_ACCESS_KEY = "customs-sdk-test-aws-secret"
BEDROCK_DEPLOYMENTS = ("claude-sonnet-4-bedrock-eu-central-1", "claude-sonnet-4-bedrock-us-east-1")
UPSTREAM_ENV = {
    UPSTREAM_KEY_ENV: UPSTREAM_KEY,
    f"{AWS_PREFIX}_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
    f"{AWS_PREFIX}_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
}

RSA_ISSUER = "https://idp.sdk-test.example"
RSA_AUDIENCE = "customs-sdk-test"
RSA_KID = "test-rsa-1"

#: Every client of the suite: no retries (a retry would hide or double a decision) and a
#: deadline, so that every test ends by itself.
CLIENT_TIMEOUT_SECS = 20
READY_TIMEOUT_SECS = 60
STOP_TIMEOUT_SECS = 10
#: How long the mock holds a stream after its first chunk unless the test releases it.
STREAM_HOLD_SECS = 10

# The suite talks to 127.0.0.1 only: never through a proxy from the environment.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), "127.0.0.1", "localhost"]))


# --------------------------------------------------------------------------- mock upstream


@dataclass
class Received:
    """One request as the mock provider received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def _chat_chunk(delta: dict[str, Any], finish_reason: str | None, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


#: The pieces of the mock's streamed answer, in order.
MOCK_STREAM_PIECES = ["Hello", " from", " the", " mock"]


class _MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_MockServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send_json(self, status: int, value: Any) -> None:
        payload = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._send_json(404, {"error": {"message": "mock: no such endpoint", "type": "invalid_request_error"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = self._read_body()
        mock = self.server.mock
        mock.record(
            Received(
                method="POST",
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body.decode("utf-8", errors="replace"),
            )
        )
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        route = self.path.split("?", 1)[0]
        if route.startswith("/hold/"):
            # A provider still generating: answers once the test releases the stream
            # (or after STREAM_HOLD_SECS, so that a failing test ends).
            mock.stream_released.wait(STREAM_HOLD_SECS)
        if route.endswith("/chat/completions"):
            if request.get("stream") is True:
                self._stream_chat(request)
            else:
                self._send_json(200, self._chat_completion(request))
        elif route.endswith("/embeddings"):
            self._send_json(200, self._embeddings(request))
        elif route == "/v1/messages":
            if request.get("stream") is True:
                self._stream_anthropic(request)
            else:
                self._send_json(200, self._anthropic_message(request))
        elif route.startswith("/model/") and route.endswith("/converse"):
            self._send_json(200, self._converse(request))
        elif route.startswith("/model/") and route.endswith("/converse-stream"):
            self._stream_converse()
        elif ":generateContent" in route:
            self._send_json(200, self._gemini_response("".join(MOCK_STREAM_PIECES)))
        elif ":streamGenerateContent" in route:
            self._stream_gemini()
        else:
            self._send_json(404, {"error": {"message": "mock: no such endpoint", "type": "invalid_request_error"}})

    @staticmethod
    def _chat_completion(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": 1,
            "model": request.get("model", "mock"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(MOCK_STREAM_PIECES), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }

    def _stream_chat(self, request: dict[str, Any]) -> None:
        """Server-sent events, OpenAI framing: the first chunk at once, the rest once the
        test releases the stream (or after STREAM_HOLD_SECS, so that a failing test ends)."""
        model = request.get("model", "mock")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(value: Any) -> bytes:
            return b"data: " + json.dumps(value).encode() + b"\n\n"

        first, *rest = MOCK_STREAM_PIECES
        self._send_chunk(event(_chat_chunk({"role": "assistant", "content": first}, None, model)))
        self.server.mock.stream_released.wait(STREAM_HOLD_SECS)
        for piece in rest:
            self._send_chunk(event(_chat_chunk({"content": piece}, None, model)))
        self._send_chunk(event(_chat_chunk({}, "stop", model)))
        self._send_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @staticmethod
    def _converse(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "".join(MOCK_STREAM_PIECES)}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
            "metrics": {"latencyMs": 1},
        }

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _stream_converse(self) -> None:
        """ConverseStream in AWS event-stream framing: the first delta at once, the rest
        once released."""
        self._start_stream("application/vnd.amazon.eventstream")
        first, *rest = MOCK_STREAM_PIECES

        def delta(text: str) -> bytes:
            return event_stream_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})

        self._send_chunk(event_stream_frame("messageStart", {"role": "assistant"}) + delta(first))
        self.server.mock.stream_released.wait(STREAM_HOLD_SECS)
        for piece in rest:
            self._send_chunk(delta(piece))
        self._send_chunk(event_stream_frame("contentBlockStop", {"contentBlockIndex": 0}))
        self._send_chunk(event_stream_frame("messageStop", {"stopReason": "end_turn"}))
        self._send_chunk(
            event_stream_frame(
                "metadata",
                {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 1}},
            )
        )
        self._end_stream()

    @staticmethod
    def _gemini_response(text: str) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7},
            "modelVersion": "gemini-mock",
        }

    def _stream_gemini(self) -> None:
        """streamGenerateContent as server-sent events (`alt=sse`)."""
        self._start_stream("text/event-stream")
        first, *rest = MOCK_STREAM_PIECES

        def event(text: str) -> bytes:
            return b"data: " + json.dumps(self._gemini_response(text)).encode() + b"\r\n\r\n"

        self._send_chunk(event(first))
        self.server.mock.stream_released.wait(STREAM_HOLD_SECS)
        for piece in rest:
            self._send_chunk(event(piece))
        self._end_stream()

    @staticmethod
    def _anthropic_message(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "msg_mock",
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "mock"),
            "content": [{"type": "text", "text": "".join(MOCK_STREAM_PIECES)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 4},
        }

    def _stream_anthropic(self, request: dict[str, Any]) -> None:
        """Anthropic's named events: the first text delta at once, the rest once released."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(name: str, value: Any) -> bytes:
            return f"event: {name}\ndata: {json.dumps(value)}\n\n".encode()

        def delta(text: str) -> bytes:
            return event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            )

        first, *rest = MOCK_STREAM_PIECES
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_mock", "type": "message", "role": "assistant", "model": request.get("model", "mock"),
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 0},
            },
        }
        self._send_chunk(
            event("message_start", start)
            + event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            + delta(first)
        )
        self.server.mock.stream_released.wait(STREAM_HOLD_SECS)
        for piece in rest:
            self._send_chunk(delta(piece))
        self._send_chunk(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
        self._send_chunk(
            event(
                "message_delta",
                {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 4}},
            )
        )
        self._send_chunk(event("message_stop", {"type": "message_stop"}))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @staticmethod
    def _embeddings(request: dict[str, Any]) -> dict[str, Any]:
        inputs = request.get("input")
        inputs = inputs if isinstance(inputs, list) else [inputs]
        base64_wanted = request.get("encoding_format") == "base64"
        data = []
        for index, _ in enumerate(inputs):
            vector = [0.25 * (index + 1), 0.5, -0.75]
            encoded: Any = vector
            if base64_wanted:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        return {
            "object": "list",
            "data": data,
            "model": request.get("model", "mock"),
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }


def event_stream_frame(event_type: str, payload: Any) -> bytes:
    """One AWS event-stream frame (prelude, headers, payload, two CRC32s), written here
    from the format's definition, independently of Customs' own encoder."""
    body = json.dumps(payload).encode()
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        encoded_name, encoded_value = name.encode(), value.encode()
        headers += bytes([len(encoded_name)]) + encoded_name + bytes([7]) + struct.pack(">H", len(encoded_value)) + encoded_value
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


class _MockServer(ThreadingHTTPServer):
    daemon_threads = True
    mock: "MockUpstream"


class MockUpstream:
    """An OpenAI-compatible provider on 127.0.0.1 that records every request."""

    def __init__(self) -> None:
        self._server = _MockServer(("127.0.0.1", 0), _MockHandler)
        self._server.mock = self
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.stream_released = threading.Event()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="mock-upstream", daemon=True)
        self._thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def reset(self) -> None:
        """Forgets what was received and holds the next stream again."""
        with self._lock:
            self._received.clear()
        self.stream_released.clear()

    def release_stream(self) -> None:
        self.stream_released.set()

    def stop(self) -> None:
        self.stream_released.set()
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------- gateway process


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    """The parent environment without anything that would change what the gateway does
    (its own CUSTOMS_* settings, OTLP export, provider keys, proxies), plus `extra`."""
    dropped_prefixes = (
        "CUSTOMS_",
        "OTEL_",
        "OPENAI_",
        "AZURE_OPENAI_",
        "ANTHROPIC_",
        "AWS_",
        "GEMINI_",
        "GOOGLE_",
        "VERTEX_",
    )
    dropped = {"RUST_LOG", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(dropped_prefixes) and name.upper() not in dropped
    }
    env.update(
        {
            "RUST_LOG": "info",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            # A fixed fingerprint key keeps the start-up warning out of the log.
            "CUSTOMS_HMAC_KEY": "customs-sdk-test-fingerprint-key",
        }
    )
    env.update(extra)
    return env


def _http_get(url: str, timeout: float, cafile: Path | None = None) -> int:
    handlers: list[Any] = [urllib.request.ProxyHandler({})]
    if cafile is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(cafile))))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@dataclass
class Gateway:
    """A running `customs serve` and the bookkeeping the log checks need."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    #: Requests the tests sent to the request path (chat, responses, embeddings): each
    #: must produce exactly one decision line.
    decision_requests: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, api_key: str) -> openai.OpenAI:
        """The official SDK, unchanged: only where to go, the caller's token, a deadline
        and no retries."""
        return openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key,
            timeout=CLIENT_TIMEOUT_SECS,
            max_retries=0,
        )

    def expect_decision(self, count: int = 1) -> None:
        """Notes that the test is about to send `count` requests to the request path."""
        self.decision_requests += count

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def decision_lines(self) -> list[dict[str, Any]]:
        """Every `customs.decision` line of the log, parsed."""
        decisions = []
        for line in self.log_text().splitlines():
            if '"customs.decision"' not in line:
                continue
            record = json.loads(line)
            if record.get("event_name") == "customs.decision":
                decisions.append(record)
        return decisions

    def wait_for_decisions(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The decision lines once at least `count` are written (a streamed request is
        recorded when its stream ends, which may be just after the client saw [DONE]), or
        whatever is there at the deadline. A short settle time lets extra lines show."""
        deadline = time.monotonic() + timeout
        while len(self.decision_lines()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        return self.decision_lines()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECS)


def _customs_bin() -> Path:
    configured = os.environ.get("CUSTOMS_BIN")
    path = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "customs"
    if not path.is_file():
        pytest.fail(f"no customs binary at {path}: run `cargo build --bin customs` or set CUSTOMS_BIN")
    return path


def _start_gateway(
    name: str,
    workdir: Path,
    config: Path | None,
    extra_env: dict[str, str],
    tls: tuple[Path, Path] | None = None,
) -> Gateway:
    port = _free_port()
    log_path = workdir / f"{name}.stderr.log"
    args = [str(_customs_bin()), "serve", "--listen", f"127.0.0.1:{port}"]
    if config is not None:
        args += ["--config", str(config)]
    if tls is not None:
        args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    scheme = "https" if tls is not None else "http"
    with open(log_path, "wb") as log, open(workdir / f"{name}.stdout.log", "wb") as out:
        process = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=_child_env(extra_env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log,
        )
    gateway = Gateway(name=name, process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + READY_TIMEOUT_SECS
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} gateway exited with {process.returncode} before ready:\n{gateway.log_tail()}")
        try:
            cafile = tls[0] if tls is not None else None
            if _http_get(f"{scheme}://127.0.0.1:{port}/readyz", timeout=2, cafile=cafile) == 200:
                return gateway
        except OSError:
            pass
        if time.monotonic() > deadline:
            gateway.stop()
            pytest.fail(f"{name} gateway not ready after {READY_TIMEOUT_SECS} s:\n{gateway.log_tail()}")
        time.sleep(0.1)


def _upstream_config(mock: MockUpstream) -> str:
    """A configuration trusting only the RSA test key, with every remote deployment of
    the bundled catalog pointed at the mock provider."""
    base_urls = {
        "gpt-4o-openai-us": mock.url("/v1"),
        "text-embedding-3-small-openai-us": mock.url("/v1"),
        # Reached from the OpenAI SDK by translation (OpenAI chat → Anthropic Messages)
        # and from Anthropic's SDK natively.
        "claude-sonnet-4-anthropic-us": mock.url(),
        "gemini-2.5-flash-gemini-api": mock.url("/v1beta"),
        # Not used by the tests; pointed at the mock so that nothing can leave the machine.
        "gpt-4o-azure-swedencentral": mock.url(),
    }
    q = json.dumps  # a JSON string is a valid TOML basic string
    lines = [
        "[server]",
        "shutdown_grace_secs = 2",
        f"upstream_timeout_secs = {CLIENT_TIMEOUT_SECS}",
        "",
        "[auth]",
        f"issuer = {q(RSA_ISSUER)}",
        f"audience = {q(RSA_AUDIENCE)}",
        f"jwks_file = {q(str(KEYS_DIR / 'jwks.json'))}",
        'algorithms = ["RS256"]',
        "",
        "[upstream.base_urls]",
        *(f"{q(deployment)} = {q(url)}" for deployment, url in base_urls.items()),
        *(f"{q(deployment)} = {q(mock.url())}" for deployment in BEDROCK_DEPLOYMENTS),
        "",
        "[upstream.credential_envs]",
        *(f"{q(deployment)} = {q(UPSTREAM_KEY_ENV)}" for deployment in base_urls),
        *(f"{q(deployment)} = {q(AWS_PREFIX)}" for deployment in BEDROCK_DEPLOYMENTS),
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- tokens


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_rs256(claims: dict[str, Any], kid: str = RSA_KID) -> str:
    """A compact JWS (RS256) over `claims`, signed with the RSA test key."""
    key = serialization.load_pem_private_key((KEYS_DIR / "rsa_test.pem").read_bytes(), password=None)
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    return f"{signing_input}.{_b64url(signature)}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("customs-sdk")


@pytest.fixture(scope="session")
def _mock_upstream_server() -> Iterator[MockUpstream]:
    mock = MockUpstream()
    yield mock
    mock.stop()


@pytest.fixture
def mock_upstream(_mock_upstream_server: MockUpstream) -> MockUpstream:
    """The mock provider, with nothing received yet."""
    _mock_upstream_server.reset()
    return _mock_upstream_server


@pytest.fixture(scope="session")
def echo_gateway(workdir: Path) -> Iterator[Gateway]:
    """`customs serve` with the embedded default configuration (development key trusted)."""
    gateway = _start_gateway("echo", workdir, config=None, extra_env={})
    yield gateway
    gateway.stop()


def _self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "customs-sdk-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    workdir.mkdir(parents=True, exist_ok=True)
    cert_path = workdir / "tls-cert.pem"
    key_path = workdir / "tls-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="session")
def tls_echo_gateway(workdir: Path) -> Iterator[tuple[Gateway, Path]]:
    """`customs serve --tls-cert --tls-key` on the embedded default: HTTPS, as boto3
    requires before it sends a Bedrock bearer token. Yields the gateway and the
    certificate file its clients trust."""
    cert, key = _self_signed_certificate(workdir)
    gateway = _start_gateway("tls-echo", workdir, config=None, extra_env={}, tls=(cert, key))
    yield gateway, cert
    gateway.stop()


@pytest.fixture(scope="session")
def upstream_gateway(workdir: Path, _mock_upstream_server: MockUpstream) -> Iterator[Gateway]:
    """`customs serve --config FILE`: RSA test key trusted, remote deployments on the mock."""
    config = workdir / "customs-upstream.toml"
    config.write_text(_upstream_config(_mock_upstream_server), encoding="utf-8")
    gateway = _start_gateway("upstream", workdir, config=config, extra_env=UPSTREAM_ENV)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def tls_upstream_gateway(workdir: Path, _mock_upstream_server: MockUpstream) -> Iterator[tuple[Gateway, Path]]:
    """The upstream gateway's configuration served over HTTPS (boto3 sends a bearer token
    only over HTTPS). Yields the gateway and the certificate its clients trust."""
    config = workdir / "customs-tls-upstream.toml"
    config.write_text(_upstream_config(_mock_upstream_server), encoding="utf-8")
    cert, key = _self_signed_certificate(workdir / "tls-upstream")
    gateway = _start_gateway("tls-upstream", workdir, config=config, extra_env=UPSTREAM_ENV, tls=(cert, key))
    yield gateway, cert
    gateway.stop()


@pytest.fixture(scope="session")
def minted_tokens() -> list[str]:
    """Every token handed to a caller during the session: none may appear in any log."""
    return []


@pytest.fixture(scope="session")
def dev_token(minted_tokens: list[str]):
    """Mints a development token with `customs token` (trusted by the echo gateway only)."""

    def mint(sub: str, claims: dict[str, Any] | None = None) -> str:
        args = [str(_customs_bin()), "token", "--sub", sub, "--ttl", "600"]
        if claims:
            args += ["--claims", json.dumps(claims)]
        done = subprocess.run(
            args, cwd=REPO_ROOT, env=_child_env({}), capture_output=True, text=True, timeout=20, check=False
        )
        assert done.returncode == 0, f"customs token failed: {done.stderr}"
        token = done.stdout.strip()
        assert token.count(".") == 2, f"customs token printed no JWT: {done.stdout!r}"
        minted_tokens.append(token)
        return token

    return mint


@pytest.fixture(scope="session")
def rsa_token(minted_tokens: list[str]):
    """Mints an RS256 token for the upstream gateway's configured issuer and audience."""

    def mint(sub: str, claims: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        token = sign_rs256(
            {
                "sub": sub,
                "iss": RSA_ISSUER,
                "aud": RSA_AUDIENCE,
                "iat": now,
                "nbf": now - 5,
                "exp": now + 600,
                **(claims or {}),
            }
        )
        minted_tokens.append(token)
        return token

    return mint
