"""The official OpenAI Python SDK, used unchanged, against a real `customs serve`.

Each test is one thing an application does with the SDK; the assertions mirror the Rust
integration tests (tests/it/flow.rs): what the caller gets back, what reached the
provider, and what the decision log says. The log check runs last (pytest keeps file
order) because it accounts for every request the other tests made.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import openai
import pytest

from conftest import (
    MOCK_STREAM_PIECES,
    STREAM_HOLD_SECS,
    UPSTREAM_ENV,
    UPSTREAM_KEY,
    Gateway,
    MockUpstream,
    _customs_bin,
    _start_gateway,
    _upstream_config,
)

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
SSN = "123-45-6789"
PII_VALUES = [EMAIL, CARD, SSN, CARD.replace(" ", "")]


def pii_prompt() -> str:
    return f"Customer {EMAIL} paid with {CARD}; SSN {SSN}. Reply to {EMAIL}."


def assert_no_pii(text: str) -> None:
    for value in PII_VALUES:
        assert value not in text, f"{value!r} left the building: {text}"


def assert_nothing_of_caller(token: str, received_headers: dict[str, str], received_body: str) -> None:
    """The caller's token never travels upstream, in any header or in the body."""
    for name, value in received_headers.items():
        assert token not in value, f"the caller's token reached the provider in {name}"
    assert token not in received_body


# ------------------------------------------------------------------ echo gateway (dev key)


def test_chat_completion_to_echo_shows_placeholders_and_none_of_the_values(echo_gateway: Gateway, dev_token):
    client = echo_gateway.client(dev_token("alice", {"groups": ["engineering"], "residency": "US"}))

    echo_gateway.expect_decision()
    completion = client.chat.completions.create(
        model="customs-echo",
        messages=[{"role": "user", "content": pii_prompt()}],
    )

    assert completion.object == "chat.completion"
    assert completion.model == "customs-echo"
    assert completion.choices[0].finish_reason == "stop"
    content = completion.choices[0].message.content
    assert content is not None
    assert_no_pii(content)
    assert "[EMAIL_1]" in content, content
    assert "[CARD_NUMBER_1]" in content, content
    assert "[US_SSN_1]" in content, content
    # The same address twice gets the same placeholder, and no second number.
    assert content.count("[EMAIL_1]") == 2, content
    assert "[EMAIL_2]" not in content, content


def test_responses_api_to_echo_redacts_instructions_and_input(echo_gateway: Gateway, dev_token):
    client = echo_gateway.client(dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    response = client.responses.create(
        model="customs-echo",
        instructions=f"Send the summary to {EMAIL}.",
        input=f"The card is {CARD} and the SSN is {SSN}.",
    )

    assert response.status == "completed"
    assert response.model == "customs-echo"
    text = response.output_text
    assert_no_pii(text)
    for placeholder in ("[EMAIL_1]", "[CARD_NUMBER_1]", "[US_SSN_1]"):
        assert placeholder in text, text


def test_streamed_responses_api_to_echo_arrives_as_typed_events(echo_gateway: Gateway, dev_token):
    client = echo_gateway.client(dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    stream = client.responses.create(model="customs-echo", input=f"Write to {EMAIL}.", stream=True)
    with stream:
        events = list(stream)

    kinds = [event.type for event in events]
    assert kinds[0] == "response.created", kinds
    assert kinds[-1] == "response.completed", kinds
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert "[EMAIL_1]" in deltas, deltas
    assert_no_pii(deltas)
    assert events[-1].response.output_text == deltas


def test_models_list_includes_the_echo_model_and_the_gpt_4o_alias(echo_gateway: Gateway, dev_token):
    client = echo_gateway.client(dev_token("alice"))

    ids = {model.id for model in client.models.list()}

    assert {"customs-echo", "gpt-4o"} <= ids, ids
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_a_token_that_is_not_a_jwt_raises_authentication_error(echo_gateway: Gateway):
    client = echo_gateway.client("not-a-jwt")

    echo_gateway.expect_decision()
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="customs-echo", messages=[{"role": "user", "content": "hello"}])

    assert caught.value.status_code == 401
    assert caught.value.response.headers.get("www-authenticate", "").lower().startswith("bearer")
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


# ------------------------------------------------------------ upstream gateway (RSA key)


def test_streamed_chat_through_the_provider_sends_placeholders_and_the_gateway_key(
    upstream_gateway: Gateway, mock_upstream: MockUpstream, rsa_token
):
    token = rsa_token("bob", {"groups": ["engineering"], "residency": "US"})
    client = upstream_gateway.client(token)

    upstream_gateway.expect_decision()
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4o-us",
        stream=True,
        messages=[
            {"role": "system", "content": "You help support."},
            {"role": "user", "content": pii_prompt()},
        ],
    )
    with stream:
        chunks = iter(stream)
        # The provider holds everything after its first chunk until released: getting
        # the first chunk now proves nothing in between buffers the stream.
        first = next(chunks)
        first_after = time.monotonic() - started
        mock_upstream.release_stream()
        rest = list(chunks)

    assert first_after < STREAM_HOLD_SECS / 2, f"the first chunk took {first_after:.1f} s"
    assert first.object == "chat.completion.chunk"
    assert first.choices[0].delta.content == MOCK_STREAM_PIECES[0]
    pieces = [chunk.choices[0].delta.content or "" for chunk in [first, *rest] if chunk.choices]
    assert "".join(pieces) == "".join(MOCK_STREAM_PIECES)
    assert rest[-1].choices[0].finish_reason == "stop"

    received = mock_upstream.received()
    assert len(received) == 1, received
    arrived = received[0]
    assert arrived.path == "/v1/chat/completions"
    assert_no_pii(arrived.body)
    body = arrived.json()
    assert body["model"] == "gpt-4o"
    assert body["stream"] is True
    assert body["messages"][0]["content"] == "You help support."
    user_content = body["messages"][1]["content"]
    for placeholder in ("[EMAIL_1]", "[CARD_NUMBER_1]", "[US_SSN_1]"):
        assert placeholder in user_content, user_content
    # The provider key comes from the gateway's environment; the caller's token stays.
    assert arrived.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert_nothing_of_caller(token, arrived.headers, arrived.body)


