"""Where the suite's PostgreSQL comes from: the first of three sources that works.

1. ``MODELREGISTRY_TEST_POSTGRES_URL``, when set. It names the server to test, so when it does
   not answer nothing else is tried (testing another server instead would hide the mistake).
2. The local server, :data:`LOCAL_URL`, when it answers.
3. A PostgreSQL container started through testcontainers, when a Docker engine answers.

When none works the PostgreSQL half of the suite is skipped, with a reason naming each source
tried and why it failed; with ``MODELREGISTRY_REQUIRE_POSTGRES=1`` (CI) the run fails instead.

:func:`choose_postgres` is pure: it gets the environment and the probes as arguments, so
``tests/unit/test_postgres_source.py`` covers every branch without a server or Docker. The
session fixture in ``conftest.py`` passes the real probes defined here and stops the container
at the end.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import uuid
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

URL_VARIABLE: Final = "MODELREGISTRY_TEST_POSTGRES_URL"
REQUIRE_VARIABLE: Final = "MODELREGISTRY_REQUIRE_POSTGRES"
LOCAL_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
"""The local server tried when the variable is unset (trust auth, database ``test``)."""
CONTAINER_IMAGE: Final = "postgres:16"
"""The image of the container: the one docker-compose.yml runs."""
CONNECT_TIMEOUT_SECONDS: Final = 5
DOCKER_TIMEOUT_SECONDS: Final = 3
_NOT_TRIED: Final = (
    "the local server and a container were not tried (the variable names the server to test)"
)


@dataclass(frozen=True, slots=True)
class StartedPostgres:
    """A PostgreSQL server started for the run: its URL, and how to stop it."""

    url: str
    stop: Callable[[], object]


@dataclass(frozen=True, slots=True)
class PostgresChoice:
    """What the suite tests against: a server, or why there is none.

    Attributes:
        url: The server's SQLAlchemy URL (None: no PostgreSQL for this run).
        reason: Which source gave it, or each source tried and why it failed.
        required: ``MODELREGISTRY_REQUIRE_POSTGRES=1``: no server fails the run.
        container: The container started for the run, to stop at its end.
    """

    url: str | None
    reason: str
    required: bool = False
    container: StartedPostgres | None = None

    @property
    def action(self) -> Literal["use", "skip", "fail"]:
        """``use`` the server, ``skip`` the PostgreSQL tests, or ``fail`` the run."""
        if self.url is not None:
            return "use"
        return "fail" if self.required else "skip"


def choose_postgres(
    environ: Mapping[str, str],
    *,
    connect: Callable[[str], object],
    ping_docker: Callable[[], object],
    start_container: Callable[[], StartedPostgres],
) -> PostgresChoice:
    """Pick the suite's PostgreSQL from ``environ`` and the probes.

    Args:
        environ: The environment (``MODELREGISTRY_TEST_POSTGRES_URL``,
            ``MODELREGISTRY_REQUIRE_POSTGRES``).
        connect: Connects to a URL and runs a query; raises when the server does not answer.
        ping_docker: Raises unless a Docker engine answers.
        start_container: Starts a PostgreSQL container; raises when it cannot.
    """
    required = environ.get(REQUIRE_VARIABLE) == "1"
    configured = environ.get(URL_VARIABLE)
    if configured:
        failure = _failure(connect, configured)
        if failure is None:
            return PostgresChoice(configured, f"{URL_VARIABLE} ({shown_url(configured)})", required)
        down = f"{URL_VARIABLE}={shown_url(configured)} does not answer: {failure}"
        return PostgresChoice(None, f"no PostgreSQL: tried {down}; {_NOT_TRIED}", required)
    attempts = [f"{URL_VARIABLE}: not set"]
    failure = _failure(connect, LOCAL_URL)
    if failure is None:
        return PostgresChoice(LOCAL_URL, f"the local server at {LOCAL_URL}", required)
    attempts.append(f"the local server at {LOCAL_URL} does not answer: {failure}")
    container = _container(attempts, connect, ping_docker, start_container)
    if container is None:
        return _no_server(attempts, required)
    reason = f"a {CONTAINER_IMAGE} container started through testcontainers"
    return PostgresChoice(container.url, reason, required, container)


def _container(
    attempts: list[str],
    connect: Callable[[str], object],
    ping_docker: Callable[[], object],
    start_container: Callable[[], StartedPostgres],
) -> StartedPostgres | None:
    """A container that answers, or None with why not appended to ``attempts``."""
    failure = _failure(ping_docker)
    if failure is not None:
        attempts.append(f"a testcontainers container: no Docker engine answers: {failure}")
        return None
    try:
        container = start_container()
    except Exception as exc:  # noqa: BLE001 - however it fails, the reason is reported
        attempts.append(
            f"a testcontainers container ({CONTAINER_IMAGE}) did not start: {_why(exc)}"
        )
        return None
    failure = _failure(connect, container.url)
    if failure is not None:
        with contextlib.suppress(Exception):
            container.stop()
        attempts.append(
            f"a testcontainers container started but does not answer at "
            f"{shown_url(container.url)}: {failure}"
        )
        return None
    return container


def _no_server(attempts: list[str], required: bool) -> PostgresChoice:
    reason = "no PostgreSQL: tried " + "; ".join(attempts)
    return PostgresChoice(None, f"{reason} (set {URL_VARIABLE} to a server)", required)


class ProbeFailedError(Exception):
    """A real probe's refusal, its message already saying why."""


