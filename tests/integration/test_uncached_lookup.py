"""``get_model(cache=False)``: one statement without a session, the same model as the cache's.

On SQLite the statement goes to the driver as SQLAlchemy compiled it (``db/lookup.py``); a
row written behind the registry's back is still validated like any other.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cases import config
from modelregistry import InvalidModelConfigError, ModelRegistry
from served import DEADLINE

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue

pytestmark = pytest.mark.both_apis


def _varied() -> list[dict[str, object]]:
    return [
        config(model_id="plain/one"),
        config(
            model_id="dated/two",
            provider="anthropic",
            deprecation_date="2030-01-02",
            retirement_date="2031-03-04",
            open_weights=True,
            tags={"tier": "1", "region": "eu"},
            release_date="2024-05",
            input_modalities=["text", "image"],
            output_modalities=["text"],
            mode="chat",
        ),
        config(model_id="closed/three", open_weights=False, capabilities={}),
    ]


def test_uncached_get_model_gives_every_field_as_the_cache_does(
    database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    with open_registry(database_url) as cached:
        cached.import_catalog({"models": _varied()})
        cached.set_price("plain/one", "2.5", "7.5")  # a price row beside the model's own
        later = datetime.now(UTC) + timedelta(days=3)
        cached.set_price("dated/two", "1", "2", effective_from=later)  # not yet in effect
        expected = {model.model_id: model for model in cached.list_models(status=None)}
    with open_registry(database_url, cache=False) as direct:
        for model_id, model in expected.items():
            assert direct.get_model(model_id) == model
            assert direct.get_model(model_id) == model  # the second read: the learned path
        assert direct.get_model("no-such/model") is None
    assert expected["dated/two"].deprecation_date == date(2030, 1, 2)
    assert expected["dated/two"].open_weights is True
    assert expected["closed/three"].open_weights is False


def test_uncached_get_model_still_resolves_an_alias(
    database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    with open_registry(database_url) as cached:
        cached.import_catalog({"models": _varied()})
        cached.set_alias("nickname", "dated/two")
    with open_registry(database_url, cache=False) as direct:
        direct.get_model("plain/one")
        found = direct.get_model("nickname")
        assert found is not None
        assert found.model_id == "dated/two"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("context_window", -5),
        ("open_weights", 7),  # neither 0 nor 1: true, as SQLAlchemy reads it, and accepted
        ("deprecation_date", "not a date"),
        ("status", "exploded"),
    ],
)
def test_a_row_broken_behind_the_registrys_back_is_refused_uncached(
    tmp_path: object, column: str, value: object
) -> None:
    url = f"sqlite:///{tmp_path}/catalog.db"
    with ModelRegistry(url) as cached:
        cached.import_catalog({"models": _varied()})
    with ModelRegistry(url, cache=False) as direct:
        before = direct.get_model("plain/one")  # validated, and remembered by its row
        assert before is not None
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")  # a careless writer
            connection.execute(
                sa.text(f"UPDATE models SET {column} = :value WHERE model_id = 'plain/one'"),  # noqa: S608 - the column is a test parameter
                {"value": value},
            )
        engine.dispose()
        assert direct.get_model("closed/three") is not None
        if column == "open_weights":
            found = direct.get_model("plain/one")
            assert found is not None
            assert found.open_weights is True
            return
        with pytest.raises(InvalidModelConfigError) as raised:
            direct.get_model("plain/one")
        assert raised.value.code == "E4003"


@pytest.mark.parametrize("column", ["deprecation_date", "retirement_date"])
def test_a_stored_date_that_is_no_date_is_refused_by_the_cache_naming_the_column(
    tmp_path: object, column: str
) -> None:
    url = f"sqlite:///{tmp_path}/catalog.db"
    with ModelRegistry(url) as registry:
        registry.import_catalog({"models": _varied()})
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")  # a careless writer
        connection.execute(
            sa.text(f"UPDATE models SET {column} = 'not a date' WHERE model_id = 'plain/one'"),  # noqa: S608 - the column is a test parameter
        )
    engine.dispose()
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelRegistry(url).close()  # the cache loads every row when it opens
    assert raised.value.code == "E4003"
    assert [violation.field for violation in raised.value.violations] == [column]
    assert "not a date" in str(raised.value)


def _open_on(path: Path) -> int:
    """How many of this process's file descriptors are open on the SQLite file ``path``."""
    fds = Path("/proc/self/fd")
    target = str(path.resolve())
    count = 0
    for fd in fds.iterdir():
        try:
            count += str(fd.readlink()) == target
        except OSError:  # closed while listed (the listing's own descriptor)
            continue
    return count


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc"
)


