"""The whole real stack on one machine: fake Zendesk, Notion and Slack, seeded with demo data.

Tests build it in memory; a user can serve it over loopback to try `frontline run triage
--helpdesk zendesk --kb notion --chat slack` end to end without any account:

    .venv/bin/python -m tests.fakes.stack            # prints the environment to export, Ctrl+C stops

Each fake checks every request against its vendor's official spec, so what works here sends the
same requests the real services accept.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from frontline.connectors.local.kb import parse_markdown
from frontline.demo.generator import generate_tickets
from tests.fakes.base import FakeAPI, serve
from tests.fakes.notion import GOOD_TOKEN, FakeNotion
from tests.fakes.slack import SlackFake
from tests.fakes.zendesk import ADMIN_EMAIL, ADMIN_TOKEN, HOST, FakeZendesk

DEMO_KB = Path(__file__).resolve().parents[2] / "src" / "frontline" / "demo" / "kb"
CHANNELS = ("engineering", "billing", "product-feedback", "support-triage")
SLACK_TOKEN = "xoxb-stack"


@dataclass
class Stack:
    """The three fakes and the database id of the help centre."""

    zendesk: FakeZendesk
    notion: FakeNotion
    slack: SlackFake
    database_id: str

    @property
    def fakes(self) -> tuple[FakeAPI, ...]:
        """All three, for assertions over every vendor."""
        return self.zendesk, self.notion, self.slack

    def transport(self) -> httpx.MockTransport:
        """One transport answering Zendesk's and Notion's hosts (Slack runs on aiohttp: serve it)."""
        by_host: dict[str, FakeAPI] = {HOST: self.zendesk, "api.notion.com": self.notion}

        def handle(request: httpx.Request) -> httpx.Response:
            fake = by_host.get(request.url.host)
            if fake is None:
                return httpx.Response(599, text=f"the stack has no service at {request.url.host}")
            return fake.handle(request)

        return httpx.MockTransport(handle)

    def environment(self, *, zendesk: str | None = None, notion: str | None = None, slack: str | None = None
                    ) -> dict[str, str]:
        """The variables that point frontline at the stack (base URLs for loopback serving)."""
        env = {"ZENDESK_SUBDOMAIN": HOST.split(".")[0], "ZENDESK_EMAIL": ADMIN_EMAIL,
               "ZENDESK_API_TOKEN": ADMIN_TOKEN, "NOTION_TOKEN": GOOD_TOKEN, "NOTION_DB_ID": self.database_id,
               "SLACK_BOT_TOKEN": SLACK_TOKEN}
        for name, value in (("ZENDESK_BASE_URL", zendesk), ("NOTION_BASE_URL", notion), ("SLACK_BASE_URL", slack)):
            if value:
                env[name] = value
        return env


def build_stack(tickets: int = 25, *, seed: int = 7, zendesk_host: str | None = HOST) -> Stack:
    """Fakes holding ``tickets`` generated requests, the demo help centre and the routing channels."""
    zendesk = FakeZendesk(host=zendesk_host)
    organizations: dict[str, int] = {}
    users: dict[str, int] = {}
    for record in generate_tickets(tickets, seed=seed):
        company = str(record["company"])
        if company not in organizations:
            organizations[company] = zendesk.add_organization(company, plan=record["plan"], mrr=record["mrr"])
        email = str(record["requester_email"])
        if email not in users:
            users[email] = zendesk.add_user(str(record["requester_name"]), email,
                                            organization_id=organizations[company])
        tags: Any = record.get("tags") or ()
        ticket = zendesk.add_ticket(str(record["subject"]), str(record["description"]), requester_id=users[email],
                                    status=str(record["status"]), tags=tuple(tags))
        # Each ticket keeps the moment its customer wrote (two weeks of them), not the moment the fake was filled:
        # hundreds of similar tickets written in one second would rightly be an incident.
        zendesk.tickets[ticket]["created_at"] = record["created_at"]
    notion = FakeNotion()
    database = notion.add_database("Help Centre")
    for path in sorted(DEMO_KB.glob("*.md")):
        title, _url, body = parse_markdown(path, path.read_text(encoding="utf-8"))
        paragraphs = [body[i:i + 600] for i in range(0, min(len(body), 1800), 600)]
        notion.add_page(title, *paragraphs, database=database)
    slack = SlackFake(token=SLACK_TOKEN)
    for name in CHANNELS:
        slack.add_channel(name)
    return Stack(zendesk, notion, slack, database.id)


@contextlib.contextmanager
def serve_stack(stack: Stack) -> Iterator[dict[str, str]]:
    """Serve the three fakes on loopback ports; yields the environment pointing frontline at them."""
    with serve(stack.zendesk) as zendesk, serve(stack.notion) as notion, serve(stack.slack) as slack:
        yield stack.environment(zendesk=zendesk, notion=notion, slack=f"{slack}/api")


def main() -> None:
    """Serve a seeded stack until Ctrl+C and print how to point frontline at it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=25, help="generated tickets in the fake Zendesk")
    args = parser.parse_args()
    stack = build_stack(args.tickets, zendesk_host=None)
    with serve_stack(stack) as env:
        print("Fake Zendesk, Notion and Slack are listening. In another shell:\n")
        for name, value in env.items():
            print(f"  export {name}={value}")
        print("  export FRONTLINE_WORKSPACE=.frontline-stack\n")
        print("  frontline doctor --helpdesk zendesk --kb notion --chat slack")
        print("  frontline run triage --helpdesk zendesk --kb notion --chat slack\n")
        print("Ctrl+C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            posted = len(stack.slack.all_posted())
            notes = sum(len(stack.zendesk.private_notes(t)) for t in stack.zendesk.tickets)
            print(f"\nStopped: {posted} Slack alerts and {notes} Zendesk private notes were written.")


if __name__ == "__main__":
    main()
