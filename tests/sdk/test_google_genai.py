"""The official Google Gen AI Python SDK (`google-genai`), used unchanged, against a real
`customs serve`.

The application changes only its base URL and uses its Customs token as its API key
(the SDK sends it in `x-goog-api-key`), speaking the Gemini API (`v1beta`);
`customs-echo` answers in Google's shape, so each test sees exactly what would have
left.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from google import genai
from google.genai import errors, types

from conftest import CLIENT_TIMEOUT_SECS, Gateway

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


def client_for(gateway: Gateway, token: str, vertexai: bool = False) -> genai.Client:
    """The Gemini API client (`v1beta`), or with `vertexai` the Vertex AI client in
    express mode (an API key, `v1beta1/publishers/google/models/...`)."""
    return genai.Client(
        vertexai=vertexai,
        api_key=token,
        http_options=types.HttpOptions(
            base_url=f"http://127.0.0.1:{gateway.port}",
            api_version="v1beta1" if vertexai else "v1beta",
            # Milliseconds; and no retries (a retry would hide or double a decision).
            timeout=CLIENT_TIMEOUT_SECS * 1000,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


def echo_vector(text: str) -> list[float]:
    """The echo model's embedding of `text`: the first 8 bytes of its SHA-256, scaled."""
    return [byte / 255.0 - 0.5 for byte in hashlib.sha256(text.encode()).digest()[:8]]


def test_generate_content_redacts_system_instruction_contents_and_function_parts(
    echo_gateway: Gateway, dev_token
):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"], "residency": "US"}))

    echo_gateway.expect_decision()
    response = client.models.generate_content(
        model="customs-echo",
        contents=[
            types.Content(role="user", parts=[types.Part.from_text(text=f"Charge card {CARD} please.")]),
            types.Content(role="model", parts=[types.Part.from_function_call(name="charge", args={"card": CARD})]),
            types.Content(
                role="user",
                parts=[
                    types.Part.from_function_response(name="charge", response={"result": f"receipt sent to {EMAIL}"})
                ],
            ),
        ],
        config=types.GenerateContentConfig(
            system_instruction=f"Escalations go to {EMAIL}.",
            tools=[
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name="charge",
                            description="Charges a card.",
                            parameters=types.Schema(type=types.Type.OBJECT),
                        )
                    ]
                )
            ],
        ),
    )

    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.prompt_token_count > 0
    assert response.model_version == "customs-echo"
    text = response.text
    assert EMAIL not in text and CARD not in text, text
    echoed = json.loads(text)
    assert echoed["systemInstruction"]["parts"][0]["text"] == "Escalations go to [EMAIL_1]."
    contents = echoed["contents"]
    assert contents[0]["parts"][0]["text"] == "Charge card [CARD_NUMBER_1] please."
    # The function's arguments and response stay objects; their strings are redacted in place.
    assert contents[1]["parts"][0]["functionCall"]["args"] == {"card": "[CARD_NUMBER_1]"}
    assert contents[2]["parts"][0]["functionResponse"]["response"] == {"result": "receipt sent to [EMAIL_1]"}


def test_generate_content_stream_arrives_in_several_chunks(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    chunks = list(
        client.models.generate_content_stream(
            model="customs-echo",
            contents=f"Write to {EMAIL} about the long overdue invoice, please.",
        )
    )

    assert len(chunks) > 1, chunks
    text = "".join(chunk.text or "" for chunk in chunks)
    assert "[EMAIL_1]" in text and EMAIL not in text, text
    assert json.loads(text)["contents"][0]["parts"][0]["text"].startswith("Write to [EMAIL_1] about")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_the_vertex_ai_client_gets_the_same_redaction(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}), vertexai=True)

    echo_gateway.expect_decision(2)
    response = client.models.generate_content(model="customs-echo", contents=f"Mail {EMAIL} today.")
    chunks = list(client.models.generate_content_stream(model="customs-echo", contents=f"Mail {EMAIL} " * 8))

    assert json.loads(response.text)["contents"][0]["parts"][0]["text"] == "Mail [EMAIL_1] today."
    assert len(chunks) > 1
    text = "".join(chunk.text or "" for chunk in chunks)
    assert "[EMAIL_1]" in text and EMAIL not in text, text


