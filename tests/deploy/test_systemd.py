"""deploy/systemd: the unit checked by systemd's own analyzer (`systemd-analyze verify`
and its offline security score), and against the `customs` binary: its command line
serves its configuration, its reload signal leaves the gateway serving, and a stop fits
in TimeoutStopSec."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from conftest import REPO_ROOT, customs_bin, get, serving, stop_budget_secs

SYSTEMD = REPO_ROOT / "deploy" / "systemd"
UNIT = SYSTEMD / "customs.service"
#: The highest `systemd-analyze security` exposure accepted ("OK" is below 3.0).
MAX_EXPOSURE = 2.0


def unit() -> list[tuple[str, str, str]]:
    """(section, key, value) of every setting of the unit, in order."""
    settings, section = [], ""
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.append((section, key.strip(), value.strip()))
    return settings


def setting(key: str, section: str = "Service") -> str:
    values = [v for s, k, v in unit() if s == section and k == key]
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def config_text() -> str:
    return (SYSTEMD / "customs.toml").read_text(encoding="utf-8")


def config() -> dict:
    return tomllib.loads(config_text())


def exec_start() -> list[str]:
    return shlex.split(setting("ExecStart"))


def analyzable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart naming the binary under test (the analyzer checks that
    the program exists)."""
    text = UNIT.read_text(encoding="utf-8")
    program = exec_start()[0]
    assert text.count(f"ExecStart={program} ") == 1
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(f"ExecStart={program} ", f"ExecStart={customs_bin()} "), encoding="utf-8")
    return copy


def analyzer() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed")
    return found


def test_systemd_accepts_the_unit(tmp_path: Path):
    checked = subprocess.run(
        [analyzer(), "verify", str(analyzable_unit(tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Nothing said about this unit (other units of the host may have their say).
    assert UNIT.name not in checked.stderr, checked.stderr


def systemd_version(program: str) -> int:
    shown = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30)
    return int(re.search(r"systemd (\d+)", shown.stdout).group(1))


def test_the_unit_is_hardened(tmp_path: Path):
    if systemd_version(analyzer()) < 250:
        pytest.skip("systemd-analyze security --offline needs systemd 250 or later")
    scored = subprocess.run(
        [analyzer(), "security", "--offline=true", "--no-pager", str(analyzable_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", scored.stdout)
    assert match, scored.stdout + scored.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, scored.stdout
    assert setting("DynamicUser") == "yes"
    assert setting("CapabilityBoundingSet") == ""
    assert setting("NoNewPrivileges") == "yes"


def test_the_unit_and_the_configuration_agree():
    args = exec_start()
    assert args[1] == "serve"
    config_path = args[args.index("--config") + 1]
    assert f"deploy/systemd/customs.toml {config_path}" in UNIT.read_text(encoding="utf-8")
    # The audit log in the one writable directory, the state directory.
    assert Path(config()["audit"]["dir"]).is_relative_to(Path("/var/lib") / setting("StateDirectory"))
    # The signing key where systemd hands the credential over.
    credential, _, source = setting("LoadCredential").partition(":")
    assert config()["audit"]["signing_key_file"] == f"/run/credentials/{UNIT.name}/{credential}"
    assert source == "/etc/customs/audit.key"
    assert setting("ExecReload") == "kill -HUP $MAINPID"


def test_timeout_stop_sec_outlasts_a_stop():
    assert int(setting("TimeoutStopSec")) > stop_budget_secs(config())


def test_a_reload_while_the_gateway_starts_does_not_end_it(tmp_path: Path, slow_jwks_url: str):
    """`systemctl reload` right after `start` (Type=exec: started at exec), while the
    gateway still fetches its identity provider's keys."""

    def reload_early(process: subprocess.Popen) -> None:
        time.sleep(0.5)
        assert process.poll() is None
        process.send_signal(signal.SIGHUP)

    env = {"CUSTOMS_HMAC_KEY": "systemd-test-secret-value"}
    with serving(tmp_path, config_text(), exec_start()[1:], slow_jwks_url, env, while_starting=reload_early) as running:
        assert get(running.url("/readyz")) == 200
        running.stop(within=int(setting("TimeoutStopSec")))


def test_the_command_line_serves_survives_a_reload_and_stops_in_time(tmp_path: Path, jwks_url: str):
    env = {"CUSTOMS_HMAC_KEY": "systemd-test-secret-value"}
    with serving(tmp_path, config_text(), exec_start()[1:], jwks_url, env) as running:
        # systemctl reload: the signal ExecReload sends.
        running.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert running.process.poll() is None, running.log()
        assert get(running.url("/readyz")) == 200
        running.refused_request()
        running.stop(within=int(setting("TimeoutStopSec")))
    running.assert_log_holds_the_refusal()
