"""boto3's `bedrock-runtime` client, used unchanged, against a real `customs serve`
over HTTPS: the application sets `endpoint_url` to Customs and puts its Customs token
where boto3 reads a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`). Customs holds the AWS
credentials; the caller holds none.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import CLIENT_TIMEOUT_SECS, Gateway

EMAIL = "jane.doe@example.com"


@pytest.fixture
def bedrock(tls_echo_gateway: tuple[Gateway, Path], dev_token) -> Iterator[tuple[Gateway, object]]:
    gateway, cert = tls_echo_gateway
    token = dev_token("alice", {"groups": ["engineering"], "residency": "US"})
    saved = {name: os.environ.get(name) for name in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_BEARER_TOKEN_BEDROCK"] = token
    # The caller has no AWS credentials at all: only its Customs token.
    os.environ.pop("AWS_ACCESS_KEY_ID", None)
    os.environ.pop("AWS_SECRET_ACCESS_KEY", None)
    try:
        client = boto3.client(
            "bedrock-runtime",
            region_name="eu-central-1",
            endpoint_url=f"https://127.0.0.1:{gateway.port}",
            verify=str(cert),
            config=botocore.config.Config(
                retries={"max_attempts": 1, "mode": "standard"},
                read_timeout=CLIENT_TIMEOUT_SECS,
                connect_timeout=CLIENT_TIMEOUT_SECS,
            ),
        )
        yield gateway, client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_converse_to_echo_redacts_system_messages_and_tool_use(bedrock):
    gateway, client = bedrock

    gateway.expect_decision()
    response = client.converse(
        modelId="customs-echo",
        system=[{"text": f"Escalate to {EMAIL}."}],
        messages=[
            {"role": "user", "content": [{"text": f"Write to {EMAIL}."}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "send", "input": {"to": EMAIL}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sent"}]}}]},
        ],
        toolConfig={"tools": [{"toolSpec": {"name": "send", "description": "Sends mail.", "inputSchema": {"json": {"type": "object"}}}}]},
    )

    assert response["stopReason"] == "end_turn"
    assert response["usage"]["inputTokens"] > 0
    text = response["output"]["message"]["content"][0]["text"]
    assert EMAIL not in text, text
    echoed = json.loads(text)
    assert echoed["system"] == [{"text": "Escalate to [EMAIL_1]."}]
    assert echoed["messages"][1]["content"][0]["toolUse"]["input"] == {"to": "[EMAIL_1]"}


def test_converse_stream_arrives_as_event_stream_events(bedrock):
    gateway, client = bedrock

    gateway.expect_decision()
    response = client.converse_stream(
        modelId="customs-echo",
        messages=[{"role": "user", "content": [{"text": f"Please write a long note to {EMAIL} about the renewal."}]}],
    )
    kinds = []
    pieces = []
    for event in response["stream"]:
        kind = next(iter(event))
        kinds.append(kind)
        if kind == "contentBlockDelta":
            pieces.append(event[kind]["delta"]["text"])

    assert kinds[0] == "messageStart" and kinds[-1] == "metadata", kinds
    assert len(pieces) > 1
    text = "".join(pieces)
    assert "[EMAIL_1]" in text and EMAIL not in text, text


def test_a_secret_is_refused_as_access_denied(bedrock):
    gateway, client = bedrock

    gateway.expect_decision()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.converse(
            modelId="customs-echo",
            messages=[{"role": "user", "content": [{"text": "my key is AKIAIOSFODNN7EXAMPLE ok"}]}],
        )

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert "secrets.never-leave" in error["Error"]["Message"]
    assert "AKIA" not in json.dumps(error, default=str)


def test_invoke_model_titan_embeddings_are_redacted(bedrock):
    gateway, client = bedrock

    gateway.expect_decision()
    response = client.invoke_model(
        modelId="customs-echo",
        body=json.dumps({"inputText": f"customer {EMAIL}", "dimensions": 256}),
        contentType="application/json",
        accept="application/json",
    )

    answer = json.loads(response["body"].read())
    assert len(answer["embedding"]) > 0
    assert answer["customs_echo"]["inputText"] == "customer [EMAIL_1]"


def test_invoke_model_with_response_stream_anthropic_body(bedrock):
    gateway, client = bedrock

    gateway.expect_decision()
    response = client.invoke_model_with_response_stream(
        modelId="customs-echo",
        body=json.dumps(
            {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": f"Write to {EMAIL} about the overdue invoice, please."}],
            }
        ),
    )
    text = ""
    for event in response["body"]:
        inner = json.loads(event["chunk"]["bytes"])
        if inner["type"] == "content_block_delta":
            text += inner["delta"]["text"]

    assert "[EMAIL_1]" in text and EMAIL not in text, text


# ------------------------------------------------- through the provider (mock Bedrock)


def _verify_sigv4(received, secret: str) -> None:
    """Recomputes the request's SigV4 signature with botocore's own signer, from the
    request exactly as the mock received it, and compares."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = received.headers["authorization"]
    fields = dict(part.strip().split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
    access_key, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(
        method="POST",
        url=f"http://{received.headers['host']}{received.path}",
        data=received.body.encode(),
        headers={name: received.headers[name] for name in signed},
    )
    request.context["timestamp"] = received.headers["x-amz-date"]
    signer = SigV4Auth(Credentials(access_key, secret), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert fields["Signature"] == expected, canonical


@pytest.fixture
def bedrock_upstream(tls_upstream_gateway, rsa_token, mock_upstream):
    gateway, cert = tls_upstream_gateway
    token = rsa_token("bob", {"groups": ["engineering"], "residency": "EU"})
    saved = os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
    os.environ["AWS_BEARER_TOKEN_BEDROCK"] = token
    try:
        client = boto3.client(
            "bedrock-runtime",
            region_name="eu-central-1",
            endpoint_url=f"https://127.0.0.1:{gateway.port}",
            verify=str(cert),
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=CLIENT_TIMEOUT_SECS),
        )
        yield gateway, client, token, mock_upstream
    finally:
        if saved is None:
            os.environ.pop("AWS_BEARER_TOKEN_BEDROCK", None)
        else:
            os.environ["AWS_BEARER_TOKEN_BEDROCK"] = saved


def test_converse_through_bedrock_is_redacted_and_signed_by_customs(bedrock_upstream):
    from conftest import AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, MOCK_STREAM_PIECES

    gateway, client, token, mock = bedrock_upstream

    gateway.expect_decision()
    response = client.converse(
        modelId="claude-sonnet-4",
        messages=[{"role": "user", "content": [{"text": f"Write to {EMAIL}."}]}],
    )

    assert response["output"]["message"]["content"][0]["text"] == "".join(MOCK_STREAM_PIECES)
    assert response["usage"]["outputTokens"] == 4
    received = mock.received()
    assert len(received) == 1, received
    arrived = received[0]
    # The EU caller's request went to the Frankfurt deployment, model id in the path.
    assert arrived.path == "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    body = arrived.json()
    assert body["messages"][0]["content"][0]["text"] == "Write to [EMAIL_1]."
    assert EMAIL not in arrived.body
    # Signed by Customs with its own credentials, over the body as it left.
    assert arrived.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/")
    assert "/eu-central-1/bedrock/aws4_request" in arrived.headers["authorization"]
    _verify_sigv4(arrived, AWS_SECRET_ACCESS_KEY)
    for name, value in arrived.headers.items():
        assert token not in value, f"the caller's token reached the provider in {name}"


def test_converse_stream_through_bedrock_arrives_incrementally(bedrock_upstream):
    from conftest import AWS_SECRET_ACCESS_KEY, MOCK_STREAM_PIECES, STREAM_HOLD_SECS

    gateway, client, _, mock = bedrock_upstream

    gateway.expect_decision()
    started = time.monotonic()
    response = client.converse_stream(
        modelId="claude-sonnet-4",
        messages=[{"role": "user", "content": [{"text": "Say hello."}]}],
    )
    events = iter(response["stream"])
    pieces = []
    for event in events:
        if "contentBlockDelta" in event:
            pieces.append(event["contentBlockDelta"]["delta"]["text"])
            break
    first_after = time.monotonic() - started
    mock.release_stream()
    kinds = []
    for event in events:
        kind = next(iter(event))
        kinds.append(kind)
        if kind == "contentBlockDelta":
            pieces.append(event[kind]["delta"]["text"])

    assert first_after < STREAM_HOLD_SECS / 2, f"the first delta took {first_after:.1f} s"
    assert "".join(pieces) == "".join(MOCK_STREAM_PIECES)
    assert kinds[-1] == "metadata", kinds
    arrived = mock.received()[0]
    assert arrived.path.endswith("/converse-stream")
    _verify_sigv4(arrived, AWS_SECRET_ACCESS_KEY)
