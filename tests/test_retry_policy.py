"""The HTTP layer both sources share (assets/sources/http.py): Retry-After read as seconds or an
HTTP date, exponential backoff with connection-level waits capped, max_retries and the per-run
budget stopping the tenacity loop, and the same setting names on both resources."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import dagster as dg
import httpx2
import pytest
import requests

from assets.sources.arxiv.client import ArxivResource
from assets.sources.http import (
    CONNECT_RETRY_SECONDS,
    RequestStats,
    RetryPolicy,
    Transient,
    retry_after,
    retrying,
)
from assets.sources.hub.client import HubResource


def policy(**overrides) -> RetryPolicy:
    settings = {"max_retries": 4, "timeout_seconds": 30.0, "backoff_seconds": 1.0, "max_backoff_seconds": 30.0,
                "retry_budget_seconds": None, **overrides}
    return RetryPolicy(**settings)


def http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(timezone.utc) + delta, usegmt=True)


# --- Retry-After --------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [httpx2.Headers, requests.structures.CaseInsensitiveDict])
def test_retry_after_in_seconds_from_either_transport_headers(headers):
    assert retry_after(headers({"Retry-After": "7"})) == 7.0
    assert retry_after(headers({"retry-after": " 1.5 "})) == 1.5
    assert retry_after(headers({"Content-Type": "text/plain"})) is None


def test_retry_after_as_an_http_date_is_the_time_until_then():
    assert 25 <= retry_after({"Retry-After": http_date(timedelta(seconds=30))}) <= 30
    assert retry_after({"Retry-After": http_date(-timedelta(minutes=5))}) == 0.0


@pytest.mark.parametrize("value", ["", "soon", "-5", "Thu, 99 Foo 2026 00:00:00 GMT"])
def test_retry_after_that_is_neither_is_ignored(value):
    assert retry_after({"Retry-After": value}) is None


# --- waits ----------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_maximum():
    waits = [policy(backoff_seconds=2, max_backoff_seconds=10).wait(n, Transient("HTTP 503")) for n in range(1, 6)]
    assert waits == [2, 4, 8, 10, 10]


def test_connection_level_failures_wait_at_most_the_connect_cap():
    slow = policy(backoff_seconds=5, max_backoff_seconds=120)
    assert slow.wait(3, Transient("connection error", connection=True)) == CONNECT_RETRY_SECONDS
    assert slow.wait(3, Transient("timeout")) == 20
    assert policy(backoff_seconds=0.25).wait(1, Transient("refused", connection=True)) == 0.25


def test_retry_after_wins_over_backoff_and_is_capped_only_without_a_budget():
    long = Transient("rate limited (429)", retry_after=300)
    assert policy(max_backoff_seconds=120).wait(1, long) == 120                               # no budget: capped
    assert policy(max_backoff_seconds=120, retry_budget_seconds=600).wait(1, long) == 300     # the budget bounds it
    assert policy(backoff_seconds=2).wait(4, Transient("HTTP 429", retry_after=3)) == 3


# --- the loop -------------------------------------------------------------------------------------


class Flaky:
    """Fails with the given exceptions in turn, then answers."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "answer"


def test_transient_failures_are_retried_and_counted():
    stats, slept = RequestStats(), []
    flaky = Flaky(Transient("HTTP 503"), Transient("HTTP 429", retry_after=7))
    assert retrying(policy(backoff_seconds=2), stats, slept.append)(flaky) == "answer"
    assert (flaky.calls, slept, stats.retries, stats.waited_seconds) == (3, [2, 7], 2, 9)


def test_max_retries_stops_and_reraises_the_last_failure():
    stats, slept = RequestStats(), []
    flaky = Flaky(*[Transient(f"HTTP 50{n}") for n in range(5)])
    with pytest.raises(Transient, match="HTTP 502"):
        retrying(policy(max_retries=2), stats, slept.append)(flaky)
    assert flaky.calls == 3 and stats.retries == 2 and len(slept) == 2


def test_other_failures_are_not_retried():
    stats, slept = RequestStats(), []
    flaky = Flaky(ValueError("not JSON"))
    with pytest.raises(ValueError):
        retrying(policy(), stats, slept.append)(flaky)
    assert flaky.calls == 1 and slept == [] and stats.retries == 0


def test_a_wait_beyond_the_budget_stops_at_once():
    stats, slept = RequestStats(), []
    flaky = Flaky(Transient("rate limited (429)", retry_after=45))
    with pytest.raises(Transient):
        retrying(policy(retry_budget_seconds=30), stats, slept.append)(flaky)
    assert flaky.calls == 1 and slept == []


def test_the_budget_is_shared_by_every_request_of_a_run():
    stats, slept = RequestStats(), []
    budget = policy(backoff_seconds=4, retry_budget_seconds=10)
    for _ in range(2):
        assert retrying(budget, stats, slept.append)(Flaky(Transient("HTTP 503"))) == "answer"
    assert slept == [4, 4] and stats.waited_seconds == 8
    third = Flaky(Transient("HTTP 503"))
    with pytest.raises(Transient):
        retrying(budget, stats, slept.append)(third)    # 4 more seconds would exceed the 2 left
    assert third.calls == 1 and slept == [4, 4]


# --- one set of names -----------------------------------------------------------------------------


def test_both_resources_name_their_retry_settings_alike():
    names = {f.name for f in dataclasses.fields(RetryPolicy)}
    assert names <= set(HubResource.model_fields) and names <= set(ArxivResource.model_fields)
    hub = HubResource(max_retries=2, timeout_seconds=5, backoff_seconds=0.5, max_backoff_seconds=8,
                      retry_budget_seconds=60)
    arxiv = ArxivResource(max_retries=2, timeout_seconds=5, backoff_seconds=0.5, max_backoff_seconds=8,
                          retry_budget_seconds=60)
    assert hub.retry_policy() == arxiv.retry_policy() == RetryPolicy(2, 5, 0.5, 8, 60)


def test_arxiv_num_retries_is_still_accepted_as_max_retries():
    assert ArxivResource(num_retries=1).retry_policy().max_retries == 1
    assert ArxivResource().retry_policy().max_retries == 4

    @dg.asset
    def attempts(arxiv: ArxivResource) -> int:
        return arxiv.retry_policy().max_retries + 1

    for config, expected in (({"num_retries": 1}, 2), ({"max_retries": 2}, 3)):   # run config, as the launchpad sends
        result = dg.materialize([attempts], resources={"arxiv": ArxivResource()},
                                run_config={"resources": {"arxiv": {"config": config}}})
        assert result.output_for_node("attempts") == expected
