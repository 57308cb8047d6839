"""The embedded default's SQLite files opened by several processes at once (`frontline worker`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_ALL = """
import sys
from pathlib import Path
from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.kb import LocalKnowledgeBase
from frontline.connectors.local.tracker import LocalTracker
folder = Path(sys.argv[1])
LocalKnowledgeBase(folder / "kb.db")
LocalHelpdesk(folder / "helpdesk.db")
LocalConversations(folder / "conversations.db")
LocalTracker(folder / "tracker.db")
"""


def test_processes_creating_the_embedded_files_together_each_apply_the_schema_once(tmp_path: Path) -> None:
    for attempt in range(2):  # the race is in the first moments of a new file: a few fresh folders
        folder = tmp_path / str(attempt)
        folder.mkdir()
        processes = [subprocess.Popen([sys.executable, "-c", OPEN_ALL, str(folder)], stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
        errors = [p.communicate(timeout=120)[1] for p in processes]
        assert [p.returncode for p in processes] == [0] * 4, errors
