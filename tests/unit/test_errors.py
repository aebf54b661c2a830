from __future__ import annotations

import re
from pathlib import Path

import pytest

import modelregistry
from modelregistry import (
    ERROR_CODES,
    CatalogWriteError,
    ConcurrentModificationError,
    DatabaseError,
    DatabaseReplacedError,
    DatabaseUnavailableError,
    InvalidArgumentError,
    InvalidCatalogFileError,
    InvalidModelConfigError,
    MigrationError,
    ModelNotFoundError,
    ModelRegistryError,
    ModelVersionNotFoundError,
    SchemaOutdatedError,
    SchemaUnknownError,
    Violation,
    errors,
)


def test_error_codes_are_pinned() -> None:
    assert {code: cls.__name__ for code, cls in ERROR_CODES.items()} == {
        "E4001": "ModelNotFoundError",
        "E4003": "InvalidModelConfigError",
        "E4004": "ModelVersionNotFoundError",
        "E4005": "InvalidCatalogFileError",
        "E4006": "PriceNotFoundError",
        "E4007": "InvalidArgumentError",
        "E4008": "AliasNotFoundError",
        "E4010": "SchemaOutdatedError",
        "E4011": "SchemaUnknownError",
        "E4012": "MigrationError",
        "E4013": "CatalogWriteError",
        "E4020": "DatabaseUnavailableError",
        "E4021": "DatabaseError",
        "E4022": "DatabaseReplacedError",
        "E4030": "ConcurrentModificationError",
        "E4040": "SyncRefusedError",
        "E4041": "UpstreamFetchError",
        "E4042": "UpstreamDocumentError",
        "E4043": "OverrideNotFoundError",
        "E4050": "RouteNotFoundError",
        "E4051": "UnauthorizedError",
        "E4052": "RevisionGoneError",
        "E4053": "CatalogNotReadyError",
        "E4060": "FeedConfigurationError",
        "E4090": "PriceComponentNotFoundError",
    }


def test_every_error_class_is_listed_once_with_a_unique_code() -> None:
    classes = [
        obj
        for name in modelregistry.__all__
        if isinstance(obj := getattr(modelregistry, name), type)
        and issubclass(obj, ModelRegistryError)
        and obj is not ModelRegistryError
    ]
    assert sorted(cls.code for cls in classes) == sorted(ERROR_CODES)


@pytest.mark.parametrize(
    ("cls", "builtin", "retryable"),
    [
        (ModelNotFoundError, LookupError, False),
        (InvalidModelConfigError, ValueError, False),
        (SchemaOutdatedError, RuntimeError, False),
        (SchemaUnknownError, RuntimeError, False),
        (MigrationError, RuntimeError, False),
        (DatabaseUnavailableError, ConnectionError, True),
        (DatabaseError, RuntimeError, False),
        (DatabaseReplacedError, RuntimeError, False),
        (CatalogWriteError, OSError, False),
        (ModelVersionNotFoundError, LookupError, False),
        (InvalidCatalogFileError, ValueError, False),
        (InvalidArgumentError, ValueError, False),
        (ConcurrentModificationError, RuntimeError, False),
    ],
)
def test_errors_are_also_builtins_and_say_if_retryable(
    cls: type[ModelRegistryError], builtin: type[Exception], retryable: bool
) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, ModelRegistryError)
    assert cls.retryable is retryable


def test_model_not_found_names_the_id_and_serialises() -> None:
    error = ModelNotFoundError("gpt-5")
    assert str(error) == "E4001: model not found: 'gpt-5'"
    assert error.to_dict() == {
        "code": "E4001",
        "message": "model not found: 'gpt-5'",
        "retryable": False,
        "model_id": "gpt-5",
    }


def test_invalid_config_lists_each_violation() -> None:
    error = InvalidModelConfigError(
        [Violation("context_window", "must be greater than 0", 0), Violation("provider", "x")],
        model_id="m",
    )
    assert str(error) == (
        "E4003: invalid model config for 'm': context_window: must be greater than 0 (got 0); "
        "provider: x"
    )
    assert error.to_dict()["violations"] == [
        {"field": "context_window", "rule": "must be greater than 0", "value": 0},
        {"field": "provider", "rule": "x", "value": None},
    ]


def test_invalid_argument_names_the_argument_and_serialises_like_e4003() -> None:
    error = InvalidArgumentError.single("limit", "must be an integer from 0 to 9", -1)
    assert str(error) == "E4007: invalid argument: limit: must be an integer from 0 to 9 (got -1)"
    assert error.violations == [Violation("limit", "must be an integer from 0 to 9", -1)]
    assert error.to_dict() == {
        "code": "E4007",
        "message": "invalid argument: limit: must be an integer from 0 to 9 (got -1)",
        "retryable": False,
        "violations": [{"field": "limit", "rule": "must be an integer from 0 to 9", "value": -1}],
    }
    assert isinstance(error, ValueError)
    assert not isinstance(error, InvalidModelConfigError)


def test_the_errors_module_docstring_draws_every_code() -> None:
    tree = errors.__doc__ or ""
    for code, cls in ERROR_CODES.items():
        # A row of the tree: the class, then its code (subclasses are drawn indented).
        assert re.search(rf"[├└]── {cls.__name__} +{code} ", tree), code


def test_the_readme_error_table_lists_every_code_with_its_class() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (E\d{4}) \| `(\w+)` \|", readme, flags=re.MULTILINE)
    assert dict(rows) == {code: cls.__name__ for code, cls in ERROR_CODES.items()}


def test_schema_outdated_names_the_upgrade_command() -> None:
    error = SchemaOutdatedError("0001", "0002")
    assert "modelregistry db upgrade" in str(error)
    assert error.to_dict()["current_revision"] == "0001"
