"""A stateful in-memory Linear: a workspace with teams, workflow states, labels, projects and issues.

Every request is checked by :class:`LinearContract` against Linear's official schema
(``shared/specs/linear/schema.graphql``) before it is served: the body holds only ``query``,
``variables`` and ``operationName``; the document parses and validates (deprecated fields
refused too); the variables coerce to the types the operation declares, and none is sent that
it does not declare. A misspelt field (``team_id`` for ``teamId``) is a recorded violation and a
400 with GraphQL validation errors, so the adapter's test fails.

The operations then *run* with graphql-core on the same schema, with resolvers over the objects
below, so answers have exactly Linear's shape; connections are filtered (``IssueFilter``,
``TeamFilter`` … with ``and``/``or``, comparators, relations and collections) and paged. A filter
or input field the fake does not implement is refused loudly (``unknown``), never ignored.

Failures look like Linear's: ``{"errors": [{"message", "extensions": {"type", "code",
"userPresentableMessage"}}]}`` with the rate-limit headers on every answer.

    fake = FakeLinear()
    eng = fake.add_team("ENG", "Engineering")
    fake.add_label("escalation")                              # a workspace label
    fake.add_project("Checkout", teams=[eng])
    fake.add_issue(eng, "Old", "body fl-1", state="completed")
    fake.revoke()                                             # every key is refused
    fake.rate_limit(reset_in=0)                               # the next request is RATELIMITED
    fake.lose_answer(operation="FrontlineCreateIssue")        # served, but the answer never arrives
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import graphql
import httpx
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, get_named_type
from graphql.execution.values import get_variable_values
from graphql.validation import NoDeprecatedCustomRule, specified_rules

from tests.contract import SPECS, ContractViolation, require_specs
from tests.fakes.base import Contract, FakeAPI, json_response

API_KEY = "lin_api_frontline0test0key"
OAUTH_TOKEN = "lin_oauth_frontline0test0token"
RULES = (*specified_rules, NoDeprecatedCustomRule)
BODY_KEYS = {"query", "variables", "operationName"}
BUDGET = 5000
COMPARATORS = {
    "eq", "neq", "in", "nin", "eqIgnoreCase", "neqIgnoreCase", "contains", "containsIgnoreCase", "notContains",
    "notContainsIgnoreCase", "startsWith", "startsWithIgnoreCase", "endsWith", "notStartsWith", "notEndsWith",
    "null", "lt", "lte", "gt", "gte",
}
STATES = (("Backlog", "backlog"), ("Todo", "unstarted"), ("In Progress", "started"), ("Done", "completed"),
          ("Canceled", "canceled"), ("Duplicate", "canceled"))


@functools.lru_cache(maxsize=1)
def linear_schema() -> GraphQLSchema:
    """Linear's official schema, built once per test session."""
    require_specs()
    return graphql.build_schema((SPECS / "linear" / "schema.graphql").read_text(encoding="utf-8"))


