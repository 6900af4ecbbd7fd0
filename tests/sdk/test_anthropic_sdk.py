"""The official Anthropic Python SDK, used unchanged, against a real `customs serve`.

The application changes only its base URL and uses its Customs token as its API key
(the SDK sends it in `x-api-key`); `customs-echo` answers in Anthropic's shape, so each
test sees exactly what would have left.
"""

from __future__ import annotations

import json

import anthropic
import pytest

from conftest import CLIENT_TIMEOUT_SECS, Gateway

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


def client_for(gateway: Gateway, token: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=f"http://127.0.0.1:{gateway.port}",
        api_key=token,
        timeout=CLIENT_TIMEOUT_SECS,
        max_retries=0,
    )


def test_messages_to_echo_redact_system_messages_and_tool_use(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"], "residency": "US"}))

    echo_gateway.expect_decision()
    message = client.messages.create(
        model="customs-echo",
        max_tokens=256,
        system=f"Escalations go to {EMAIL}.",
        messages=[
            {"role": "user", "content": f"Charge card {CARD} please."},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "charge", "input": {"card": CARD}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": f"receipt sent to {EMAIL}"}],
            },
        ],
        tools=[{"name": "charge", "description": "Charges a card.", "input_schema": {"type": "object"}}],
    )

    assert message.type == "message"
    assert message.role == "assistant"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    text = message.content[0].text
    assert EMAIL not in text and CARD not in text, text
    echoed = json.loads(text)
    assert echoed["system"] == "Escalations go to [EMAIL_1]."
    # The tool input stays an object; its string is redacted in place.
    assert echoed["messages"][1]["content"][0]["input"] == {"card": "[CARD_NUMBER_1]"}
    assert echoed["messages"][2]["content"][0]["content"] == "receipt sent to [EMAIL_1]"


def test_streamed_messages_arrive_as_anthropic_events(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    with client.messages.stream(
        model="customs-echo",
        max_tokens=256,
        messages=[{"role": "user", "content": f"Write to {EMAIL} about the long overdue invoice, please."}],
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 1, pieces
    text = "".join(pieces)
    assert "[EMAIL_1]" in text and EMAIL not in text, text
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"


def test_a_secret_is_refused_with_a_permission_error_naming_the_policy(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        client.messages.create(
            model="customs-echo",
            max_tokens=16,
            messages=[{"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE ok"}],
        )

    assert caught.value.status_code == 403
    body = caught.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "permission_error"
    assert body["error"]["policy_ids"] == ["secrets.never-leave"]
    assert "AKIA" not in json.dumps(body)


def test_a_bad_key_is_an_authentication_error(echo_gateway: Gateway):
    client = client_for(echo_gateway, "not-a-jwt")

    echo_gateway.expect_decision()
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(model="customs-echo", max_tokens=16, messages=[{"role": "user", "content": "hi"}])

    assert caught.value.status_code == 401
    assert caught.value.body["error"]["type"] == "authentication_error"


# ------------------------------------------------ through the provider (mock Anthropic)


def test_messages_through_anthropic_are_redacted_and_keyed_by_customs(upstream_gateway, mock_upstream, rsa_token):
    from conftest import MOCK_STREAM_PIECES, UPSTREAM_KEY

    token = rsa_token("bob", {"groups": ["engineering"], "residency": "US"})
    client = client_for(upstream_gateway, token)

    upstream_gateway.expect_decision(2)
    message = client.messages.create(
        model="claude-sonnet-4-anthropic-us",
        max_tokens=64,
        messages=[{"role": "user", "content": f"Write to {EMAIL}."}],
    )
    with client.messages.stream(
        model="claude-sonnet-4-anthropic-us",
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello."}],
    ) as stream:
        pieces = []
        for text in stream.text_stream:
            pieces.append(text)
            mock_upstream.release_stream()
        final = stream.get_final_message()

    assert message.content[0].text == "".join(MOCK_STREAM_PIECES)
    assert message.usage.output_tokens == 4
    assert "".join(pieces) == "".join(MOCK_STREAM_PIECES)
    assert final.stop_reason == "end_turn"
    received = mock_upstream.received()
    assert [r.path for r in received] == ["/v1/messages", "/v1/messages"]
    assert received[0].json()["messages"][0]["content"] == "Write to [EMAIL_1]."
    assert received[0].json()["model"] == "claude-sonnet-4-5"
    for arrived in received:
        assert EMAIL not in arrived.body
        assert arrived.headers["x-api-key"] == UPSTREAM_KEY
        for name, value in arrived.headers.items():
            assert token not in value, f"the caller's token reached the provider in {name}"


def test_models_list_and_retrieve_answer_in_anthropics_shape(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice"))

    models = list(client.models.list())
    ids = [model.id for model in models]
    assert {"customs-echo", "claude-sonnet-4"} <= set(ids), ids
    assert len(ids) == len(set(ids)), "one page, no repeats"
    assert all(model.type == "model" for model in models)

    one = client.models.retrieve("customs-echo")
    assert one.id == "customs-echo"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("no-such-model")


def test_models_list_with_a_bad_key_raises_authentication_error(echo_gateway: Gateway):
    client = client_for(echo_gateway, "not-a-jwt")

    with pytest.raises(anthropic.AuthenticationError):
        client.models.list()
