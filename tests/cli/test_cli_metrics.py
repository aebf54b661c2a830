"""``modelregistry metrics serve`` as a real process, scraped over real HTTP."""

from __future__ import annotations

import signal
import subprocess
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cases import GPT4_TURBO, config
from modelregistry import ModelRegistry
from served import CONSOLE_SCRIPT, DEADLINE, Served, wait_for
from throwaway_postgres import throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SECRET = "Metrics-s3cr3t/p@ss"  # noqa: S105 - the test's own throwaway password


class MetricsServed(Served):
    """A running ``metrics serve`` process (tests/served.py), read as Prometheus text."""

    def __init__(self, url: str, *extra: str) -> None:
        # metrics serve answers /healthz and /metrics, not /readyz: it is ready once it says
        # where it serves.
        super().__init__(url, "metrics", "serve", *extra, wait_ready=False)

    def text(self, path: str) -> tuple[int, str]:
        status, _, body = self.get(path)
        return status, body.decode()

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, text = self.text("/metrics")
        assert status == 200, text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples().get((name, tuple(sorted(labels.items()))))


@pytest.fixture
def serve() -> Iterator[Callable[..., MetricsServed]]:
    started: list[MetricsServed] = []

    def start(url: str, *extra: str) -> MetricsServed:
        served = MetricsServed(url, *extra)
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()


def test_scraped_metrics_follow_known_changes_and_sigterm_stops(
    database_url: str, serve: Callable[..., MetricsServed]
) -> None:
    with ModelRegistry(database_url) as writer:  # migrates and seeds the catalog
        served = serve(database_url, "--poll-interval", "0.1")
        assert served.text("/healthz") == (200, "ok: database reachable, schema revision 0009\n")
        assert served.value("modelregistry_models", provider="ollama", status="active") == 3
        assert served.value("modelregistry_cache_refreshes_total", trigger="reload") == 1
        revision = served.value("modelregistry_cache_revision")
        assert revision is not None

        writer.register_model(GPT4_TURBO)
        writer.register_model(config(model_id="gpt-4-0613", status="deprecated"))
        writer.update_model_status("llama3.2:3b", "disabled")
        wait_for(
            lambda: served.value("modelregistry_cache_revision") == revision + 3,
            "the server's cache to hold the three changes",
        )
        samples = served.samples()
    assert samples[("modelregistry_models", (("provider", "openai"), ("status", "active")))] == 1
    assert (
        samples[("modelregistry_models", (("provider", "openai"), ("status", "deprecated")))] == 1
    )
    assert samples[("modelregistry_models", (("provider", "ollama"), ("status", "disabled")))] == 1
    assert samples[("modelregistry_capability_models", (("capability", "vision"),))] == 3
    # The server itself wrote nothing; it heard of the changes.
    assert samples[("modelregistry_changes_total", (("kind", "created"),))] == 0
    heard = sum(
        value
        for (name, labels), value in samples.items()
        if name == "modelregistry_cache_refreshes_total" and labels[0][1] in {"notify", "poll"}
    )
    assert heard >= 1
    assert all("gpt-4" not in str(labels) for _, labels in samples)  # no model ids
    assert served.text("/nope")[0] == 404
    assert served.stop(signal.SIGTERM) == 0
    assert served.output[-1] == "stopped\n"


def test_ctrl_c_stops_it_cleanly(database_url: str, serve: Callable[..., MetricsServed]) -> None:
    ModelRegistry(database_url).close()
    served = serve(database_url)
    assert served.text("/healthz")[0] == 200
    assert served.stop(signal.SIGINT) == 0
    assert "Traceback" not in "".join(served.output)


def test_a_port_in_use_is_one_line_and_exit_1(
    database_url: str, serve: Callable[..., MetricsServed]
) -> None:
    ModelRegistry(database_url).close()
    port = serve(database_url).base.rsplit(":", 1)[1]
    taken = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", database_url, "metrics", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=DEADLINE * 2,
        check=False,
    )
    assert taken.returncode == 1
    assert taken.stderr.startswith(f"error: cannot listen on 127.0.0.1 port {port}: ")
    assert taken.stderr.count("\n") == 1


@pytest.mark.slow
def test_healthz_fails_while_the_database_is_down_and_the_password_never_shows(
    serve: Callable[..., MetricsServed],
) -> None:
    with throwaway_postgres(password=SECRET) as server:
        if server is None:
            pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
        ModelRegistry(server.url).close()
        served = serve(server.url, "--poll-interval", "0.1")
        assert served.text("/healthz")[0] == 200
        server.stop()
        try:
            wait_for(lambda: served.text("/healthz")[0] == 503, "/healthz to fail")
            detail = served.text("/healthz")[1]
            assert "E4020" in detail
            # The metrics go on from the cache, staleness growing.
            assert served.value("modelregistry_models", provider="ollama", status="active") == 3
            texts = [detail, served.text("/metrics")[1], "".join(served.output)]
        finally:
            server.start()
        wait_for(lambda: served.text("/healthz")[0] == 200, "/healthz to recover")
        texts.append(served.text("/metrics")[1])
        assert served.stop() == 0
    for text in [*texts, "".join(served.output)]:
        for form in (SECRET, quote(SECRET, safe=""), "s3cr3t"):
            assert form not in text
    assert "***" in served.output[0]