class LinearContract(Contract):
    """A request is one GraphQL operation valid against Linear's official schema, with coercible variables."""

    name = "linear/schema.graphql"

    def __init__(self) -> None:
        self.schema = linear_schema()

    def check(self, request: httpx.Request) -> None:
        """Raise ContractViolation when the request is not a valid operation of the schema."""
        if request.method != "POST":
            raise ContractViolation(f"{self.name}: operations are POSTed, got {request.method}")
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise ContractViolation(f"{self.name}: the body must be JSON (content-type application/json)")
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            raise ContractViolation(f"{self.name}: the body is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ContractViolation(f"{self.name}: the body must be an object with a query string")
        if set(body) - BODY_KEYS:
            raise ContractViolation(f"{self.name}: unknown body keys {sorted(set(body) - BODY_KEYS)} "
                                    f"(known: {', '.join(sorted(BODY_KEYS))})")
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            raise ContractViolation(f"{self.name}: variables must be an object")
        try:
            document = graphql.parse(body["query"])
        except GraphQLError as error:
            raise ContractViolation(f"{self.name}: syntax error: {error.message}") from None
        problems = [e.message for e in graphql.validate(self.schema, document, RULES)]
        if problems:
            raise ContractViolation(f"{self.name}: " + "; ".join(problems[:6]))
        operation = operation_of(document, body.get("operationName"))
        if operation is None:
            raise ContractViolation(f"{self.name}: no operation named {body.get('operationName')!r}")
        declared = {d.variable.name.value for d in operation.variable_definitions or ()}
        if set(variables) - declared:
            raise ContractViolation(f"{self.name}: variables {sorted(set(variables) - declared)} are not declared "
                                    f"by {operation.name.value if operation.name else 'the operation'}")
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            raise ContractViolation(f"{self.name}: " + "; ".join(e.message for e in coerced[:6]))


def operation_of(document: graphql.DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation ``name`` (or the only one) in ``document``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- the workspace's objects (attribute names are the schema's field names) ------------------------
@dataclass(eq=False)
class Organization:
    id: str
    name: str
    urlKey: str


@dataclass(eq=False)
class User:
    id: str
    name: str
    email: str
    displayName: str = ""
    active: bool = True
    admin: bool = False
    archivedAt: str | None = None


@dataclass(eq=False)
class Team:
    id: str
    key: str
    name: str
    private: bool = False
    member: bool = True
    states: list[WorkflowState] = field(default_factory=list)
    archivedAt: str | None = None
    next_number: int = 1

    @property
    def displayName(self) -> str:
        return self.name


@dataclass(eq=False)
class WorkflowState:
    id: str
    name: str
    type: str
    team: Team
    position: float = 0.0
    color: str = "#bec2c8"
    archivedAt: str | None = None


@dataclass(eq=False)
class IssueLabel:
    id: str
    name: str
    team: Team | None = None
    isGroup: bool = False
    color: str = "#5e6ad2"
    archivedAt: str | None = None
    createdAt: str = field(default_factory=_now)


@dataclass(eq=False)
class Project:
    id: str
    name: str
    slugId: str
    accessibleTeams: list[Team]
    url: str = ""
    archivedAt: str | None = None

    @property
    def teams(self) -> list[Team]:
        return self.accessibleTeams


@dataclass(eq=False)
class Issue:
    id: str
    identifier: str
    number: float
    title: str
    description: str | None
    priority: float
    team: Team
    state: WorkflowState
    url: str
    labels: list[IssueLabel] = field(default_factory=list)
    project: Project | None = None
    archivedAt: str | None = None
    createdAt: str = field(default_factory=_now)
    updatedAt: str = field(default_factory=_now)


NODES = (Organization, User, Team, WorkflowState, IssueLabel, Project, Issue)


class LinearFault(Exception):
    """An error Linear itself would answer, shaped like its GraphQL errors."""

    def __init__(self, message: str, presentable: str, *, kind: str = "invalid input", code: str = "INPUT_ERROR",
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.presentable, self.kind, self.code, self.status = message, presentable, kind, code, status

    def as_error(self) -> dict[str, Any]:
        extensions: dict[str, Any] = {"type": self.kind, "code": self.code, "userError": True,
                                      "userPresentableMessage": self.presentable}
        if self.status:
            extensions["statusCode"] = self.status
        return {"message": self.message, "extensions": extensions}


class FakeGap(Exception):
    """The fake does not implement what a request asked for (refused loudly, never ignored)."""


@dataclass
class _Trap:
    """A rate limit or a lost answer waiting for the next (matching) operation."""

    times: int
    operation: str | None
    options: dict[str, Any]

    def take(self, operation: str | None) -> bool:
        if self.times <= 0 or (self.operation is not None and self.operation != operation):
            return False
        self.times -= 1
        return True


class FakeLinear(FakeAPI):
    """Linear's GraphQL API in memory, checked and executed against the official schema."""

    service = "Linear"

    def __init__(self, *, contract: bool = True, workspace: str = "Acme", url_key: str = "acme") -> None:
        super().__init__(LinearContract() if contract else None)
        self.schema = linear_schema()
        self.organization = Organization(self._id(), workspace, url_key)
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.labels: dict[str, IssueLabel] = {}
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}
        self._keys: dict[str, str] = {}  # the Authorization header's exact value → user id
        self._throttles: list[_Trap] = []
        self._lost: list[_Trap] = []
        self.auth_status = 400  # the HTTP status of an authentication error (Linear answers 400; some proxies 401)
        self.labels_forbidden = False
        self.remaining = BUDGET
        self.viewer = self.add_user("Lin Ops", "lin@acme.example")
        self.issue_key(self.viewer, API_KEY)
        self.issue_key(self.viewer, OAUTH_TOKEN, oauth=True)
        self.route("POST", r"(/.*)?/graphql", self._graphql)

    # -- the workspace -----------------------------------------------------------------------
    @staticmethod
    def _id() -> str:
        return str(uuid.uuid4())

    def add_user(self, name: str, email: str, *, active: bool = True) -> str:
        """A workspace member."""
        user = User(self._id(), name, email, displayName=name.split()[0].lower(), active=active)
        self.users[user.id] = user
        return user.id

    def issue_key(self, user_id: str, key: str, *, oauth: bool = False) -> None:
        """Accept a personal API key (sent bare in Authorization) or an OAuth token (sent as Bearer)."""
        self._keys[f"Bearer {key}" if oauth else key] = user_id

    def revoke(self) -> None:
        """Every key and token is revoked."""
        self._keys.clear()

    def add_team(self, key: str, name: str, *, private: bool = False, member: bool = True) -> str:
        """A team with Linear's default workflow states; a private team the viewer is not in is invisible."""
        team = Team(self._id(), key, name, private=private, member=member)
        team.states = [WorkflowState(self._id(), n, t, team, position=i) for i, (n, t) in enumerate(STATES)]
        self.teams[team.id] = team
        return team.id

    def team_by_key(self, key: str) -> Team:
        """The team with this key."""
        return next(t for t in self.teams.values() if t.key == key)

    def add_label(self, name: str, team_id: str | None = None, *, group: bool = False) -> str:
        """A workspace label (no team) or a team's label; ``group`` makes it a label group."""
        label = IssueLabel(self._id(), name, self.teams[team_id] if team_id else None, isGroup=group)
        self.labels[label.id] = label
        return label.id

    def add_project(self, name: str, *, teams: Iterable[str]) -> str:
        """A project the given teams belong to."""
        slug = uuid.uuid4().hex[:12]
        project = Project(self._id(), name, slug, [self.teams[t] for t in teams],
                          url=f"https://linear.app/{self.organization.urlKey}/project/"
                              f"{_slug(name)}-{slug}")
        self.projects[project.id] = project
        return project.id

    def add_issue(self, team_id: str, title: str, description: str, *, state: str = "unstarted",
                  priority: int = 0) -> str:
        """An issue in ``team_id`` whose workflow state has type ``state``."""
        team = self.teams[team_id]
        return self._file(team, title, description, self._state(team, state), priority, [], None).id

    def move(self, issue_id: str, state: str) -> None:
        """Move an issue to its team's first workflow state of type ``state`` (completed, canceled…)."""
        issue = self.issues[issue_id]
        issue.state = self._state(issue.team, state)
        issue.updatedAt = _now()

    def issue(self, identifier: str) -> Issue:
        """The issue with this identifier (ENG-1)."""
        return next(i for i in self.issues.values() if i.identifier == identifier)

    def _state(self, team: Team, kind: str) -> WorkflowState:
        return next(s for s in team.states if s.type == kind)

    def _visible(self, team: Team | None) -> bool:
        return team is None or not team.private or team.member

    def _file(self, team: Team, title: str, description: str | None, state: WorkflowState, priority: int,
              labels: list[IssueLabel], project: Project | None) -> Issue:
        number = team.next_number
        team.next_number += 1
        identifier = f"{team.key}-{number}"
        issue = Issue(self._id(), identifier, float(number), title, description, float(priority), team, state,
                      f"https://linear.app/{self.organization.urlKey}/issue/{identifier}/{_slug(title)}",
                      labels=labels, project=project)
        self.issues[issue.id] = issue
        return issue

    # -- faults ------------------------------------------------------------------------------
    def rate_limit(self, *, times: int = 1, reset_in: float = 0.0, status: int = 400, budget: str = "requests",
                   operation: str | None = None, retry_after: float | None = None) -> None:
        """The next ``times`` (matching) operations are RATELIMITED; ``budget`` (requests, complexity or
        endpoint-requests) is exhausted and resets in ``reset_in`` seconds."""
        options = {"reset_in": reset_in, "status": status, "budget": budget, "retry_after": retry_after}
        self._throttles.append(_Trap(times, operation, options))

    def lose_answer(self, *, times: int = 1, operation: str | None = None) -> None:
        """The next ``times`` (matching) operations are executed, but their answers never arrive (a timeout)."""
        self._lost.append(_Trap(times, operation, {}))

    def operations(self) -> list[str]:
        """The operation names received, in order."""
        names = []
        for request in self.requests:
            try:
                names.append(_operation_name(json.loads(request.content)) or "?")
            except (ValueError, TypeError):
                names.append("?")
        return names

    # -- answering ---------------------------------------------------------------------------
    def _headers(self, exhausted: str | None = None, reset_in: float = 3600.0) -> dict[str, str]:
        self.remaining = max(0, self.remaining - 1)
        reset = str(int((time.time() + 3600) * 1000))
        headers = {"X-RateLimit-Requests-Limit": str(BUDGET), "X-RateLimit-Requests-Remaining": str(self.remaining),
                   "X-RateLimit-Requests-Reset": reset, "X-Complexity": "3",
                   "X-RateLimit-Complexity-Limit": "250000", "X-RateLimit-Complexity-Remaining": "249000",
                   "X-RateLimit-Complexity-Reset": reset}
        if exhausted is not None:
            name = f"X-RateLimit-{'-'.join(p.capitalize() for p in exhausted.split('-'))}"
            headers[f"{name}-Remaining"] = "0"
            headers[f"{name}-Reset"] = str(int((time.time() + reset_in) * 1000))
        return headers

    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Linear's error shape for injected faults and contract violations."""
        if isinstance(body, dict) and "errors" in body:
            return json_response(status, body, headers)
        said = body.get("error") if isinstance(body, dict) else None
        if status == 404:  # no GraphQL endpoint at this address: what an ordinary web server says
            return httpx.Response(404, content=b"Cannot POST", headers={"content-type": "text/plain", **headers})
        if status == 400:
            fault = LinearFault(said or "Bad request", said or "Bad request", kind="graphql error",
                                code="GRAPHQL_VALIDATION_FAILED")
        elif status == 429:
            fault = LinearFault("Rate limit exceeded", "Too many requests.", kind="ratelimited", code="RATELIMITED",
                                status=429)
        elif status in (401, 403):
            fault = LinearFault("Authentication required, not authenticated", "You need to authenticate.",
                                kind="authentication error", code="AUTHENTICATION_ERROR", status=status)
        else:
            fault = LinearFault(said or "Internal server error", "Something went wrong.", kind="internal error",
                                code="INTERNAL_SERVER_ERROR", status=status)
        return json_response(status, {"errors": [fault.as_error()]}, {**self._headers(), **headers})

    def _graphql(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        operation = _operation_name(body)
        user = self._keys.get(request.headers.get("authorization", ""))
        if user is None:
            fault = LinearFault("Authentication required, not authenticated",
                                "You need to authenticate to access this operation.", kind="authentication error",
                                code="AUTHENTICATION_ERROR", status=401)
            return json_response(self.auth_status, {"errors": [fault.as_error()]}, self._headers())
        for trap in self._throttles:
            if trap.take(operation):
                return self._throttled(**trap.options)
        answer, status = self._execute(body, user)
        for trap in self._lost:
            if trap.take(operation):
                raise httpx.ReadTimeout("fake Linear: the answer was lost", request=request)
        return json_response(status, answer, self._headers())

    def _throttled(self, *, reset_in: float, status: int, budget: str, retry_after: float | None
                   ) -> httpx.Response:
        fault = LinearFault(f"Rate limit exceeded: the {budget} budget is spent",
                            "You have exceeded the API rate limit. Try again later.", kind="ratelimited",
                            code="RATELIMITED", status=429)
        headers = self._headers(exhausted=budget, reset_in=reset_in)
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return json_response(status, {"errors": [fault.as_error()]}, headers)

    def _execute(self, body: Mapping[str, Any], user: str) -> tuple[dict[str, Any], int]:
        document = graphql.parse(body["query"])
        if self.contract is None:
            problems = graphql.validate(self.schema, document, RULES)
            if problems:
                return {"errors": [{"message": p.message, "extensions": {"type": "graphql error",
                                                                         "code": "GRAPHQL_VALIDATION_FAILED"}}
                                   for p in problems]}, 400
        result = graphql.execute(self.schema, document, root_value=_Root(self, self.users[user]),
                                 variable_values=body.get("variables") or {},
                                 operation_name=body.get("operationName"), field_resolver=self._resolve)
        assert isinstance(result, graphql.ExecutionResult)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [self._error(e) for e in result.errors]
        return answer, 200 if result.data is not None else 400

    def _error(self, error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        if isinstance(original, LinearFault):
            shaped = original.as_error()
        else:
            self.unknown.append(f"{type(original).__name__}: {error.message}")  # a gap or a bug in the fake
            shaped = {"message": error.message, "extensions": {"type": "internal error",
                                                               "code": "INTERNAL_SERVER_ERROR"}}
        if error.path:
            shaped["path"] = list(error.path)
        return shaped

    def _resolve(self, source: Any, info: graphql.GraphQLResolveInfo, **args: Any) -> Any:
        value = source.get(info.field_name) if isinstance(source, Mapping) else getattr(source, info.field_name, None)
        if callable(value):
            value = value(info, **args)
        if get_named_type(info.return_type).name.endswith("Connection") and isinstance(value, list):
            return _page(value, args)
        return value

    # -- mutations ---------------------------------------------------------------------------
    def create_issue(self, user: User, data: Mapping[str, Any]) -> dict[str, Any]:
        """issueCreate: validates the team, labels, project and priority as Linear does."""
        _supported(data, {"teamId", "title", "description", "priority", "labelIds", "projectId", "stateId"})
        team = self.teams.get(data["teamId"])
        if team is None or not self._visible(team):
            raise LinearFault("Entity not found: Team", "Could not find referenced Team.")
        title = (data.get("title") or "").strip()
        if not title:
            raise LinearFault("Argument Validation Error", "Title is required.")
        priority = data.get("priority") or 0
        if not 0 <= priority <= 4:
            raise LinearFault("Argument Validation Error", "Priority must be between 0 and 4.")
        labels = []
        for label_id in data.get("labelIds") or ():
            label = self.labels.get(label_id)
            if label is None:
                raise LinearFault("Entity not found: IssueLabel", "Could not find referenced IssueLabel.")
            if label.team is not None and label.team is not team:
                raise LinearFault("Argument Validation Error", f"Label {label.name} belongs to another team.")
            if label.isGroup:
                raise LinearFault("Argument Validation Error", f"Label group {label.name} cannot be assigned.")
            labels.append(label)
        project = None
        if data.get("projectId"):
            project = self.projects.get(data["projectId"])
            if project is None:
                raise LinearFault("Entity not found: Project", "Could not find referenced Project.")
            if team not in project.accessibleTeams:
                raise LinearFault("Argument Validation Error", f"Team {team.key} is not part of project "
                                                               f"{project.name}.")
        state = self._state(team, "unstarted")
        if data.get("stateId"):
            state = next((s for s in team.states if s.id == data["stateId"]), None) or _missing("WorkflowState")
        issue = self._file(team, title, data.get("description"), state, int(priority), labels, project)
        return {"success": True, "issue": issue, "lastSyncId": float(len(self.requests))}

    def create_label(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """issueLabelCreate: a team label (or a workspace label without ``teamId``); names are unique per scope."""
        _supported(data, {"name", "teamId", "color", "description"})
        if self.labels_forbidden:
            raise LinearFault("Forbidden", "You don't have permission to create labels.", kind="forbidden",
                              code="FORBIDDEN", status=403)
        team = self.teams.get(data["teamId"]) if data.get("teamId") else None
        if data.get("teamId") and team is None:
            _missing("Team")
        name = str(data.get("name") or "").strip()
        if not name:
            raise LinearFault("Argument Validation Error", "Name is required.")
        if any(label.name.lower() == name.lower() and label.team is team for label in self.labels.values()):
            raise LinearFault("Argument Validation Error", f"A label named {name} already exists.")
        label = IssueLabel(self._id(), name, team)
        self.labels[label.id] = label
        return {"success": True, "issueLabel": label, "lastSyncId": float(len(self.requests))}


class _Root:
    """Query and Mutation fields; lists returned for connections are filtered and paged by the resolver."""

    def __init__(self, fake: FakeLinear, user: User) -> None:
        self.fake, self.user = fake, user

    def viewer(self, info: Any) -> User:
        return self.user

    def organization(self, info: Any) -> Organization:
        return self.fake.organization

    def teams(self, info: Any, **_: Any) -> list[Team]:
        return [t for t in self.fake.teams.values() if self.fake._visible(t)]

    def team(self, info: Any, id: str) -> Team:
        team = self.fake.teams.get(id)
        return team if team is not None and self.fake._visible(team) else _missing("Team")

    def issues(self, info: Any, **_: Any) -> list[Issue]:
        return [i for i in self.fake.issues.values() if self.fake._visible(i.team)]

    def issueLabels(self, info: Any, **_: Any) -> list[IssueLabel]:
        return [label for label in self.fake.labels.values() if self.fake._visible(label.team)]

    def projects(self, info: Any, **_: Any) -> list[Project]:
        return list(self.fake.projects.values())

    def issueCreate(self, info: Any, input: Mapping[str, Any]) -> dict[str, Any]:
        return self.fake.create_issue(self.user, input)

    def issueLabelCreate(self, info: Any, input: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        return self.fake.create_label(input)


# -- filters and pages ---------------------------------------------------------------------------
def _missing(entity: str) -> Any:
    raise LinearFault(f"Entity not found: {entity}", f"Could not find referenced {entity}.")


def _supported(data: Mapping[str, Any], known: set[str]) -> None:
    if set(data) - known:
        raise FakeGap(f"the fake does not implement input fields {sorted(set(data) - known)}")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "issue"


def _operation_name(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("operationName"):
        return str(body["operationName"])
    found = re.search(r"\b(?:query|mutation)\s+([A-Za-z_]\w*)", str(body.get("query") or ""))
    return found.group(1) if found else None


def _page(items: list[Any], args: Mapping[str, Any]) -> dict[str, Any]:
    if not args.get("includeArchived"):
        items = [i for i in items if not getattr(i, "archivedAt", None)]
    if args.get("filter"):
        items = [i for i in items if matches(i, args["filter"])]
    start = int(args["after"]) + 1 if args.get("after") else 0
    first = args.get("first") or 50
    if first > 250:
        raise LinearFault("Argument Validation Error", "first must not be greater than 250.")
    page = items[start:start + first]
    return {"nodes": page, "edges": [{"node": n, "cursor": str(start + i)} for i, n in enumerate(page)],
            "pageInfo": {"hasNextPage": start + first < len(items), "hasPreviousPage": start > 0,
                         "startCursor": str(start) if page else None,
                         "endCursor": str(start + len(page) - 1) if page else None}}


def matches(node: Any, where: Mapping[str, Any]) -> bool:
    """Whether ``node`` satisfies a Linear filter (``and``, ``or``, comparators, relations, collections)."""
    for key, condition in where.items():
        if condition is None:
            continue
        if key == "and":
            ok = all(matches(node, part) for part in condition)
        elif key == "or":
            ok = any(matches(node, part) for part in condition)
        else:
            if not hasattr(node, key):
                raise FakeGap(f"the fake cannot filter {type(node).__name__} on {key!r}")
            value = getattr(node, key)
            if isinstance(value, list):
                ok = _collection(value, condition)
            elif isinstance(value, NODES) or (value is None and set(condition) - COMPARATORS):
                ok = _relation(value, condition)
            else:
                ok = _compare(value, condition)
        if not ok:
            return False
    return True


def _relation(value: Any, condition: Mapping[str, Any]) -> bool:
    if "null" in condition and condition["null"] is not None and (value is None) != condition["null"]:
        return False
    rest = {k: v for k, v in condition.items() if k != "null"}
    return not rest or (value is not None and matches(value, rest))


def _collection(values: list[Any], condition: Mapping[str, Any]) -> bool:
    for key, part in condition.items():
        if key == "some":
            ok = any(matches(v, part) for v in values)
        elif key == "every":
            ok = all(matches(v, part) for v in values)
        elif key == "length":
            ok = _compare(len(values), part)
        else:
            raise FakeGap(f"the fake cannot filter a collection with {key!r}")
        if not ok:
            return False
    return True


def _compare(value: Any, ops: Mapping[str, Any]) -> bool:
    for op, arg in ops.items():
        if arg is None:
            continue
        if op not in COMPARATORS:
            raise FakeGap(f"the fake does not implement the comparator {op!r}")
        if op == "null":
            ok = (value is None) == arg
        elif value is None:
            ok = op.startswith(("neq", "nin", "not"))
        else:
            ok = _apply(op, value, arg)
        if not ok:
            return False
    return True


def _apply(op: str, value: Any, arg: Any) -> bool:
    text, wanted = str(value), arg
    if op.endswith("IgnoreCase"):
        text, op = text.lower(), op.removesuffix("IgnoreCase")
        wanted = [str(a).lower() for a in arg] if isinstance(arg, list) else str(arg).lower()
    checks = {
        "eq": lambda: (text if isinstance(wanted, str) else value) == wanted,
        "neq": lambda: (text if isinstance(wanted, str) else value) != wanted,
        "in": lambda: value in wanted, "nin": lambda: value not in wanted,
        "contains": lambda: wanted in text, "notContains": lambda: wanted not in text,
        "startsWith": lambda: text.startswith(wanted), "notStartsWith": lambda: not text.startswith(wanted),
        "endsWith": lambda: text.endswith(wanted), "notEndsWith": lambda: not text.endswith(wanted),
        "lt": lambda: value < arg, "lte": lambda: value <= arg, "gt": lambda: value > arg, "gte": lambda: value >= arg,
    }
    return bool(checks[op]())

