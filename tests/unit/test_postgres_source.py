"""Choosing the suite's PostgreSQL (tests/postgres_source.py): every branch, with fake probes.

The probes record what was asked of them, so each test also shows which sources were tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy.engine import make_url

from postgres_source import (
    CONTAINER_IMAGE,
    LOCAL_URL,
    PostgresChoice,
    StartedPostgres,
    choose_postgres,
    shown_url,
)

ENV_URL = "postgresql+psycopg://tester:s3cret@db.example:5433/suite"
CONTAINER_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:49153/test"


@dataclass
class Probes:
    """Fake probes: which URLs answer, whether Docker does, whether a container starts."""

    answering: set[str] = field(default_factory=set)
    docker: bool = False
    container_starts: bool = True
    calls: list[str] = field(default_factory=list)
    stopped: int = 0

    def connect(self, url: str) -> None:
        self.calls.append(f"connect {url}")
        if url not in self.answering:
            host = make_url(url).host
            msg = f'connection to server at "{host}", port 5432 failed: Connection refused'
            raise ConnectionRefusedError(msg)

    def ping_docker(self) -> None:
        self.calls.append("ping docker")
        if not self.docker:
            msg = "Error while fetching server API version: No such file or directory"
            raise RuntimeError(msg)

    def start_container(self) -> StartedPostgres:
        self.calls.append("start container")
        if not self.container_starts:
            msg = "pull access denied for postgres"
            raise RuntimeError(msg)
        return StartedPostgres(CONTAINER_URL, self.stop)

    def stop(self) -> None:
        self.stopped += 1

    def choose(self, environ: dict[str, str]) -> PostgresChoice:
        return choose_postgres(
            environ,
            connect=self.connect,
            ping_docker=self.ping_docker,
            start_container=self.start_container,
        )


def test_the_environment_variable_wins_even_when_the_local_server_answers() -> None:
    probes = Probes(answering={ENV_URL, LOCAL_URL}, docker=True)
    choice = probes.choose({"MODELREGISTRY_TEST_POSTGRES_URL": ENV_URL})
    assert (choice.action, choice.url, choice.container) == ("use", ENV_URL, None)
    assert probes.calls == [f"connect {ENV_URL}"]
    assert "MODELREGISTRY_TEST_POSTGRES_URL" in choice.reason
    assert "s3cret" not in choice.reason


def test_an_unanswering_environment_url_is_not_replaced_by_another_server() -> None:
    probes = Probes(answering={LOCAL_URL}, docker=True)
    choice = probes.choose({"MODELREGISTRY_TEST_POSTGRES_URL": ENV_URL})
    assert (choice.action, choice.url) == ("skip", None)
    assert probes.calls == [f"connect {ENV_URL}"]
    assert "does not answer: ConnectionRefusedError" in choice.reason
    assert "were not tried (the variable names the server" in choice.reason
    assert "s3cret" not in choice.reason
    assert "***" in choice.reason


def test_an_empty_environment_variable_counts_as_unset() -> None:
    probes = Probes(answering={LOCAL_URL})
    choice = probes.choose({"MODELREGISTRY_TEST_POSTGRES_URL": ""})
    assert (choice.action, choice.url) == ("use", LOCAL_URL)


def test_the_local_server_is_used_when_it_answers_and_docker_is_not_asked() -> None:
    probes = Probes(answering={LOCAL_URL}, docker=True)
    choice = probes.choose({})
    assert (choice.action, choice.url, choice.container) == ("use", LOCAL_URL, None)
    assert probes.calls == [f"connect {LOCAL_URL}"]
    assert choice.reason == f"the local server at {LOCAL_URL}"


def test_a_container_is_started_when_the_local_server_does_not_answer_and_docker_does() -> None:
    probes = Probes(answering={CONTAINER_URL}, docker=True)
    choice = probes.choose({})
    assert (choice.action, choice.url) == ("use", CONTAINER_URL)
    assert probes.calls == [
        f"connect {LOCAL_URL}",
        "ping docker",
        "start container",
        f"connect {CONTAINER_URL}",
    ]
    assert CONTAINER_IMAGE in choice.reason
    assert choice.container is not None
    assert probes.stopped == 0
    choice.container.stop()  # what the session fixture does at the end
    assert probes.stopped == 1


def test_without_any_source_the_skip_reason_names_each_attempt_and_why() -> None:
    probes = Probes()
    choice = probes.choose({})
    assert (choice.action, choice.url, choice.container) == ("skip", None, None)
    assert probes.calls == [f"connect {LOCAL_URL}", "ping docker"]
    reason = choice.reason
    assert "MODELREGISTRY_TEST_POSTGRES_URL: not set" in reason
    assert f"the local server at {LOCAL_URL} does not answer: ConnectionRefusedError" in reason
    assert "no Docker engine answers: RuntimeError: Error while fetching server API" in reason
    assert reason.index("not set") < reason.index("local server") < reason.index("Docker")


def test_a_container_that_does_not_start_is_named_in_the_reason() -> None:
    probes = Probes(docker=True, container_starts=False)
    choice = probes.choose({})
    assert choice.action == "skip"
    assert probes.calls[-1] == "start container"
    assert f"container ({CONTAINER_IMAGE}) did not start: RuntimeError: pull access" in (
        choice.reason
    )


def test_a_started_container_that_does_not_answer_is_stopped_and_reported() -> None:
    probes = Probes(docker=True)  # the container's URL does not answer
    choice = probes.choose({})
    assert (choice.action, choice.container) == ("skip", None)
    assert probes.stopped == 1
    assert "started but does not answer" in choice.reason


@pytest.mark.parametrize(
    ("environ", "probes"),
    [
        ({"MODELREGISTRY_TEST_POSTGRES_URL": ENV_URL}, Probes(answering={LOCAL_URL})),
        ({}, Probes()),
        ({}, Probes(docker=True, container_starts=False)),
    ],
    ids=["environment-url-down", "nothing-answers", "container-fails"],
)
def test_require_postgres_turns_no_server_into_a_failure(
    environ: dict[str, str], probes: Probes
) -> None:
    choice = probes.choose({**environ, "MODELREGISTRY_REQUIRE_POSTGRES": "1"})
    assert (choice.action, choice.url, choice.required) == ("fail", None, True)
    assert choice.reason.startswith("no PostgreSQL: tried ")


def test_require_postgres_changes_nothing_when_a_server_answers() -> None:
    choice = Probes(answering={LOCAL_URL}).choose({"MODELREGISTRY_REQUIRE_POSTGRES": "1"})
    assert (choice.action, choice.url) == ("use", LOCAL_URL)


def test_only_the_value_1_requires_postgres() -> None:
    choice = Probes().choose({"MODELREGISTRY_REQUIRE_POSTGRES": "yes"})
    assert choice.action == "skip"


def test_urls_in_reasons_have_their_password_masked() -> None:
    assert shown_url(ENV_URL) == "postgresql+psycopg://tester:***@db.example:5433/suite"
    assert shown_url("not a url") == "<not a database URL>"
