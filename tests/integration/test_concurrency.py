"""Concurrent writers in real processes: serialised, nothing lost, nothing overwritten."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from async_bridge import opener
from cases import GPT4_TURBO, config, in_processes, in_threads
from modelregistry.domain.history import ChangeKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

    from modelregistry import ModelRegistry

pytestmark = pytest.mark.both_apis

PROCESSES = 8
CHANGES = 200
MODEL = "gpt-4-turbo"


def _write_changes(url: str, api: str, worker: int, barrier: Barrier, results: Queue[str]) -> None:
    try:
        with opener(api)(url) as registry:
            barrier.wait(timeout=120)
            for change in range(CHANGES):
                # A value no other write uses, so every write is a real change.
                window = (worker + 1) * 100_000 + change
                registry.register_model(
                    config(context_window=window), actor=f"worker-{worker}", reason=str(change)
                )
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        results.put(f"error {type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_concurrent_writers_lose_no_change(
    api: str, open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with open_registry(database_url) as registry:
        assert registry.register_model(GPT4_TURBO).version == 1
    # Each process writes through the API under test.
    outcomes = in_processes(
        _write_changes, [(database_url, api, n) for n in range(PROCESSES)], timeout=600
    )
    assert outcomes == ["ok"] * PROCESSES

    with open_registry(database_url) as registry:
        history = registry.get_model_history(MODEL)
        final = registry.get_model_or_raise(MODEL)
    effective = PROCESSES * CHANGES
    assert final.version == 1 + effective
    assert [r.version for r in history] == list(range(1, effective + 2))
    assert all(r.change is ChangeKind.UPDATED for r in history[1:])
    written = {r.config.context_window for r in history[1:]}
    assert written == {
        (worker + 1) * 100_000 + change for worker in range(PROCESSES) for change in range(CHANGES)
    }
    # Each worker's own changes are recorded in the order it made them.
    for number in range(PROCESSES):
        mine = [int(r.reason or -1) for r in history[1:] if r.actor == f"worker-{number}"]
        assert mine == list(range(CHANGES))
    stamps = [r.changed_at for r in history]
    assert stamps == sorted(stamps)
    assert final.context_window == history[-1].config.context_window


def _race_with_expected_version(url: str, api: str, barrier: Barrier, results: Queue[str]) -> None:
    try:
        with opener(api)(url) as registry:
            barrier.wait(timeout=120)
            registry.update_model_status(MODEL, "deprecated", expected_version=1)
        results.put("won")
    except Exception as exc:  # noqa: BLE001 - the parent counts the outcomes
        results.put(getattr(exc, "code", type(exc).__name__))


@pytest.mark.slow
def test_of_writers_expecting_the_same_version_exactly_one_wins(
    api: str, open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with open_registry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
    outcomes = sorted(
        in_processes(_race_with_expected_version, [(database_url, api)] * 4, timeout=300)
    )
    assert outcomes == ["E4030", "E4030", "E4030", "won"]
    with open_registry(database_url) as registry:
        assert registry.get_model_or_raise(MODEL).version == 2


def _isolation(url: str, level: str) -> str:
    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    changed = parsed.update_query_dict(
        {"options": f"{options} -cdefault_transaction_isolation={level}".strip()}
    )
    rendered: str = changed.render_as_string(hide_password=False)
    return rendered


@pytest.mark.parametrize("level", ["repeatable\\ read", "serializable"])
def test_writers_stay_serialised_whatever_the_servers_default_isolation(
    open_registry: Callable[..., ModelRegistry], postgres_schema_url: str, level: str
) -> None:
    url = _isolation(postgres_schema_url, level)
    with open_registry(url) as registry:
        registry.register_model(GPT4_TURBO)

        def write(thread: int) -> None:
            for change in range(30):
                registry.register_model(config(context_window=thread * 1000 + change + 1))

        assert in_threads(write, 4) == []
        assert registry.get_model_or_raise(MODEL).version == 121
