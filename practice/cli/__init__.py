"""The `practice` command: a thin click layer over the package. Errors become one line and exit status 2.

- `common`: what the groups share (`UserError`, the --bank and model options, loading the bank).
- `bank`: `practice bank check` and `bank list`.
- `answers`: `practice score`, `transcribe` and `grade` (a sheet of answers, practice.grading).
- `speech`: `practice speak` and `voices`.
- `report`: `practice report`, a candidate's PDF.
- `users`: `practice users ...` (accounts for a shared server), `export-candidate`, `delete-candidate`.
"""

from __future__ import annotations

import click

from practice.cli import answers, bank, report, speech, users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interview-practice")
def main() -> None:
    """Rehearse ML and AI interview questions out loud, offline."""


for command in (
    bank.bank,
    answers.score,
    answers.transcribe,
    answers.grade,
    speech.speak,
    speech.voices,
    report.report_command,
    users.users,
    users.export_candidate,
    users.delete_candidate,
):
    main.add_command(command)
