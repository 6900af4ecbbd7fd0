"""Helpers of the deployment files' checks: the `customs` binary, started on a
deployment's configuration with what cannot exist here replaced by loopback stand-ins."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import signal
import socket
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What `customs serve` adds to a stop beyond the grace period: CUT_SHORT_WAIT, then
#: END_WRITES_WAIT for the stream ends under way; the forwarder's last delivery gets the
#: grace period and one second.
CUT_SHORT_WAIT_SECS = 5
END_WRITES_WAIT_SECS = 0.2
FORWARDER_EXTRA_SECS = 1


def stop_budget_secs(config: dict) -> float:
    """The longest a stop of `customs serve` on `config` may take after SIGTERM."""
    grace = config["server"]["shutdown_grace_secs"]
    return grace + CUT_SHORT_WAIT_SECS + END_WRITES_WAIT_SECS + grace + FORWARDER_EXTRA_SECS


def customs_bin() -> Path:
    configured = os.environ.get("CUSTOMS_BIN")
    path = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "customs"
    if not path.exists():
        pytest.fail(f"no customs binary at {path}: run `cargo build` or set CUSTOMS_BIN")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class _KeysHandler(http.server.SimpleHTTPRequestHandler):
    #: Seconds to wait before answering: an identity provider slow to answer.
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        time.sleep(self.delay)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def _serve_keys(delay: float) -> Iterator[str]:
    keys = REPO_ROOT / "tests" / "support" / "keys"
    handler = functools.partial(type("Keys", (_KeysHandler,), {"delay": delay}), directory=str(keys))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """The test keys' JWKS, served on loopback in place of the identity provider's."""
    yield from _serve_keys(0.0)


@pytest.fixture
def slow_jwks_url() -> Iterator[str]:
    """The same, answering after 2 s: a gateway fetching it is still starting."""
    yield from _serve_keys(2.0)


@dataclass
class Running:
    """`customs` serving a deployment's configuration on loopback."""

    process: subprocess.Popen
    port: int
    log_path: Path
    audit_dir: Path
    public_key: str

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def refused_request(self) -> None:
        """A request without a token: refused (401) and recorded, so that the log and
        its forwarder have a decision."""
        request = urllib.request.Request(
            self.url("/v1/chat/completions"),
            data=b'{"model": "customs-echo", "messages": []}',
            headers={"content-type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback only
        assert caught.value.code == 401

    def stop(self, within: float) -> float:
        """SIGTERM; asserts a clean exit within `within` seconds, returns how long."""
        stopped_at = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=within)
        took = time.monotonic() - stopped_at
        assert code == 0, self.log()
        assert took < within
        return took

    def assert_log_holds_the_refusal(self) -> None:
        """The sealed log holds the refused request and verifies with the key's
        public half."""
        tail = subprocess.run(
            [str(customs_bin()), "audit", "tail", str(self.audit_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert tail.returncode == 0, tail.stderr
        assert '"outcome":"unauthenticated"' in tail.stdout.replace(" ", ""), tail.stdout
        verify = subprocess.run(
            [str(customs_bin()), "audit", "verify", str(self.audit_dir), "--public-key", self.public_key],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr


@contextlib.contextmanager
def serving(
    tmp_path: Path,
    config_text: str,
    args: list[str],
    jwks_url: str,
    env: dict[str, str],
    ready_path: str = "/readyz",
    while_starting: Callable[[subprocess.Popen], None] | None = None,
) -> Iterator[Running]:
    """`customs` started with a deployment's `args` on its configuration. Only what
    cannot exist here is replaced: the identity provider's JWKS URL (served on
    loopback), the paths of the configuration file, the audit log and its signing key
    (moved under `tmp_path`; the key made with `customs audit keygen`), the collector (a
    closed loopback port) and the listen address (loopback, a free port). `env` is the
    deployment's environment on top of this process's, without its OTEL_ and CUSTOMS_
    variables. Calls `while_starting` with the process as soon as it is started, then
    waits until `ready_path` answers 200; kills the process at the end."""
    config = tomllib.loads(config_text)
    audit_dir, key_file = tmp_path / "audit", tmp_path / "audit.key"
    replacements = {
        config["auth"]["jwks_url"]: jwks_url,
        config["audit"]["forward"]["endpoint"]: f"http://127.0.0.1:{free_port()}",
        config["audit"]["dir"]: str(audit_dir),
        config["audit"]["signing_key_file"]: str(key_file),
    }
    for old, new in replacements.items():
        assert config_text.count(f'"{old}"') == 1, old
        config_text = config_text.replace(f'"{old}"', f'"{new}"')
    (tmp_path / "customs.toml").write_text(config_text, encoding="utf-8")
    keygen = subprocess.run(
        [str(customs_bin()), "audit", "keygen", str(key_file)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert keygen.returncode == 0, keygen.stderr

    args = list(args)
    args[args.index("--config") + 1] = str(tmp_path / "customs.toml")
    port = free_port()
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "CUSTOMS_", "RUST_LOG"))
    }
    child_env.update(env)
    log_path = tmp_path / "customs.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(customs_bin()), *args, "--listen", f"127.0.0.1:{port}"],
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    running = Running(process, port, log_path, audit_dir, keygen.stdout.split()[-1])
    try:
        if while_starting is not None:
            while_starting(process)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, running.log()
            try:
                if get(running.url(ready_path)) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "never ready:\n" + running.log()
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