def _failure(probe: Callable[..., object], *args: str) -> str | None:
    """None when ``probe(*args)`` returns, else why it raised."""
    try:
        probe(*args)
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not this source"
        return _why(exc)
    return None


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, ProbeFailedError) or not text:
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def shown_url(url: str) -> str:
    """``url`` with its password masked, fit for a skip reason."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


# -- the real probes -------------------------------------------------------------------------


def connect(url: str) -> None:
    """Connect to ``url`` with psycopg and run ``SELECT 1`` (raises psycopg.Error if not)."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
        connection.execute("SELECT 1")


def ping_docker() -> None:
    """Raise unless the Docker engine testcontainers would use answers a ping, quickly."""
    try:
        from testcontainers.core.docker_client import DockerClient  # noqa: PLC0415 - optional
    except ImportError as exc:
        msg = f"testcontainers is not installed ({exc}); pip install -e '.[test]'"
        raise ProbeFailedError(msg) from exc
    failure = None
    with warnings.catch_warnings():
        # docker-py leaves the socket of a failed connection to the garbage collector, which
        # would report it (as an error, under the suite's warning filters) in a later test.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = DockerClient(timeout=DOCKER_TIMEOUT_SECONDS).client
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001 - docker-py raises many kinds; all mean "no"
            failure = _why(exc)
        gc.collect()
    if failure is not None:
        raise ProbeFailedError(failure)


def start_container() -> StartedPostgres:
    """Start a PostgreSQL container through testcontainers (psycopg 3 URL)."""
    container = _postgres_container_class()(
        CONTAINER_IMAGE,
        username="postgres",
        password="postgres",  # noqa: S106 - a throwaway container's, on 127.0.0.1 only
        dbname="test",
        driver="psycopg",
    )
    try:
        container.start()
    except BaseException:
        with contextlib.suppress(Exception):
            container.stop()
        raise
    url: str = container.get_connection_url()
    return StartedPostgres(url=url, stop=container.stop)


def _postgres_container_class() -> Any:
    # testcontainers 4.15 moved the module to testcontainers.community.postgres; the old path
    # still works there but warns (an error under the suite's filters). 4.8-4.14 have only it.
    try:
        module = importlib.import_module("testcontainers.community.postgres")
    except ImportError:
        module = importlib.import_module("testcontainers.postgres")
    return module.PostgresContainer


def real_choice(environ: Mapping[str, str]) -> PostgresChoice:
    """:func:`choose_postgres` with the real probes."""
    return choose_postgres(
        environ, connect=connect, ping_docker=ping_docker, start_container=start_container
    )


@contextlib.contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A URL on a fresh, empty schema of the PostgreSQL test database (dropped afterwards)."""
    schema = f"mr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
