"""The "HQ live" tab without a live service: nothing asked until Refresh, every failure a clear message."""

from __future__ import annotations

import json

import pytest

from dashboards import hq_client as hq
from tests.dashboard.hq_page import Stub, ask, hq_page
from tests.dashboard.page import errors, fresh_page


@pytest.fixture
def creds(tmp_path):
    """A data folder with an HQ device's credentials (not any running service's)."""
    (tmp_path / "credentials.json").write_text(json.dumps(
        {"devices": [{"role": "shelter", "device_id": "s-1", "token": "x"},
                     {"role": "hq", "device_id": "hq-1", "token": "not-a-real-token"}]}))
    return tmp_path


@pytest.fixture
def restarting():
    """A stand-in service answering 503, as the live one does while a shelter group restarts."""
    stub = Stub(503, {"detail": "shelter group 1 is restarting"})
    yield stub
    stub.close()


def test_an_idle_tab_asks_the_service_nothing_until_refresh_and_a_503_is_a_clear_message(restarting, creds):
    at = hq_page()
    at.text_input(key="hq:url").set_value(restarting.url).run()
    at.text_input(key="hq:credentials").set_value(str(creds)).run()
    at.number_input(key="hq:reps").set_value(20).run()
    assert restarting.hits == [] and any("press **Refresh**" in i.value for i in at.info)
    ask(at, restarting.url, str(creds / "credentials.json"), quake="2026-04-06T07:00")
    assert not at.exception
    assert restarting.hits == ["/v1/hq/headcounts?report=false"]  # read only; the state failed: no forecast asked
    assert "the service is not ready" in errors(at) and "HTTP 503" in errors(at)
    assert "shelter group 1 is restarting" in errors(at)


def test_a_url_where_nothing_listens_says_so(creds):
    from tests.actors.live_helpers import free_port

    at = ask(hq_page(), f"http://127.0.0.1:{free_port()}", str(creds), quake="2026-04-06T07:00")
    assert not at.exception and "no service answers at http://127.0.0.1:" in errors(at)
    assert "is `run.py serve` running there?" in errors(at)


@pytest.mark.parametrize(("url", "credentials", "add", "says"), [
    ("http://127.0.0.1:8000", "", "", "give the HQ credentials"),
    ("http://127.0.0.1:8000", "/nowhere/at/all", "", "has no credentials.json"),
    ("http://127.0.0.1:8000", "CREDS", "12=two", "must look like SHELTER=N"),
    ("ftp://127.0.0.1", "CREDS", "", "must look like http://127.0.0.1:8000"),
    ("http://hq.example.org:8000", "CREDS", "", "only over https"),
])
def test_bad_inputs_are_named_before_anything_is_asked(creds, url, credentials, add, says):
    at = ask(hq_page(), url, credentials.replace("CREDS", str(creds)), add=add)
    assert not at.exception and says in errors(at), errors(at)
    assert not at.subheader  # nothing shown as if it had come from a service


def test_intervals_are_read_as_different_only_when_they_do_not_overlap():
    base = {"median": 20.0, "low": 15.0, "high": 25.0}
    assert hq.reading(base, {"median": 10.0, "low": 8.0, "high": 12.0}) == "what-if earlier"
    assert hq.reading(base, {"median": 18.0, "low": 12.0, "high": 24.0}) == "intervals overlap: not told apart"
    assert hq.reading(base, {"median": 30.0, "low": 26.0, "high": 33.0}) == "what-if later"
    assert hq.reading(base, {"median": None, "low": None, "high": None}).startswith("cannot compare")
    assert hq.parse_add_readers("12=2\n 13=1, 14=3") == {12: 2, 13: 1, 14: 3}


def test_the_page_has_the_hq_tab_waiting_for_refresh():
    at = fresh_page()
    tab = next(t for t in at.tabs if t.label == "HQ live")
    assert not at.exception and at.button(key="hq:refresh")
    assert any("Nothing is asked of the service until you press **Refresh**" in m.value for m in tab.markdown)