def test_openai_sdk_reaches_an_anthropic_deployment_by_translation(
    upstream_gateway: Gateway, mock_upstream: MockUpstream, rsa_token
):
    """The application keeps the OpenAI SDK; the catalog routes the model to Anthropic.
    Customs sends Anthropic's Messages API and turns its event stream back into
    `chat.completion.chunk`s, incrementally."""
    token = rsa_token("bob", {"groups": ["engineering"], "residency": "US"})
    client = upstream_gateway.client(token)

    upstream_gateway.expect_decision()
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="claude-sonnet-4-anthropic-us",
        stream=True,
        stream_options={"include_usage": True},
        messages=[
            {"role": "system", "content": "You help support."},
            {"role": "user", "content": pii_prompt()},
        ],
    )
    with stream:
        chunks = iter(stream)
        first = next(chunks)
        while not (first.choices and first.choices[0].delta.content):
            first = next(chunks)
        first_after = time.monotonic() - started
        mock_upstream.release_stream()
        rest = list(chunks)

    assert first_after < STREAM_HOLD_SECS / 2, f"the first text took {first_after:.1f} s"
    pieces = [chunk.choices[0].delta.content or "" for chunk in [first, *rest] if chunk.choices]
    assert "".join(pieces) == "".join(MOCK_STREAM_PIECES)
    finishes = [chunk.choices[0].finish_reason for chunk in rest if chunk.choices and chunk.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert rest[-1].usage is not None and rest[-1].usage.completion_tokens == 4

    received = mock_upstream.received()
    assert len(received) == 1, received
    arrived = received[0]
    assert arrived.path == "/v1/messages"
    assert_no_pii(arrived.body)
    body = arrived.json()
    assert body["model"] == "claude-sonnet-4-5"
    assert body["stream"] is True
    assert body["system"] == "You help support." or body["system"] == [{"type": "text", "text": "You help support."}]
    sent_text = json.dumps(body["messages"])
    for placeholder in ("[EMAIL_1]", "[CARD_NUMBER_1]", "[US_SSN_1]"):
        assert placeholder in sent_text, sent_text
    assert arrived.headers["x-api-key"] == UPSTREAM_KEY
    assert "anthropic-version" in arrived.headers
    assert_nothing_of_caller(token, arrived.headers, arrived.body)


def test_embeddings_through_the_provider_redact_the_input_and_parse(
    upstream_gateway: Gateway, mock_upstream: MockUpstream, rsa_token
):
    token = rsa_token("bob", {"groups": ["engineering"], "residency": "US"})
    client = upstream_gateway.client(token)

    upstream_gateway.expect_decision()
    result = client.embeddings.create(model="text-embedding-3-small", input=["plain text", f"mail {EMAIL}"])

    assert result.object == "list"
    assert [item.index for item in result.data] == [0, 1]
    # The SDK asks for base64 by default and decodes it back into floats.
    assert result.data[0].embedding == pytest.approx([0.25, 0.5, -0.75])
    assert result.data[1].embedding == pytest.approx([0.5, 0.5, -0.75])

    received = mock_upstream.received()
    assert len(received) == 1, received
    arrived = received[0]
    assert arrived.path == "/v1/embeddings"
    body = arrived.json()
    assert body["model"] == "text-embedding-3-small"
    assert body["input"] == ["plain text", "mail [EMAIL_1]"]
    assert_no_pii(arrived.body)
    assert arrived.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert_nothing_of_caller(token, arrived.headers, arrived.body)


def test_eu_resident_asking_for_a_us_only_model_gets_permission_denied_with_the_policy_id(
    upstream_gateway: Gateway, mock_upstream: MockUpstream, rsa_token
):
    client = upstream_gateway.client(rsa_token("eva", {"residency": "EU", "groups": ["engineering"]}))

    upstream_gateway.expect_decision()
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="gpt-4o-us", messages=[{"role": "user", "content": "hello"}])

    error = caught.value
    assert error.status_code == 403
    assert isinstance(error.body, dict), error.body
    assert error.body["type"] == "policy_violation"
    assert error.body["policy_ids"] == ["residency.eu-stays-in-eu"]
    assert error.type == "policy_violation"
    assert error.code == "denied_by_policy"
    assert error.body["decision_id"] == error.response.headers["x-customs-decision-id"]
    assert mock_upstream.received() == [], "a denied request reached the provider"


