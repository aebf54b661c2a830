"""``get_model(cache=False)``: one statement without a session, the same model as the cache's.

On SQLite the statement goes to the driver as SQLAlchemy compiled it (``db/lookup.py``); a
row written behind the registry's back is still validated like any other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cases import config
from modelregistry import InvalidModelConfigError, ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Callable

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
