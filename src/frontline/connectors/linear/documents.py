"""Every GraphQL document the Linear tracker sends, in one place.

Each is a named operation checked in the tests against Linear's official schema
(``shared/specs/linear/schema.graphql``), deprecated fields included. Filters are written into the
document where their shape is fixed, so the schema checks their field names too; only values travel
as variables.
"""

from __future__ import annotations

TEAMS = """
query FrontlineTeams($filter: TeamFilter, $first: Int) {
  teams(filter: $filter, first: $first) { nodes { id key name } }
}
"""

DIAGNOSE = """
query FrontlineDiagnose($filter: TeamFilter) {
  viewer { id name email active }
  organization { name urlKey }
  teams(filter: $filter, first: 50) { nodes { id key name } }
}
"""

LABELS = """
query FrontlineLabels($filter: IssueLabelFilter!) {
  issueLabels(filter: $filter, first: 100) { nodes { id name isGroup team { id } } }
}
"""

CREATE_LABEL = """
mutation FrontlineCreateLabel($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id name } }
}
"""

PROJECTS = """
query FrontlineProjects($filter: ProjectFilter!) {
  projects(filter: $filter, first: 10) { nodes { id name slugId } }
}
"""

CREATE_ISSUE = """
mutation FrontlineCreateIssue($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}
"""

# Open means any workflow state but the closed types: "completed" and "canceled" (duplicates are canceled).
FIND_ISSUE = """
query FrontlineFindIssue($marker: String!) {
  issues(
    first: 1
    filter: { description: { contains: $marker }, state: { type: { nin: ["completed", "canceled"] } } }
  ) {
    nodes { id identifier url }
  }
}
"""

ALL = {"TEAMS": TEAMS, "DIAGNOSE": DIAGNOSE, "LABELS": LABELS, "CREATE_LABEL": CREATE_LABEL, "PROJECTS": PROJECTS,
       "CREATE_ISSUE": CREATE_ISSUE, "FIND_ISSUE": FIND_ISSUE}
