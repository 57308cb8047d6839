"""The Linear tracker against a stateful fake Linear whose every operation is checked by the official schema."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from frontline.config import Settings, load_settings
from frontline.connectors.linear.api import linear_retry_after
from frontline.connectors.linear.documents import ALL
from frontline.connectors.linear.tracker import LinearTracker
from frontline.credentials import open_credentials
from frontline.errors import AuthError, ConnectorError, NotFoundError, RateLimitedError
from frontline.model import IssueDraft
from tests.fakes.base import serve
from tests.fakes.linear import API_KEY, OAUTH_TOKEN, RULES, FakeLinear, linear_schema
from tests.helpers import make_settings, run

ENV = {"LINEAR_API_KEY": API_KEY, "LINEAR_TEAM_ID": "ENG"}
BODY = ("**P0 escalation** from Acme: score 0.90.\n\n**Signals**\n- keywords (+0.40): cancel\n\n"
        "frontline marker: `{marker}`")


def linear_settings(workspace: Path, toml: str = "", **env: str) -> Settings:
    make_settings(workspace, toml)
    return load_settings(workspace / "frontline.toml", environ={**ENV, **env}, dotenv=None)


def open_tracker(fake: FakeLinear, settings: Settings, http: httpx.AsyncClient | None = None) -> LinearTracker:
    return LinearTracker.from_settings(settings, http=http or fake.client(), credentials=open_credentials(settings))


def draft(marker: str = "fl-0123456789abcdef0123", **changes: Any) -> IssueDraft:
    values: dict[str, Any] = {"title": "Acme: checkout fails\nfor every card", "body": BODY.format(marker=marker),
                              "labels": ("escalation",), "priority": "P1"}
    values.update(changes)
    return IssueDraft(marker=marker, **values)


def sent_inputs(fake: FakeLinear, operation: str) -> list[dict[str, Any]]:
    """The ``input`` variable of every ``operation`` request."""
    bodies = [json.loads(r.content) for r in fake.requests]
    return [b["variables"]["input"] for b in bodies if f" {operation}(" in b["query"]]


@pytest.fixture
def fake() -> FakeLinear:
    """A workspace with two teams, a workspace label, a team label and a project of the ENG team."""
    linear = FakeLinear()
    eng = linear.add_team("ENG", "Engineering")
    ops = linear.add_team("OPS", "Operations")
    linear.add_label("escalation")
    linear.add_label("Billing", eng)
    linear.add_project("Checkout", teams=[eng])
    linear.add_project("Ops roadmap", teams=[ops])
    return linear


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Settings with a personal API key and the ENG team."""
    return linear_settings(workspace)


@pytest.fixture
def tracker(fake: FakeLinear, settings: Settings) -> LinearTracker:
    """The adapter on the fake."""
    return open_tracker(fake, settings)


# -- creating ------------------------------------------------------------------------------------
def test_an_issue_is_filed_in_the_team_with_its_markdown_labels_project_and_priority(
        fake: FakeLinear, tracker: LinearTracker) -> None:
    ref = run(tracker.create_issue(draft(labels=("escalation", "billing"), project="Checkout", priority="P0")))
    issue = fake.issue(ref.identifier)
    assert ref.identifier == "ENG-1" and ref.id == issue.id
    assert ref.url == issue.url and ref.url.startswith("https://linear.app/acme/issue/ENG-1/")
    assert issue.team.key == "ENG" and issue.title == "Acme: checkout fails for every card"
    assert issue.description == BODY.format(marker="fl-0123456789abcdef0123")
    assert sorted(label.name for label in issue.labels) == ["Billing", "escalation"]
    assert issue.project is not None and issue.project.name == "Checkout"
    assert issue.priority == 1  # urgent
    high = fake.issue(run(tracker.create_issue(draft("fl-1111111111111111111a"))).identifier)
    assert high.priority == 2 and high.project is None and [label.name for label in high.labels] == ["escalation"]
    assert fake.violations == [] and fake.unknown == []


def test_a_body_without_the_marker_gets_it_so_the_issue_can_be_found_again(fake: FakeLinear,
                                                                           tracker: LinearTracker) -> None:
    ref = run(tracker.create_issue(draft("fl-2222222222222222222b", body="Customer is angry.")))
    assert "fl-2222222222222222222b" in (fake.issue(ref.identifier).description or "")
    assert run(tracker.find_issue("fl-2222222222222222222b")) == ref