def test_a_development_token_is_refused_by_a_gateway_with_a_configured_issuer(
    upstream_gateway: Gateway, mock_upstream: MockUpstream, dev_token
):
    client = upstream_gateway.client(dev_token("mallory", {"groups": ["engineering"]}))

    upstream_gateway.expect_decision()
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="gpt-4o-us", messages=[{"role": "user", "content": "hello"}])

    assert caught.value.status_code == 401
    assert mock_upstream.received() == [], "an unauthenticated request reached the provider"


# ------------------------------------------------------------------------- decision log


def test_decision_log_has_one_line_per_request_and_no_pii_or_credentials(
    echo_gateway: Gateway, upstream_gateway: Gateway, dev_token, minted_tokens: list[str]
):
    """Runs last: every request the suite sent to the request path (chat, responses,
    embeddings; `GET /v1/models` is not a decision) is exactly one `customs.decision`
    line, and no log carries a PII value or a credential. It sends a request of its own
    so that it checks something even when run alone."""
    echo_gateway.expect_decision()
    raw = echo_gateway.client(dev_token("zoe")).chat.completions.with_raw_response.create(
        model="customs-echo", messages=[{"role": "user", "content": pii_prompt()}]
    )
    decision_id = raw.headers["x-customs-decision-id"]
    assert raw.parse().choices[0].message.content

    for gateway in (echo_gateway, upstream_gateway):
        decisions = gateway.wait_for_decisions(gateway.decision_requests)
        assert len(decisions) == gateway.decision_requests, (
            f"{gateway.name}: {len(decisions)} decision lines for {gateway.decision_requests} requests:\n"
            + gateway.log_tail()
        )
        assert all(line.get("target") == "customs::decision" for line in decisions), decisions
        ids = [line["decision_id"] for line in decisions]
        assert len(set(ids)) == len(ids), f"{gateway.name}: repeated decision ids {ids}"

    mine = [line for line in echo_gateway.decision_lines() if line["decision_id"] == decision_id]
    assert len(mine) == 1, decision_id
    assert mine[0]["outcome"] == "modify"
    assert mine[0]["redactions"] == 4
    assert mine[0]["principal"] == "zoe"

    secrets = [*PII_VALUES, UPSTREAM_KEY, *minted_tokens]
    for gateway in (echo_gateway, upstream_gateway):
        log = gateway.log_text()
        for secret in secrets:
            assert secret not in log, f"the {gateway.name} gateway's log carries {secret[:12]}..."


