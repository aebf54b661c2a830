"""The command line's light modules repeat a few facts of the domain: held equal to them."""

from __future__ import annotations

from modelregistry import settings
from modelregistry.cli import common, listing, relay, render, sync
from modelregistry.domain.models import ModelStatus
from modelregistry.registry import DEFAULT_POLL_INTERVAL, DEFAULT_SYNC_TIMEOUT


def test_the_column_names_of_the_help_are_the_columns() -> None:
    assert tuple(render.COLUMNS) == listing.COLUMN_NAMES


def test_the_status_names_of_the_help_are_the_statuses() -> None:
    assert tuple(status.value for status in ModelStatus) == listing.STATUS_NAMES


def test_serve_and_metrics_serve_poll_as_often_as_the_registry_by_default() -> None:
    assert common.DEFAULT_POLL_INTERVAL == DEFAULT_POLL_INTERVAL


def test_sync_waits_as_long_as_the_registry_by_default() -> None:
    assert sync.DEFAULT_SYNC_TIMEOUT == DEFAULT_SYNC_TIMEOUT


def test_relay_reads_the_registrys_feed_variable() -> None:
    assert relay.FEED_URL_VARIABLE == settings.FEED_URL_VARIABLE