@pytest.mark.parametrize("team", ["eng", "https://linear.app/acme/team/ENG/active", "uuid"])
def test_the_team_is_resolved_once_per_run_from_its_key_url_or_id(fake: FakeLinear, workspace: Path,
                                                                  team: str) -> None:
    eng = fake.team_by_key("ENG")
    tracker = open_tracker(fake, linear_settings(workspace, LINEAR_TEAM_ID=eng.id if team == "uuid" else team))

    async def three() -> list[str]:
        refs = await asyncio.gather(*(tracker.create_issue(draft(f"fl-{n:020d}")) for n in range(3)))
        return sorted(r.identifier for r in refs)

    assert run(three()) == ["ENG-1", "ENG-2", "ENG-3"]
    assert fake.operations().count("FrontlineTeams") == 1  # even with three issues filed at once
    assert {i["teamId"] for i in sent_inputs(fake, "issueCreate")} == {eng.id}
    assert fake.violations == []


def test_a_missing_label_is_created_in_the_team_once_and_reused(fake: FakeLinear, tracker: LinearTracker) -> None:
    first = run(tracker.create_issue(draft(labels=("escalation", "vip-customer"))))
    second = run(tracker.create_issue(draft("fl-3333333333333333333c", labels=("VIP-customer", "escalation"))))
    created = [label for label in fake.labels.values() if label.name == "vip-customer"]
    assert len(created) == 1 and created[0].team is fake.team_by_key("ENG")
    for ref in (first, second):
        assert sorted(label.name for label in fake.issue(ref.identifier).labels) == ["escalation", "vip-customer"]
    assert fake.operations().count("FrontlineCreateLabel") == 1
    assert fake.operations().count("FrontlineLabels") == 1  # names resolved once per run
    assert fake.violations == [] and fake.unknown == []


def test_labels_match_any_case_and_the_team_label_wins_over_a_workspace_label(fake: FakeLinear,
                                                                              tracker: LinearTracker) -> None:
    fake.add_label("billing")  # a workspace label with the ENG team label's name
    fake.add_label("Escalation", fake.team_by_key("OPS").id)  # another team's: not usable in ENG
    ref = run(tracker.create_issue(draft(labels=("ESCALATION", "billing"))))
    labels = fake.issue(ref.identifier).labels
    assert sorted((label.name, label.team.key if label.team else None) for label in labels) == [
        ("Billing", "ENG"), ("escalation", None)]
    assert "FrontlineCreateLabel" not in fake.operations()


@pytest.mark.parametrize("why", ["setting", "refused"])
def test_a_label_that_cannot_be_created_is_left_out_and_the_issue_still_filed(
        fake: FakeLinear, workspace: Path, caplog: pytest.LogCaptureFixture, why: str) -> None:
    if why == "setting":
        settings = linear_settings(workspace, "[linear]\ncreate_labels = false\n")
    else:
        settings = linear_settings(workspace)
        fake.labels_forbidden = True
    with caplog.at_level(logging.WARNING, logger="frontline.connectors.linear"):
        ref = run(open_tracker(fake, settings).create_issue(draft(labels=("escalation", "churn-risk"))))
    assert [label.name for label in fake.issue(ref.identifier).labels] == ["escalation"]
    assert "churn-risk" in caplog.text and "without it" in caplog.text
    assert ("FrontlineCreateLabel" in fake.operations()) is (why == "refused")
    assert fake.violations == []


@pytest.mark.parametrize(("project", "found"), [
    ("checkout", "Checkout"),
    ("url", "Checkout"),
    ("id", "Checkout"),
    ("Ops roadmap", None),  # another team's project
    ("No such project", None),
])
def test_a_project_is_found_by_name_url_or_id_and_an_unknown_one_is_left_out(
        fake: FakeLinear, tracker: LinearTracker, caplog: pytest.LogCaptureFixture, project: str,
        found: str | None) -> None:
    checkout = next(p for p in fake.projects.values() if p.name == "Checkout")
    value = {"url": checkout.url + "/overview", "id": checkout.id}.get(project, project)
    with caplog.at_level(logging.WARNING, logger="frontline.connectors.linear"):
        ref = run(tracker.create_issue(draft(project=value)))
        run(tracker.create_issue(draft("fl-4444444444444444444d", project=value)))
    issue = fake.issue(ref.identifier)
    assert (issue.project.name if issue.project else None) == found
    assert fake.operations().count("FrontlineProjects") == (0 if project == "id" else 1)
    assert (found is None) == ("no project" in caplog.text)
    assert fake.violations == [] and fake.unknown == []