def test_a_stream_open_when_customs_shuts_down_breaks_off_and_is_recorded(
    workdir: Path, mock_upstream: MockUpstream, rsa_token
):
    """SIGTERM with no grace period left while the provider holds a stream back: the
    SDK's stream raises instead of ending as if complete, Customs exits cleanly, and
    the sealed durable log holds the decision and then the stream's end as
    `server_shutdown`."""
    audit = workdir / "shutdown-audit"
    config = workdir / "shutdown.toml"
    settings = _upstream_config(mock_upstream).replace("shutdown_grace_secs = 2", "shutdown_grace_secs = 0")
    assert "shutdown_grace_secs = 0" in settings
    settings += f"\n[audit]\ndir = {json.dumps(str(audit))}\n\n[audit.forward]\nenabled = false\n"
    config.write_text(settings, encoding="utf-8")
    gateway = _start_gateway("shutdown", workdir, config=config, extra_env=UPSTREAM_ENV)
    try:
        client = gateway.client(rsa_token("bob", {"groups": ["engineering"], "residency": "US"}))
        stream = client.chat.completions.create(
            model="gpt-4o-us",
            stream=True,
            messages=[{"role": "user", "content": "Say hello."}],
        )
        with stream:
            chunks = iter(stream)
            first = next(chunks)
            assert first.choices[0].delta.content == MOCK_STREAM_PIECES[0]
            gateway.process.send_signal(signal.SIGTERM)
            # The HTTP client's error for a body cut off mid-way (which class depends on
            # the SDK's HTTP library); a stream that ended as if complete raises nothing.
            with pytest.raises(Exception):
                list(chunks)
        assert gateway.process.wait(timeout=15) == 0, gateway.log_tail()
    finally:
        gateway.stop()
        mock_upstream.release_stream()

    tail = subprocess.run(
        [str(_customs_bin()), "audit", "tail", str(audit)], capture_output=True, text=True, timeout=30
    )
    assert tail.returncode == 0, tail.stderr
    records = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [(r.get("event", "decision"), r.get("outcome")) for r in records] == [
        ("decision", "allow"),
        ("stream_end", "server_shutdown"),
    ], records
    assert records[0]["decision_id"] == records[1]["decision_id"]


def test_a_request_past_max_concurrent_requests_is_told_to_retry_and_is_recorded(
    workdir: Path, mock_upstream: MockUpstream, rsa_token
):
    """With `max_concurrent_requests = 1` and one request waiting on the provider, the
    next gets the SDK's 503 error with code `overloaded` and `Retry-After`, and its
    refusal is recorded; once the first is answered, requests are served again."""
    config = workdir / "overload.toml"
    settings = _upstream_config(mock_upstream).replace(
        "[server]\n", "[server]\nmax_concurrent_requests = 1\n", 1
    )
    hold = mock_upstream.url("/hold/v1")
    settings = settings.replace(json.dumps(mock_upstream.url("/v1")), json.dumps(hold), 1)
    assert "max_concurrent_requests = 1" in settings and hold in settings
    config.write_text(settings, encoding="utf-8")
    gateway = _start_gateway("overload", workdir, config=config, extra_env=UPSTREAM_ENV)
    try:
        client = gateway.client(rsa_token("bob", {"groups": ["engineering"], "residency": "US"}))
        messages = [{"role": "user", "content": "Say hello."}]
        first: dict[str, object] = {}

        def waits_on_the_provider() -> None:
            try:
                first["answer"] = client.chat.completions.create(model="gpt-4o-us", messages=messages)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                first["error"] = error

        holder = threading.Thread(target=waits_on_the_provider, daemon=True)
        holder.start()
        deadline = time.monotonic() + 10
        while not mock_upstream.received():
            assert time.monotonic() < deadline, "the first request never reached the provider"
            time.sleep(0.05)

        with pytest.raises(openai.InternalServerError) as caught:
            client.with_options(max_retries=0).chat.completions.create(model="gpt-4o-us", messages=messages)
        error = caught.value
        assert error.status_code == 503
        assert error.code == "overloaded", error.body
        assert error.response.headers["retry-after"] == "1"
        refused_id = error.response.headers["x-customs-decision-id"]
        assert len(mock_upstream.received()) == 1, "the refused request reached the provider"

        mock_upstream.release_stream()
        holder.join(timeout=15)
        assert "error" not in first, first
        assert first["answer"].choices[0].message.content == "".join(MOCK_STREAM_PIECES)
        again = client.chat.completions.create(model="gpt-4o-us", messages=messages)
        assert again.choices[0].message.content == "".join(MOCK_STREAM_PIECES)

        decisions = gateway.wait_for_decisions(3)
        refused = [line for line in decisions if line["decision_id"] == refused_id]
        assert len(refused) == 1, decisions
        assert refused[0]["outcome"] == "error"
        assert refused[0]["status"] == 503
        assert sorted(line["outcome"] for line in decisions) == ["allow", "allow", "error"], decisions
    finally:
        gateway.stop()
        mock_upstream.release_stream()
