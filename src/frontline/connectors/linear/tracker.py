"""Linear as frontline's tracker: an escalation becomes an issue in one team, found again by its marker.

**Transport.** Every call is one GraphQL operation (``POST {query, variables}``) through
:class:`~frontline.connectors.linear.api.LinearAPI`, the shared HTTP layer with Linear's errors
read from the body (see that module). The documents live in ``linear_documents`` and are checked
in the tests against Linear's official schema. A personal API key goes bare in ``Authorization``,
an OAuth token as ``Bearer`` (the credentials provider decides).

**The team** is ``linear.team_id`` (``LINEAR_TEAM_ID``): a team's id (a UUID) or its key (``ENG``,
any case, or a pasted team URL). It is resolved to the team once per run with one ``teams``
query; when it matches nothing, the error lists the teams the key can see. Left empty, the only
team the key can see is used.

**Labels** are names (``escalation.labels``). They are resolved once per run, case-insensitively,
with one ``issueLabels`` query over the team's labels and the workspace's (a team label wins over a
workspace label of the same name; label groups cannot be put on issues and are skipped). A name
that matches nothing is created as a team label with ``issueLabelCreate`` (``linear.create_labels``,
on by default); when that is off or refused, the issue is filed without it and a warning logged:
a missing label never costs the escalation its issue.

**The project** (``escalation.projects``, per category) is a project id, a project URL or a name.
A name is resolved once per run among the projects the team belongs to; an unknown one is left
out with a warning (the issue is filed in the team) and reported by ``frontline doctor``.

**Priority** maps P0 to 1 (urgent) and P1 to 2 (high), P2 and P3 to 3 (medium) and 4 (low).

**Doing it once.** The description always carries the marker, so :meth:`LinearTracker.find_issue`
finds an open issue for an escalation with ``issues(filter: {description: {contains: marker},
state: {type: {nin: ["completed", "canceled"]}}})`` across the workspace (issues are often moved to
another team). Creating is never retried blindly: a rate limit (nothing applied) waits and
retries, but after a timeout or a server error the marker is searched first, so an issue whose
answer was lost is returned rather than filed twice. The flow calls ``find_issue`` itself before
retrying a planned effect after a crash.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import stamina

from frontline.config import Settings
from frontline.connectors.linear.api import KEY_HELP, RETRY_TIMEOUT, SERVICE, LinearAPI, retry_rate_limited
from frontline.connectors.linear.documents import (
    CREATE_ISSUE,
    CREATE_LABEL,
    DIAGNOSE,
    FIND_ISSUE,
    LABELS,
    PROJECTS,
    TEAMS,
)
from frontline.connectors.linear.package import LINEAR
from frontline.connectors.linear.settings import LinearSettings
from frontline.credentials import Credentials
from frontline.errors import AuthError, ConnectorError, FrontlineError, NotFoundError, UnavailableError
from frontline.model import IssueDraft, IssueRef
from frontline.ports import Check

if TYPE_CHECKING:
    from frontline.connectors.http import Budget
    from frontline.runtime.budgets import BudgetBook

log = logging.getLogger(__name__)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Linear's priorities: 0 none, 1 urgent, 2 high, 3 medium, 4 low.
PRIORITIES = {"P0": 1, "P1": 2, "P2": 3, "P3": 4}
WRITE_ATTEMPTS = 5
LISTED_TEAMS = 50


@dataclass(frozen=True, slots=True)
class LinearTeam:
    """The team issues are filed in."""

    id: str
    key: str
    name: str

    def __str__(self) -> str:
        return f"{self.key} ({self.name})"


def _teams(data: Mapping[str, Any]) -> list[LinearTeam]:
    nodes = (data.get("teams") or {}).get("nodes") or ()
    return [LinearTeam(str(n["id"]), str(n.get("key") or ""), str(n.get("name") or "")) for n in nodes
            if isinstance(n, Mapping) and n.get("id")]


def _listing(teams: Sequence[LinearTeam]) -> str:
    shown = ", ".join(str(t) for t in teams[:10])
    return shown + (f" and {len(teams) - 10} more" if len(teams) > 10 else "") if teams else "none"


def _marked(draft: IssueDraft) -> str:
    """The markdown description, with the marker in visible text (the marker search reads it there)."""
    return draft.body if draft.marker in draft.body else f"{draft.body}\n\nfrontline marker: `{draft.marker}`"


def _retry_create(error: Exception) -> bool | float:
    """stamina hook for creating: a rate limit waits; a timeout or 5xx is retried after a marker search."""
    return isinstance(error, UnavailableError) or retry_rate_limited(error)


class LinearTracker:
    """Files escalations as Linear issues in one team, with labels, project and priority."""

    name = "linear"

    def __init__(self, options: LinearSettings, *, http: httpx.AsyncClient, credentials: Credentials,
                 projects: Mapping[str, str] | None = None, budget: Budget | None = None) -> None:
        self.options = options
        self.endpoint = options.base_url

        async def auth(refresh: bool) -> Mapping[str, str]:
            return (await credentials.get("linear", refresh=refresh)).headers()

        self.api = LinearAPI(http, self.endpoint, auth=auth, budget=budget)
        self._configured_projects = dict(projects or {})  # category → project, checked by diagnose
        self._team: LinearTeam | None = None
        self._labels: dict[str, str | None] = {}  # lower-case name → id (None: missing, left out this run)
        self._projects: dict[str, str | None] = {}  # name or URL → id (None: unknown)
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.AsyncClient, credentials: Credentials,
                      budgets: BudgetBook | None = None, **_: Any) -> LinearTracker:
        """The tracker for ``settings.linear`` on the shared client, inside the key's hourly budgets."""
        budget = LINEAR.budget(budgets, settings.linear) if budgets is not None else None
        return cls(settings.linear, http=http, credentials=credentials, projects=settings.escalation.projects,
                   budget=budget)

    # -- the team ------------------------------------------------------------------------------
    def _team_filter(self) -> dict[str, Any] | None:
        value = self.options.team_id
        if not value:
            return None
        return {"id": {"eq": value}} if UUID.match(value) else {"key": {"eqIgnoreCase": value}}

    async def team(self) -> LinearTeam:
        """The configured team, resolved once per run (NotFoundError listing the visible teams)."""
        if self._team is None:
            async with self._lock:
                if self._team is None:
                    data = await self.api.execute(TEAMS, {"filter": self._team_filter(), "first": LISTED_TEAMS},
                                                  what="find the team issues go to")
                    self._team = await self._choose(_teams(data))
        return self._team

    async def _choose(self, found: list[LinearTeam]) -> LinearTeam:
        configured = self.options.team_id
        if configured and found:
            return found[0]
        visible = found
        if configured:
            data = await self.api.execute(TEAMS, {"filter": None, "first": LISTED_TEAMS}, what="list the teams")
            visible = _teams(data)
        example = f", e.g. LINEAR_TEAM_ID={visible[0].key}" if visible else ""
        if not visible:
            raise NotFoundError(SERVICE, "the key can see no team",
                                hint="Ask a Linear admin to add the key's user to the team escalations go to")
        if configured:
            raise NotFoundError(SERVICE, f"no team {configured!r} among the teams the key can see: "
                                f"{_listing(visible)}", hint=f"Set LINEAR_TEAM_ID to one of these keys{example}")
        if len(visible) == 1:
            return visible[0]
        raise NotFoundError(SERVICE, f"LINEAR_TEAM_ID is not set and the key can see {len(visible)} teams: "
                            f"{_listing(visible)}", hint=f"Set LINEAR_TEAM_ID to the team escalations go to{example}")

    # -- labels and projects -------------------------------------------------------------------
    async def _label_ids(self, team: LinearTeam, names: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        async with self._lock:
            unknown = [n for n in wanted if n.lower() not in self._labels]
            if unknown:
                self._labels.update(await self._find_labels(team, unknown))
                for label in unknown:
                    if label.lower() not in self._labels:
                        self._labels[label.lower()] = await self._create_label(team, label)
        ids = [self._labels.get(n.lower()) for n in wanted]
        return list(dict.fromkeys(i for i in ids if i))

    async def _find_labels(self, team: LinearTeam, names: Sequence[str]) -> dict[str, str]:
        """Labels by lower-case name among the team's and the workspace's; the team's win."""
        scope = {"and": [
            {"or": [{"name": {"eqIgnoreCase": n}} for n in names]},
            {"or": [{"team": {"id": {"eq": team.id}}}, {"team": {"null": True}}]},
            {"isGroup": {"eq": False}},
        ]}
        data = await self.api.execute(LABELS, {"filter": scope}, what=f"find the labels {', '.join(names)}")
        found: dict[str, str] = {}
        for node in (data.get("issueLabels") or {}).get("nodes") or ():
            if not isinstance(node, Mapping) or not node.get("id") or node.get("isGroup"):
                continue
            key = str(node.get("name") or "").lower()
            if node.get("team") or key not in found:
                found[key] = str(node["id"])
        return found

    async def _create_label(self, team: LinearTeam, label: str) -> str | None:
        """A new team label's id; None (with a warning) when creating is off or refused."""
        if not self.options.create_labels:
            log.warning("Linear: team %s has no label %r and linear.create_labels is off: issues are filed "
                        "without it", team.key, label)
            return None
        what = f"create the label {label!r} in team {team.key}"
        try:
            async for attempt in stamina.retry_context(on=retry_rate_limited, attempts=WRITE_ATTEMPTS,
                                                       timeout=RETRY_TIMEOUT):
                with attempt:
                    data = await self.api.execute(CREATE_LABEL, {"input": {"name": label, "teamId": team.id}},
                                                  what=what, retry=False)
            created = (data.get("issueLabelCreate") or {}).get("issueLabel") or {}
            if created.get("id"):
                return str(created["id"])
        except AuthError as error:
            if error.status != 403:
                raise
            problem = error.message
        except ConnectorError as error:
            problem = error.message
            # Someone may have created it meanwhile (or our answer was lost): look once more.
            again = await self._find_labels(team, [label])
            if label.lower() in again:
                return again[label.lower()]
        else:
            problem = "the answer carried no label"
        log.warning("Linear: could not %s (%s): issues are filed without it", what, problem)
        return None

    async def _project_id(self, team: LinearTeam, project: str) -> str | None:
        value = project.strip()
        if not value or UUID.match(value):
            return value or None
        async with self._lock:
            if value not in self._projects:
                self._projects[value] = await self._find_project(team, value)
            return self._projects[value]

    async def _find_project(self, team: LinearTeam, value: str) -> str | None:
        url = re.search(r"/project/([^/?#\s]+)", value)
        match = {"slugId": {"eq": url.group(1).rsplit("-", 1)[-1]}} if url else {"name": {"eqIgnoreCase": value}}
        scope = {**match, "accessibleTeams": {"some": {"id": {"eq": team.id}}}}
        data = await self.api.execute(PROJECTS, {"filter": scope}, what=f"find the project {value!r}")
        nodes = [n for n in (data.get("projects") or {}).get("nodes") or () if isinstance(n, Mapping) and n.get("id")]
        if not nodes:
            log.warning("Linear: team %s is in no project %r: issues are filed without a project (fix "
                        "[escalation.projects])", team.key, value)
            return None
        return str(nodes[0]["id"])

    # -- the port ------------------------------------------------------------------------------
    async def create_issue(self, draft: IssueDraft) -> IssueRef:
        """File ``draft`` in the team; its description carries the marker."""
        team = await self.team()
        fields: dict[str, Any] = {
            "teamId": team.id,
            "title": " ".join(draft.title.split()) or "Escalation",
            "description": _marked(draft),
            "priority": PRIORITIES.get(draft.priority.strip().upper(), 0),
        }
        label_ids = await self._label_ids(team, draft.labels)
        if label_ids:
            fields["labelIds"] = label_ids
        if draft.project:
            project = await self._project_id(team, draft.project)
            if project:
                fields["projectId"] = project
        what = f"create an issue in team {team.key}"
        ambiguous = False
        async for attempt in stamina.retry_context(on=_retry_create, attempts=WRITE_ATTEMPTS, timeout=RETRY_TIMEOUT):
            with attempt:
                if ambiguous:
                    found = await self.find_issue(draft.marker)
                    if found is not None:
                        return found
                try:
                    data = await self.api.execute(CREATE_ISSUE, {"input": fields}, what=what, retry=False)
                except UnavailableError:
                    ambiguous = True  # it may have landed: the next attempt looks for the marker first
                    raise
                payload = data.get("issueCreate") or {}
                issue = payload.get("issue") if payload.get("success") else None
                if not isinstance(issue, Mapping) or not issue.get("id"):
                    raise ConnectorError(SERVICE, f"did not {what}: the answer carried no issue",
                                         hint="Check the team's settings in Linear, then run `frontline doctor`")
                return IssueRef(str(issue["id"]), str(issue.get("identifier") or ""), str(issue.get("url") or ""))
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def find_issue(self, marker: str) -> IssueRef | None:
        """The open issue (any state but completed or canceled) whose description carries ``marker``."""
        if not marker.strip():
            return None  # "contains ''" would match every issue
        data = await self.api.execute(FIND_ISSUE, {"marker": marker}, what=f"look for an issue marked {marker}")
        for node in (data.get("issues") or {}).get("nodes") or ():
            if isinstance(node, Mapping) and node.get("id"):
                return IssueRef(str(node["id"]), str(node.get("identifier") or ""), str(node.get("url") or ""))
        return None

    # -- setup ---------------------------------------------------------------------------------
    async def diagnose(self) -> list[Check]:
        """One call (viewer, workspace, team): who is signed in and where issues go, or what to fix."""
        name = f"tracker {self.name}"
        try:
            data = await self.api.execute(DIAGNOSE, {"filter": self._team_filter()}, what="check the key and team")
        except AuthError as error:
            if error.status is None:  # no credentials at all
                detail = f"Linear: {error.message}"
            elif error.message.startswith(("rejected", "refused")):  # Linear's own GraphQL error
                detail = f"Linear {error.message}"
            else:
                detail = f"Linear rejected the credentials: {error.message}"
            return [Check(name, False, detail, error.hint or KEY_HELP)]
        except ConnectorError as error:
            return [Check(name, False, f"{self.endpoint} did not answer the check: {error.message}",
                          error.hint or "Check LINEAR_BASE_URL and the network")]
        except FrontlineError as error:  # e.g. a credentials provider that cannot be used
            return [Check(name, False, str(error))]
        viewer = data.get("viewer") or {}
        workspace = data.get("organization") or {}
        who = f"{viewer.get('name') or 'user ' + str(viewer.get('id'))} <{viewer.get('email') or 'no email'}>"
        where = f"workspace {workspace.get('name') or '?'} ({workspace.get('urlKey') or '?'})"
        if viewer.get("active") is False:
            return [Check(name, False, f"the key belongs to {who}, a deactivated user in {where}",
                          "Use a key of an active member (LINEAR_API_KEY)")]
        try:
            self._team = await self._choose(_teams(data))
        except NotFoundError as error:
            return [Check(name, False, f"signed in as {who} in {where}, but {error.message}", error.hint)]
        except FrontlineError as error:
            return [Check(name, False, f"signed in as {who} in {where}, but {error}")]
        checks = [Check(name, True, f"ACTIVE: signed in as {who} in {where}; issues go to team {self._team}")]
        return checks + await self._check_projects(self._team)

    async def _check_projects(self, team: LinearTeam) -> list[Check]:
        if not self._configured_projects:
            return []
        name = f"tracker {self.name} projects"
        try:
            unknown = [f"{category} → {project!r}" for category, project in sorted(self._configured_projects.items())
                       if not await self._project_id(team, project)]
        except FrontlineError as error:
            return [Check(name, False, f"could not look the projects up: {error}")]
        if unknown:
            return [Check(name, False, f"team {team.key} is in no such project: {', '.join(unknown)}",
                          "Fix [escalation.projects]: a project's name, URL or id that the team belongs to")]
        return [Check(name, True, f"every project in [escalation.projects] is one of team {team.key}'s")]

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client belongs to the caller."""
