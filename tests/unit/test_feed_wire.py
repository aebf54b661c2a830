"""The JetStream feed's address and messages: parsed, refused (E4060), and round-tripped."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from modelregistry import FeedConfigurationError, InvalidModelConfigError, ModelRegistry
from modelregistry.cache.jetstream import lineage_matches
from modelregistry.cache.wire import (
    DEFAULT_STREAM,
    AliasMessage,
    ChangeMessage,
    Decoder,
    FeedAddress,
    decode,
    encode,
)
from modelregistry.domain.defaults import DEFAULT_MODELS
from modelregistry.domain.history import ChangeKind, ModelRevision
from modelregistry.domain.models import ModelCapabilities, ModelConfig
from modelregistry.domain.pricing import Price
from modelregistry.domain.rates import Rate


def test_feed_url_names_servers_and_stream() -> None:
    address = FeedAddress.parse("nats://a:4222,b:4223/catalog_prod")
    assert address.servers == ("nats://a:4222", "nats://b:4223")
    assert (address.stream, address.subject) == ("catalog_prod", "catalog_prod.changes")
    assert FeedAddress.parse("nats://127.0.0.1:4222").stream == DEFAULT_STREAM


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:4222", "nats://", "nats://h:4222/bad.name", "nats://h:4222/" + "x" * 65],
)
def test_unusable_feed_url_raises_e4060_naming_the_feed(url: str) -> None:
    with pytest.raises(FeedConfigurationError) as caught:
        FeedAddress.parse(url)
    assert caught.value.code == "E4060"
    assert caught.value.context["field"] == "feed"


def test_registry_with_a_bad_feed_url_raises_e4060_before_opening() -> None:
    with pytest.raises(FeedConfigurationError):
        ModelRegistry("sqlite://", feed="redis://localhost")


def test_messages_round_trip_through_json() -> None:
    config = DEFAULT_MODELS[0].with_version(3)
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    price = Price(
        model_id=config.model_id,
        input_per_1m=Decimal("0.15"),
        output_per_1m=Decimal("0.6"),
        cached_input_per_1m=None,
        effective_from=at,
        recorded_at=at,
        actor="ops",
        reason=None,
        rates=(
            Rate("cache_write_1h", Decimal("0.0000000001")),
            Rate("input", Decimal("0.3"), service_tier="priority", above_tokens=272_000),
        ),
    )
    change = ChangeMessage(
        revision=12,
        change=ModelRevision(config.model_id, 3, config, ChangeKind.UPDATED, at, "ops", "why"),
        previous=(10, ("other", 2, at - timedelta(seconds=1))),
        prices=(price,),
        schema="0005_views",
    )
    assert decode(encode(change)) == change
    decoded = decode(encode(change))
    assert isinstance(decoded, ChangeMessage)
    assert decoded.prices[0].rates == price.rates  # every rate, exact
    assert decoded.change.config.version == 3  # stored at the revision's version
    described = (
        type(config)
        .model_validate(
            config.model_dump()
            | {
                "input_modalities": ("image", "text"),
                "output_modalities": ("text",),
                "mode": "chat",
                "release_date": "2024-07",
                "knowledge_cutoff": "2023-12-01",
                "open_weights": True,
                "tags": {"residency": "eu"},
            }
        )
        .with_version(3)
    )
    revision = ModelRevision(described.model_id, 3, described, ChangeKind.UPDATED, at, "ops", None)
    message = decode(encode(replace(change, change=revision)))
    assert isinstance(message, ChangeMessage)
    carried = message.change.config
    assert carried == described
    assert (carried.tags, carried.knowledge_cutoff) == ({"residency": "eu"}, "2023-12-01")
    assert change.message_id == f"12.{config.model_id}.3"
    aliases = AliasMessage(cursor=4, aliases={"small": config.model_id}, schema="0005_views")
    assert decode(encode(aliases)) == aliases
    assert aliases.message_id == "a4"


def test_lineage_matches_only_the_change_the_cache_holds() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert lineage_matches((10, ("m", 2, at)), (10, ("m", 2, at)))
    assert not lineage_matches((10, ("m", 2, at)), (10, ("m", 3, at)))
    assert not lineage_matches((10, ("m", 2, at)), (9, ("m", 2, at)))
    # A restored backup replays the number, the model and the version, not the commit time.
    assert not lineage_matches((10, ("m", 2, at)), (10, ("m", 2, at + timedelta(microseconds=1))))


def _change_message(revision: int, prices: tuple[Price, ...]) -> ChangeMessage:
    config = DEFAULT_MODELS[0].with_version(revision)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    change = ModelRevision(config.model_id, revision, config, ChangeKind.UPDATED, at, "ops", None)
    return ChangeMessage(revision, change, (revision - 1, None), prices, None)


def _price(model_id: str, amount: str) -> Price:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Price(model_id, Decimal(amount), Decimal(amount), None, at, at, "ops")


def test_decoder_hands_back_an_unchanged_timeline_and_decodes_a_changed_one() -> None:
    model_id = DEFAULT_MODELS[0].model_id
    decoder = Decoder()
    first = decoder.decode(encode(_change_message(2, (_price(model_id, "0.5"),))))
    again = decoder.decode(encode(_change_message(3, (_price(model_id, "0.5"),))))
    repriced = decoder.decode(encode(_change_message(4, (_price(model_id, "0.7"),))))
    assert isinstance(first, ChangeMessage)
    assert isinstance(again, ChangeMessage)
    assert isinstance(repriced, ChangeMessage)
    assert again.prices is first.prices  # the same documents: not decoded again
    assert repriced.prices == (_price(model_id, "0.7"),)  # new documents: the new prices
    assert (first.change.config.version, repriced.change.config.version) == (2, 4)


def test_a_message_whose_config_carries_a_version_is_refused_with_e4003() -> None:
    forged = encode(_change_message(2, ())).replace(b'"config":{', b'"config":{"version":9,')
    assert b'"version":9' in forged
    with pytest.raises(InvalidModelConfigError) as caught:
        Decoder().decode(forged)
    assert caught.value.code == "E4003"
    assert "version" in str(caught.value)


def test_a_change_carries_every_field_of_its_config_and_decodes_to_the_same_config() -> None:
    """Defaults included: a stream keeps messages for readers of other versions and languages
    (a default left out would be read as whatever default the reader has)."""
    changed = {"capabilities", "status", "deprecation_date", "input_modalities", "tags"}
    fields = DEFAULT_MODELS[0].model_dump(exclude=changed)
    config = ModelConfig(
        **fields,
        capabilities=ModelCapabilities(supports_vision=True, supports_reasoning=True),
        status="deprecated",
        deprecation_date=date(2026, 3, 1),
        input_modalities=["text", "image"],
        tags={"team": "ml"},
    ).with_version(5)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    change = ModelRevision(config.model_id, 5, config, ChangeKind.UPDATED, at, "ops", None)
    data = encode(ChangeMessage(5, change, (4, None), (), None))
    body = json.loads(data)["config"]
    assert set(body) == set(ModelConfig.model_fields) - {"version"}
    assert body["retirement_date"] is None  # at its default: sent all the same
    assert body["capabilities"] == {
        "supports_streaming": False,
        "supports_vision": True,
        "supports_tool_use": False,
        "supports_json_mode": False,
        "supports_reasoning": True,
    }
    assert (body["status"], body["deprecation_date"]) == ("deprecated", "2026-03-01")
    message = decode(data)
    assert isinstance(message, ChangeMessage)
    assert message.change.config == config
    assert message.change.config.version == 5


def test_a_message_with_a_config_breaking_a_rule_is_refused_with_e4003() -> None:
    damaged = encode(_change_message(2, ())).replace(b'"context_window":', b'"context_window":-')
    with pytest.raises(InvalidModelConfigError) as caught:
        Decoder().decode(damaged)
    assert [violation.field for violation in caught.value.violations] == ["context_window"]


@pytest.mark.parametrize(
    ("flags", "rule"),
    [
        (b'"supports_pdf":true,"Supports_Pdf":false', "given twice"),
        (b'"vision":true', "supports_<name>"),
        (b'"supports_pdf":"yes"', "boolean"),
    ],
)
def test_a_message_with_forged_capability_flags_is_refused_naming_the_rule(
    flags: bytes, rule: str
) -> None:
    # Flags are normalised once, by ModelCapabilities: a message from the stream still gets
    # every capability rule, as a config given to a write does.
    encoded = encode(_change_message(2, ()))
    start = encoded.index(b'"capabilities":{') + len(b'"capabilities":{')
    forged = encoded[:start] + flags + b"," + encoded[start:]
    with pytest.raises(InvalidModelConfigError) as caught:
        Decoder().decode(forged)
    assert [v.field.split(".")[0] for v in caught.value.violations] == ["capabilities"]
    assert rule in str(caught.value)