# -- finding -------------------------------------------------------------------------------------
def test_find_issue_finds_the_open_issue_with_the_marker_and_ignores_done_and_canceled_ones(
        fake: FakeLinear, tracker: LinearTracker) -> None:
    eng, ops = fake.team_by_key("ENG").id, fake.team_by_key("OPS").id
    marker = "fl-5555555555555555555e"
    fake.add_issue(eng, "Done already", f"frontline marker: `{marker}`", state="completed")
    fake.add_issue(eng, "Canceled", f"frontline marker: `{marker}`", state="canceled")
    assert run(tracker.find_issue(marker)) is None
    moved = fake.add_issue(ops, "Moved to Ops and in progress", f"text\nfrontline marker: `{marker}`", state="started")
    found = run(tracker.find_issue(marker))
    assert found is not None and found.id == moved and found.identifier.startswith("OPS-")
    fake.move(moved, "canceled")  # closed as a duplicate
    assert run(tracker.find_issue(marker)) is None
    backlog = fake.add_issue(eng, "Reopened in the backlog", f"frontline marker: `{marker}`", state="backlog")
    assert (run(tracker.find_issue(marker)) or found).id == backlog
    before = len(fake.requests)
    assert run(tracker.find_issue("  ")) is None and len(fake.requests) == before  # never "contains ''"
    assert fake.violations == [] and fake.unknown == []


# -- failures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 200, 429])
@pytest.mark.parametrize("budget", ["requests", "complexity"])
def test_a_rate_limit_waits_until_the_budget_resets_and_the_issue_lands_once(
        fake: FakeLinear, tracker: LinearTracker, status: int, budget: str) -> None:
    fake.rate_limit(operation="FrontlineFindIssue", status=status, budget=budget, reset_in=0.5)
    assert run(tracker.find_issue("fl-6666666666666666666f")) is None
    fake.rate_limit(operation="FrontlineCreateIssue", status=status, budget=budget, reset_in=0.5)
    ref = run(tracker.create_issue(draft()))
    assert [i.identifier for i in fake.issues.values()] == [ref.identifier]
    assert fake.operations().count("FrontlineCreateIssue") == 2
    assert tracker.api.rate_limited == 2 and fake.violations == []


def test_a_long_rate_limit_is_raised_saying_when_to_retry_without_knocking_again(
        fake: FakeLinear, tracker: LinearTracker) -> None:
    run(tracker.team())
    fake.rate_limit(budget="complexity", reset_in=1800)
    with pytest.raises(RateLimitedError) as caught:
        run(tracker.create_issue(draft(labels=())))
    assert 1790 < caught.value.retry_after <= 1800
    assert "rate limited trying to create an issue in team ENG" in str(caught.value)
    assert fake.operations().count("FrontlineCreateIssue") == 1 and fake.issues == {}


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "7"}, 7.0),
    ({"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": "{in 30s}",
      "X-RateLimit-Complexity-Remaining": "900", "X-RateLimit-Complexity-Reset": "{in 600s}"}, 30.0),
    ({"X-RateLimit-Endpoint-Requests-Remaining": "0", "X-RateLimit-Endpoint-Requests-Reset": "{in 90s}"}, 90.0),
    ({}, 1.0),
])
def test_the_wait_after_a_rate_limit_comes_from_the_budget_that_ran_out(headers: dict[str, str],
                                                                        wait: float) -> None:
    now = time.time()
    values = {k: str(int((now + float(v[4:-2])) * 1000)) if v.startswith("{in") else v for k, v in headers.items()}
    assert linear_retry_after(httpx.Headers(values)) == pytest.approx(wait, abs=1.5)


@pytest.mark.parametrize("status", [400, 401])
def test_a_revoked_key_is_an_auth_error_saying_how_to_fix_it(fake: FakeLinear, tracker: LinearTracker,
                                                             status: int) -> None:
    fake.auth_status = status
    fake.revoke()
    with pytest.raises(AuthError) as caught:
        run(tracker.create_issue(draft()))
    message = str(caught.value)
    assert caught.value.status == 401 and "rejected the credentials" in message
    assert "You need to authenticate" in message and "LINEAR_API_KEY" in message and "no 'Bearer'" in message
    assert fake.issues == {} and len(fake.requests) <= 2  # refused, then refused after a refresh