def test_embed_content_embeds_the_redacted_text(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    result = client.models.embed_content(model="customs-echo", contents=[f"mail {EMAIL}", "hello"])

    assert len(result.embeddings) == 2
    # What was embedded is what would have left: the placeholder, not the address.
    for embedding, sent in zip(result.embeddings, ["mail [EMAIL_1]", "hello"]):
        assert embedding.values == pytest.approx(echo_vector(sent), abs=1e-6)
    assert result.embeddings[0].values != pytest.approx(echo_vector(f"mail {EMAIL}"), abs=1e-6)


def test_vertex_text_embeddings_use_predict_and_embed_the_redacted_text(echo_gateway: Gateway, dev_token):
    # On Vertex the SDK sends models without "gemini" in their name to `:predict`, one
    # instance per text, with the title and task type in each instance.
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}), vertexai=True)

    echo_gateway.expect_decision()
    result = client.models.embed_content(
        model="customs-echo",
        contents=[f"mail {EMAIL}", "hello"],
        config=types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", title=f"Notes of {EMAIL}"),
    )

    assert len(result.embeddings) == 2
    for embedding, sent in zip(result.embeddings, ["mail [EMAIL_1]", "hello"]):
        assert embedding.values == pytest.approx(echo_vector(sent), abs=1e-6)
    assert result.embeddings[0].statistics.token_count == 4
    decision = echo_gateway.wait_for_decisions(echo_gateway.decision_requests)[-1]
    assert decision["surface"] == "vertex.predict", decision
    assert decision["operation"] == "embeddings", decision


def test_a_secret_is_refused_with_a_client_error_naming_the_policy(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))

    echo_gateway.expect_decision()
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="customs-echo", contents="my key is AKIAIOSFODNN7EXAMPLE ok")

    assert caught.value.code == 403
    assert caught.value.status == "PERMISSION_DENIED"
    error = caught.value.details["error"]
    assert error["policy_ids"] == ["secrets.never-leave"]
    assert error["details"][0]["reason"] == "denied_by_policy"
    assert "AKIA" not in json.dumps(caught.value.details)


def test_count_tokens_is_decided_like_a_generation(echo_gateway: Gateway, dev_token):
    # countTokens sends the prompt to the provider: it is inspected and can be refused.
    client = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}))
    vertex = client_for(echo_gateway, dev_token("alice", {"groups": ["engineering"]}), vertexai=True)

    echo_gateway.expect_decision(3)
    assert client.models.count_tokens(model="customs-echo", contents="twelve chars").total_tokens == 3
    assert vertex.models.count_tokens(model="customs-echo", contents="sixteen chars!!!").total_tokens == 4
    with pytest.raises(errors.ClientError) as caught:
        client.models.count_tokens(model="customs-echo", contents="my key is AKIAIOSFODNN7EXAMPLE ok")

    assert caught.value.code == 403
    assert caught.value.details["error"]["policy_ids"] == ["secrets.never-leave"]


def test_a_bad_key_is_unauthenticated(echo_gateway: Gateway):
    client = client_for(echo_gateway, "not-a-jwt")

    echo_gateway.expect_decision()
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="customs-echo", contents="hi")

    assert caught.value.code == 401
    assert caught.value.status == "UNAUTHENTICATED"


# ------------------------------------------------- through the provider (mock Gemini)


def test_generate_content_through_gemini_is_redacted_and_keyed_by_customs(upstream_gateway, mock_upstream, rsa_token):
    from conftest import MOCK_STREAM_PIECES, UPSTREAM_KEY

    token = rsa_token("bob", {"groups": ["engineering"], "residency": "US"})
    client = genai.Client(
        api_key=token,
        http_options=types.HttpOptions(base_url=f"http://127.0.0.1:{upstream_gateway.port}", api_version="v1beta"),
    )

    upstream_gateway.expect_decision(2)
    response = client.models.generate_content(model="gemini-2.5-flash", contents=f"Write to {EMAIL}.")
    pieces = []
    for chunk in client.models.generate_content_stream(model="gemini-2.5-flash", contents="Say hello."):
        pieces.append(chunk.text or "")
        mock_upstream.release_stream()

    assert response.text == "".join(MOCK_STREAM_PIECES)
    assert response.usage_metadata.candidates_token_count == 4
    assert "".join(pieces) == "".join(MOCK_STREAM_PIECES)
    received = mock_upstream.received()
    assert received[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert received[1].path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert received[0].json()["contents"][0]["parts"][0]["text"] == "Write to [EMAIL_1]."
    for arrived in received:
        assert EMAIL not in arrived.body
        assert arrived.headers["x-goog-api-key"] == UPSTREAM_KEY
        for name, value in arrived.headers.items():
            assert token not in value, f"the caller's token reached the provider in {name}"


def test_models_list_and_get_answer_in_googles_shape(echo_gateway: Gateway, dev_token):
    client = client_for(echo_gateway, dev_token("alice"))

    names = [model.name for model in client.models.list()]
    assert {"models/customs-echo", "models/gemini-2.5-flash"} <= set(names), names

    one = client.models.get(model="customs-echo")
    assert one.name == "models/customs-echo"
    assert "generateContent" in (one.supported_actions or [])
    with pytest.raises(errors.ClientError) as caught:
        client.models.get(model="no-such-model")
    assert caught.value.code == 404


def test_models_list_with_a_bad_key_raises_a_client_error(echo_gateway: Gateway):
    client = client_for(echo_gateway, "not-a-jwt")

    with pytest.raises(errors.ClientError) as caught:
        list(client.models.list())
    assert caught.value.code == 401
