"""The official OpenAI Python SDK's `AzureOpenAI` client, used unchanged, against a real
`customs serve`: the application changes only `azure_endpoint`, and sends its Customs
token as the `api-key` Azure OpenAI expects. The deployment in the URL is the model.
"""

from __future__ import annotations

import openai
import pytest

from conftest import CLIENT_TIMEOUT_SECS, Gateway

EMAIL = "jane.doe@example.com"


def azure_client(gateway: Gateway, token: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=f"http://127.0.0.1:{gateway.port}",
        api_key=token,
        api_version="2024-10-21",
        timeout=CLIENT_TIMEOUT_SECS,
        max_retries=0,
    )


def test_azure_chat_completion_to_echo_is_redacted(echo_gateway: Gateway, dev_token):
    client = azure_client(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    completion = client.chat.completions.create(
        model="customs-echo",
        messages=[{"role": "user", "content": f"Reply to {EMAIL}."}],
    )

    content = completion.choices[0].message.content or ""
    assert "[EMAIL_1]" in content and EMAIL not in content, content


def test_azure_streamed_chat_and_embeddings(echo_gateway: Gateway, dev_token):
    client = azure_client(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision(2)
    stream = client.chat.completions.create(
        model="customs-echo",
        messages=[{"role": "user", "content": f"Reply to {EMAIL} about the delayed shipment today."}],
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    text = "".join(pieces)
    assert len([p for p in pieces if p]) > 1, pieces
    assert "[EMAIL_1]" in text and EMAIL not in text, text

    embedding = client.embeddings.create(model="customs-echo", input=[f"about {EMAIL}", "plain"])
    assert len(embedding.data) == 2
    assert len(embedding.data[0].embedding) > 0


def test_azure_deny_is_a_permission_error(echo_gateway: Gateway, dev_token):
    client = azure_client(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(
            model="customs-echo",
            messages=[{"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE ok"}],
        )
    assert caught.value.status_code == 403