def test_a_personal_key_goes_bare_and_an_oauth_token_as_bearer(fake: FakeLinear, workspace: Path) -> None:
    run(open_tracker(fake, linear_settings(workspace)).team())
    assert fake.requests[-1].headers["authorization"] == API_KEY
    oauth = open_tracker(fake, linear_settings(workspace, LINEAR_API_KEY="", LINEAR_OAUTH_TOKEN=OAUTH_TOKEN))
    assert run(oauth.create_issue(draft())).identifier == "ENG-1"
    assert fake.requests[-1].headers["authorization"] == f"Bearer {OAUTH_TOKEN}"


def test_a_team_that_does_not_exist_is_not_found_listing_the_teams_the_key_can_see(fake: FakeLinear,
                                                                                   workspace: Path) -> None:
    fake.add_team("SEC", "Security", private=True, member=False)
    tracker = open_tracker(fake, linear_settings(workspace, LINEAR_TEAM_ID="QA"))
    with pytest.raises(NotFoundError) as caught:
        run(tracker.create_issue(draft()))
    message = str(caught.value)
    assert "no team 'QA'" in message and "ENG (Engineering), OPS (Operations)" in message
    assert "SEC" not in message and "LINEAR_TEAM_ID" in message and fake.issues == {}


def test_without_a_team_the_only_one_is_used_and_several_are_listed(workspace: Path) -> None:
    fake = FakeLinear()
    fake.add_team("SUP", "Support")
    unset = linear_settings(workspace, LINEAR_TEAM_ID="")
    assert run(open_tracker(fake, unset).create_issue(draft(labels=()))).identifier == "SUP-1"
    fake.add_team("ENG", "Engineering")
    with pytest.raises(NotFoundError, match=r"LINEAR_TEAM_ID is not set and the key can see 2 teams: SUP \(Support\)"):
        run(open_tracker(fake, unset).create_issue(draft(labels=())))


def test_an_issue_whose_answer_was_lost_is_not_filed_twice(fake: FakeLinear, tracker: LinearTracker) -> None:
    fake.lose_answer(operation="FrontlineCreateIssue")
    ref = run(tracker.create_issue(draft()))
    assert list(fake.issues) == [ref.id]
    assert fake.operations()[-2:] == ["FrontlineCreateIssue", "FrontlineFindIssue"]


def test_a_server_error_is_retried_on_reads_and_after_a_marker_search_on_writes(fake: FakeLinear,
                                                                                tracker: LinearTracker) -> None:
    fake.fail(503, times=2)
    assert run(tracker.team()).key == "ENG"
    run(tracker.create_issue(draft("fl-7777777777777777777a")))  # labels resolved and cached
    fake.fail(502)
    ref = run(tracker.create_issue(draft()))
    assert fake.operations()[-3:] == ["FrontlineCreateIssue", "FrontlineFindIssue", "FrontlineCreateIssue"]
    assert len(fake.issues) == 2 and ref.identifier == "ENG-2"


def test_input_linear_refuses_is_an_error_with_its_words_and_what_was_tried(fake: FakeLinear,
                                                                             tracker: LinearTracker) -> None:
    other = next(p for p in fake.projects.values() if p.name == "Ops roadmap")
    with pytest.raises(ConnectorError) as caught:
        run(tracker.create_issue(draft(project=other.id)))
    assert type(caught.value) is ConnectorError
    assert "refused to create an issue in team ENG: Team ENG is not part of project Ops roadmap" in str(caught.value)
    assert fake.issues == {} and fake.operations().count("FrontlineCreateIssue") == 1


# -- doctor --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("setup", "ok", "detail", "fix"), [
    (lambda fake, env: None, True, "ACTIVE: signed in as Lin Ops <lin@acme.example> in workspace Acme (acme); "
                                   "issues go to team ENG (Engineering)", ""),
    (lambda fake, env: fake.revoke(), False, "Linear rejected the credentials", "LINEAR_API_KEY"),
    (lambda fake, env: env.update(LINEAR_API_KEY=""), False, "no token", "LINEAR_API_KEY"),
    (lambda fake, env: env.update(LINEAR_TEAM_ID="QA"), False,
     "but no team 'QA' among the teams the key can see: ENG (Engineering), OPS (Operations)",
     "LINEAR_TEAM_ID=ENG"),
    (lambda fake, env: env.update(LINEAR_TEAM_ID=""), False, "LINEAR_TEAM_ID is not set and the key can see 2 teams",
     "LINEAR_TEAM_ID"),
    (lambda fake, env: setattr(fake.users[fake.viewer], "active", False), False, "a deactivated user",
     "LINEAR_API_KEY"),
    (lambda fake, env: fake.fail(404), False, "did not answer the check", "LINEAR_BASE_URL"),
], ids=["active", "revoked", "no-key", "unknown-team", "no-team", "deactivated", "wrong-url"])
def test_diagnose_says_who_is_signed_in_and_where_issues_go_or_what_to_fix(
        fake: FakeLinear, workspace: Path, setup: Any, ok: bool, detail: str, fix: str) -> None:
    env = dict(ENV)
    setup(fake, env)
    [check] = run(open_tracker(fake, linear_settings(workspace, **env)).diagnose())
    assert check.connector == "tracker linear"
    assert check.ok is ok and detail in check.detail and fix in check.fix
    assert len(fake.requests) <= 2 and fake.violations == []