def test_uncached_lookups_see_every_commit_on_each_threads_connection(tmp_path: Path) -> None:
    # A thread keeps its connection between lookups; it holds no transaction, so a write
    # committed by another process (here another registry) is seen by the very next lookup.
    url = f"sqlite:///{tmp_path}/catalog.db"
    with ModelRegistry(url) as writer, ModelRegistry(url, cache=False) as direct:
        writer.import_catalog({"models": _varied()})
        seen: list[object] = []

        def look() -> None:
            for status in ("deprecated", "active"):
                first = direct.get_model("plain/one")
                assert first is not None
                writer.update_model_status("plain/one", status)
                after = direct.get_model("plain/one")
                assert after is not None
                seen.append((first.status.value, after.status.value))

        look()
        other = threading.Thread(target=look)
        other.start()
        other.join(timeout=DEADLINE)
        assert seen == [("active", "deprecated"), ("deprecated", "active")] * 2


@needs_proc
def test_close_closes_every_threads_connection_and_an_ended_threads_goes_with_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.db"
    with ModelRegistry(f"sqlite:///{path}") as registry:
        registry.import_catalog({"models": _varied()})
    assert _open_on(path) == 0
    direct = ModelRegistry(f"sqlite:///{path}", cache=False)
    looked, release = threading.Event(), threading.Event()

    def look_and_wait() -> None:
        assert direct.get_model("plain/one") is not None
        looked.set()
        release.wait(timeout=DEADLINE)

    alive = threading.Thread(target=look_and_wait)
    collecting = gc.isenabled()
    try:
        assert direct.get_model("plain/one") is not None
        before = _open_on(path)
        gc.disable()  # closed when its thread ends, not whenever the collector runs
        for _ in range(20):
            ended = threading.Thread(target=direct.get_model, args=("plain/one",))
            ended.start()
            ended.join(timeout=DEADLINE)
        # (SQLite may keep one closed descriptor of the file for its next open.)
        assert _open_on(path) <= before + 1
        alive.start()
        assert looked.wait(timeout=DEADLINE)
    finally:
        if collecting:
            gc.enable()
        direct.close()
    try:
        assert _open_on(path) == 0  # the live thread's connection too
    finally:
        release.set()
        alive.join(timeout=DEADLINE)


def _look_in_child(registry: ModelRegistry, path: Path, report: Queue[object]) -> None:
    try:
        inherited = _open_on(path)
        found = registry.get_model("plain/one")
        report.put((found is not None and found.model_id, _open_on(path) > inherited))
    except Exception as exc:  # noqa: BLE001 - the parent reports it
        report.put(repr(exc))


@needs_proc
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads (3.12+ warns)
def test_a_forked_child_looks_up_on_a_connection_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    with ModelRegistry(f"sqlite:///{path}") as registry:
        registry.import_catalog({"models": _varied()})
    context = multiprocessing.get_context("fork")
    report: Queue[object] = context.Queue()
    with ModelRegistry(f"sqlite:///{path}", cache=False) as direct:
        for _ in range(2):  # (the first learns the statement through SQLAlchemy)
            assert direct.get_model("plain/one") is not None  # the parent's thread keeps one
        child = context.Process(target=_look_in_child, args=(direct, path, report))
        child.start()
        try:
            assert report.get(timeout=DEADLINE) == ("plain/one", True)
        finally:
            child.join(timeout=DEADLINE)
        assert child.exitcode == 0
        assert direct.get_model("plain/one") is not None  # the parent's is still good
