"""The deployment files of deploy/kubernetes and deploy/container, checked against the
Kubernetes API's schemas and against the real `customs` binary: the configuration the
ConfigMap carries starts the gateway with the pod's own arguments, the probes the pod
declares answer, the paths it mounts are those the configuration names, and a stop
fits in the pod's termination grace period.

Run with the rest of the suite (scripts/test), or alone:

    CUSTOMS_BIN=target/debug/customs python3 -m pytest -q tests/deploy
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import REPO_ROOT, customs_bin, get, serving, stop_budget_secs

KUBERNETES = REPO_ROOT / "deploy" / "kubernetes"
DOCKERFILE = REPO_ROOT / "deploy" / "container" / "Dockerfile"
#: The Kubernetes API version the manifests are checked against.
KUBERNETES_VERSION = "1.33.0"
#: Applied in the callers' namespaces, not part of the kustomization.
CLIENT_EXAMPLE = "client-namespace-egress.yaml"


def documents(name: str) -> list[dict[str, Any]]:
    with open(KUBERNETES / name, encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


def kustomization() -> dict[str, Any]:
    return documents("kustomization.yaml")[0]


def resources() -> list[dict[str, Any]]:
    return [doc for name in kustomization()["resources"] for doc in documents(name)]


def one(kind: str) -> dict[str, Any]:
    found = [doc for doc in resources() if doc["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def pod_spec() -> dict[str, Any]:
    return one("StatefulSet")["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    containers = pod_spec()["containers"]
    assert [c["name"] for c in containers] == ["customs"]
    return containers[0]


def config_text() -> str:
    return (KUBERNETES / "customs.toml").read_text(encoding="utf-8")


def config() -> dict[str, Any]:
    return tomllib.loads(config_text())


def option(args: list[str], name: str) -> str:
    assert name in args, f"{name} not in {args}"
    return args[args.index(name) + 1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_every_manifest_is_a_valid_kubernetes_object():
    names = [*kustomization()["resources"], CLIENT_EXAMPLE]
    checked = 0
    for name in names:
        for doc in documents(name):
            # Raises, naming the field, on an unknown field or a wrong type.
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            checked += 1
    assert checked >= 6


def test_the_kustomization_builds_and_mounts_the_generated_configuration():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        assert doc["metadata"].get("namespace", "customs") == "customs"
    (generated,) = [doc for doc in docs if doc["kind"] == "ConfigMap"]
    assert generated["data"]["customs.toml"] == config_text()
    (statefulset,) = [doc for doc in docs if doc["kind"] == "StatefulSet"]
    volumes = statefulset["spec"]["template"]["spec"]["volumes"]
    mounted = [v["configMap"]["name"] for v in volumes if "configMap" in v]
    # The name carries the content's hash, so that a change rolls the pods.
    assert mounted == [generated["metadata"]["name"]]
    assert mounted[0].startswith("customs-config-")


def test_the_kustomization_lists_every_manifest_but_the_callers_example():
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml", CLIENT_EXAMPLE}
    assert set(kustomization()["resources"]) == on_disk
    generated = kustomization()["configMapGenerator"]
    assert generated == [{"name": "customs-config", "files": ["customs.toml"]}]


def test_the_configuration_is_one_customs_accepts(tmp_path: Path):
    path = tmp_path / "customs.toml"
    path.write_text(config_text(), encoding="utf-8")
    checked = subprocess.run(
        [str(customs_bin()), "policy", "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_paths_the_configuration_names_are_mounted():
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec()["volumes"]}
    claims = {c["metadata"]["name"] for c in one("StatefulSet")["spec"]["volumeClaimTemplates"]}
    settings = config()
    # The configuration file, from the ConfigMap.
    config_path = option(container()["args"], "--config")
    assert mounts[config_path]["subPath"] == "customs.toml"
    assert volumes[mounts[config_path]["name"]]["configMap"]["name"] == "customs-config"
    # The audit log, on the replica's own claim, writable.
    audit = mounts[settings["audit"]["dir"]]
    assert audit["name"] in claims and not audit.get("readOnly", False)
    # The checkpoint signing key, from a Secret, readable by the owner only.
    key = Path(settings["audit"]["signing_key_file"])
    key_mount = mounts[str(key.parent)]
    secret = volumes[key_mount["name"]]["secret"]
    assert [item["path"] for item in secret["items"]] == [key.name]
    assert secret["defaultMode"] == 0o400


def test_the_pod_runs_unprivileged_as_the_images_user():
    pod = pod_spec()["securityContext"]
    own = container()["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert own["allowPrivilegeEscalation"] is False
    assert own["readOnlyRootFilesystem"] is True
    assert own["capabilities"]["drop"] == ["ALL"]
    assert pod_spec()["automountServiceAccountToken"] is False
    users = [args for op, args in final_stage() if op == "USER"]
    assert users == [f"{pod['runAsUser']}:{pod['runAsGroup']}"]


def test_the_image_and_the_pod_agree_on_the_binary_and_the_port():
    stage = final_stage()
    entrypoint = [yaml.safe_load(args) for op, args in stage if op == "ENTRYPOINT"]
    assert entrypoint == [["/usr/local/bin/customs"]]
    assert any(op == "COPY" and args.endswith(" /usr/local/bin/customs") for op, args in stage)
    ports = [c["containerPort"] for c in container()["ports"]]
    assert [args for op, args in stage if op == "EXPOSE"] == [str(p) for p in ports]
    assert config()["server"]["listen"].endswith(f":{ports[0]}")
    assert container()["args"][0] == "serve"
    # The builder's toolchain is at least the crate's minimum.
    builder = next(args for op, args in dockerfile_instructions() if op == "FROM")
    built_with = tuple(int(n) for n in re.search(r"rust:(\d+)\.(\d+)", builder).groups())
    with open(REPO_ROOT / "Cargo.toml", "rb") as file:
        minimum = tomllib.load(file)["package"]["rust-version"]
    assert built_with >= tuple(int(n) for n in minimum.split(".")[:2])


def test_the_termination_grace_period_outlasts_a_stop():
    pause = container()["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod_spec()["terminationGracePeriodSeconds"] > pause + stop_budget_secs(config())


def test_the_callers_namespaces_reach_dns_and_customs_only():
    """Every egress rule of the callers' policy names where it goes: a rule with ports
    alone would open those ports to the whole internet."""
    (policy,) = documents(CLIENT_EXAMPLE)
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["podSelector"] == {}
    for rule in policy["spec"]["egress"]:
        assert rule.get("to"), rule
        for peer in rule["to"]:
            assert "ipBlock" not in peer, peer
    (customs_rule,) = [
        rule
        for rule in policy["spec"]["egress"]
        if any("namespaceSelector" in peer and "podSelector" in peer and
               peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name") == "customs"
               for peer in rule["to"])
    ]
    assert [p["port"] for p in customs_rule["ports"]] == [c["containerPort"] for c in container()["ports"]]
    for rule in one("NetworkPolicy")["spec"]["egress"]:
        if any(p["port"] == 53 for p in rule["ports"]):
            assert rule.get("to"), "Customs' DNS rule opens port 53 to every address"


def test_the_service_and_the_disruption_budget_select_the_pods():
    labels = one("StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert one("StatefulSet")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    services = [doc for doc in resources() if doc["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} >= {one("StatefulSet")["spec"]["serviceName"]}
    port_names = {p["name"] for p in container()["ports"]}
    for service in services:
        assert service["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    policy = one("NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]] == [
        c["containerPort"] for c in container()["ports"]
    ]


# --------------------------------------------------------------------------- the real binary


def test_the_configuration_serves_with_the_pods_arguments_and_its_probes_answer(
    tmp_path: Path, jwks_url: str
):
    """`customs` started as the pod starts it, on the ConfigMap's configuration (see
    `conftest.serving` for what stands in for what cannot exist here)."""
    env = {v["name"]: v.get("value", "k8s-test-secret-value") for v in container()["env"]}
    probes = {
        name: container()[name]["httpGet"]["path"]
        for name in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    with serving(tmp_path, config_text(), container()["args"], jwks_url, env, probes["readinessProbe"]) as running:
        for name, path in probes.items():
            assert get(running.url(path)) == 200, name
        annotations = one("StatefulSet")["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(container()["ports"][0]["containerPort"])
        assert get(running.url(annotations["prometheus.io/path"])) == 200
        # A record for the forwarder to deliver to a collector that is not there when
        # the stop comes: the stop then takes its longest.
        running.refused_request()
        # As the kubelet stops a pod once the preStop pause is over: SIGTERM, then
        # SIGKILL when the rest of the grace period is over.
        pause = container()["lifecycle"]["preStop"]["sleep"]["seconds"]
        running.stop(within=pod_spec()["terminationGracePeriodSeconds"] - pause)
    running.assert_log_holds_the_refusal()