def test_diagnose_checks_the_projects_escalations_are_filed_in(fake: FakeLinear, workspace: Path) -> None:
    toml = '[escalation.projects]\nbug = "checkout"\nbilling = "Ops roadmap"\n'
    active, projects = run(open_tracker(fake, linear_settings(workspace, toml)).diagnose())
    assert active.ok and not projects.ok
    assert "billing → 'Ops roadmap'" in projects.detail and "bug" not in projects.detail
    assert "[escalation.projects]" in projects.fix
    fine = run(open_tracker(fake, linear_settings(workspace, '[escalation.projects]\nbug = "Checkout"\n')).diagnose())
    assert [c.ok for c in fine] == [True, True]


# -- contract ------------------------------------------------------------------------------------
def test_every_document_the_adapter_sends_is_valid_against_the_official_schema(
        fake: FakeLinear, tracker: LinearTracker, workspace: Path) -> None:
    for name, document in ALL.items():
        assert graphql.validate(linear_schema(), graphql.parse(document), RULES) == [], name
    run(tracker.diagnose())
    run(tracker.create_issue(draft(labels=("escalation", "new-label"), project="Checkout", priority="P0")))
    run(tracker.find_issue("fl-0123456789abcdef0123"))
    run(open_tracker(fake, linear_settings(workspace, LINEAR_TEAM_ID="QA")).diagnose())  # lists the teams
    assert set(fake.operations()) == {"FrontlineDiagnose", "FrontlineLabels", "FrontlineCreateLabel",
                                      "FrontlineProjects", "FrontlineCreateIssue", "FrontlineFindIssue",
                                      "FrontlineTeams"}
    assert fake.violations == [] and fake.unknown == []


@pytest.mark.parametrize(("body", "wrong"), [
    ({"query": 'mutation { issueCreate(input: {team_id: "x", title: "t"}) { success } }'}, "team_id"),
    ({"query": "query { issues { nodes { identifer } } }"}, "identifer"),
    ({"query": "query Find($marker: String!) { issues(filter: {description: {contains: $marker}}) { nodes { id } } }",
      "variables": {"marker": 5}}, "String cannot represent"),
    ({"query": "query Find($marker: String!) { issues(filter: {description: {contains: $marker}}) { nodes { id } } }",
      "variables": {"marker": "fl-1", "markr": "fl-1"}}, "markr"),
    ({"query": "query { teams { nodes { private } } }"}, "deprecated"),
    ({"query": "query { viewer { id } }", "variable": {}}, "unknown body keys"),
], ids=["wrong-input-field", "misspelt-field", "wrong-variable-type", "undeclared-variable", "deprecated-field",
        "misspelt-body-key"])
def test_the_contract_refuses_what_the_official_schema_does_not_allow(fake: FakeLinear, body: dict[str, Any],
                                                                      wrong: str) -> None:
    async def send() -> httpx.Response:
        async with fake.client() as http:
            return await http.post("https://api.linear.app/graphql", json=body, headers={"Authorization": API_KEY})

    response = run(send())
    assert response.status_code == 400 and response.json()["errors"][0]["message"].startswith("contract violation")
    assert len(fake.violations) == 1 and wrong in fake.violations[0]
    assert fake.issues == {}


def test_the_adapter_works_over_real_loopback_sockets(fake: FakeLinear, workspace: Path) -> None:
    async def go(base: str) -> tuple[str, str | None]:
        async with httpx.AsyncClient() as http:
            tracker = open_tracker(fake, linear_settings(workspace, LINEAR_BASE_URL=f"{base}/graphql"), http)
            ref = await tracker.create_issue(draft())
            found = await tracker.find_issue(draft().marker)
            return ref.identifier, found.identifier if found else None

    with serve(fake) as base:
        assert run(go(base)) == ("ENG-1", "ENG-1")
    assert fake.requests[0].url.path == "/graphql" and fake.violations == [] and fake.unknown == []
