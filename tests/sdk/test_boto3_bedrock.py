"""boto3's `bedrock-runtime` client, used unchanged, against a real `customs serve`
over HTTPS: the application sets `endpoint_url` to Customs and puts its Customs token
where boto3 reads a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`). Customs holds the AWS
credentials; the caller holds none.
"""

from __future__ import annotations

import json
import os
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
