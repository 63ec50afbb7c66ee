"""Progress per candidate: averages by level and topic, coverage over time, weak questions, next level."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from practice import progress, sessions
from practice.bank import LEVELS
from practice.markdown import escape_markdown
from practice.report import progress_report
from practice.scoring import structure
from practice.storage import access, export_stem
from views import login, widgets

bank, store = widgets.open_bank_and_store()
user = login.current_user()
st.title("Progress")

names = [c.name for c in access.visible_candidates(store, user)]
if not names:
    st.info("No attempts yet: practise a few questions first.")
    st.stop()
wanted = st.session_state.get("candidate")
candidate = st.selectbox("Candidate", names, index=names.index(wanted) if wanted in names else 0)
attempts = progress.scored(access.visible_attempts(store, user, candidate=candidate))
if not attempts:
    st.info("No scored attempts yet for this candidate.")
    st.stop()

top = st.columns(3)
top[0].metric("Attempts", len(attempts))
top[1].metric("Questions", len({a.question_id for a in attempts}))
top[2].metric("Average coverage", f"{sum(a.effective_coverage for a in attempts) / len(attempts):.0f}")
st.download_button(  # the PDF is made when clicked, not on every rerun
    "Download PDF",
    partial(progress_report, candidate, attempts),
    f"{export_stem(attempts)}-progress.pdf",
    "application/pdf",
    key="progress-pdf",
    on_click="ignore",
)

advice = progress.level_up(attempts)
level, next_level = escape_markdown(advice.level), escape_markdown(advice.next_level or "")
if advice.ready and advice.next_level:
    st.success(f"You have mastered **{level}**: move up to **{next_level}**.")
else:
    st.info(f"Current level: **{level}**." + ("" if advice.next_level else " This is the top level."))
with st.expander("The rule for moving up"):
    st.markdown(advice.rule)
    for check in advice.checks:
        st.markdown(f"{'✅' if check.met else '⬜'} {escape_markdown(check.text)}")

left, right = st.columns(2)
for column, title, groups in (
    (left, "By level", progress.by_level(attempts)),
    (right, "By topic", progress.by_topic(attempts)),
):
    column.markdown(f"#### {title}")
    column.dataframe(
        pd.DataFrame(
            [
                {
                    "": g.name,
                    "attempts": g.attempts,
                    "questions": g.questions,
                    "average": round(g.average_coverage),
                }
                for g in groups
            ]
        ),
        hide_index=True,
        width="stretch",
    )

st.markdown("#### Coverage over time")
series = pd.DataFrame(
    [
        {"when": p.at, "coverage": p.coverage, "question": p.question_id, "level": p.level}
        for p in progress.coverage_series(attempts)
    ]
)
st.altair_chart(
    alt.Chart(series)
    .mark_line(point=True)
    .encode(
        x=alt.X("when:T", title=None),
        y=alt.Y("coverage:Q", scale=alt.Scale(domain=[0, 100]), title="Coverage"),
        color=alt.Color("level:N", sort=list(LEVELS), title="Level"),
        tooltip=["when:T", "question:N", "coverage:Q", "level:N"],
    )
    .properties(height=260),
    width="stretch",
)

reports = [a.score.structure for a in attempts if a.score is not None and a.score.structure is not None]
if most := structure.most_missing(reports):  # behavioural answers only
    part, missing, read = most
    st.markdown("#### Answer structure")
    st.markdown(
        f"**{structure.TITLES[part]}** is the part your behavioural answers most often leave out: missing "
        f"from {missing} of {read}. {structure.ADVICE[part]}"
    )

st.markdown("#### Weakest questions")
now = datetime.now().astimezone()  # "comes back on" in this computer's time zone
weakest = progress.weakest_questions(attempts)
if not weakest:
    st.caption("None: every question answered is mastered.")
for s in weakest:
    st.markdown(
        f"**{escape_markdown(s.question or s.question_id)}**  \n"
        f"{escape_markdown(s.level)} · last coverage {s.last_coverage:.0f} · "
        f"{s.missed_last} key point(s) missed · {s.attempts} attempt(s) · {progress.comes_back(s, now)}"
    )
st.caption(escape_markdown(progress.REVIEW_RULE))
due = sessions.weak_questions(bank, attempts, count=None) if login.may_practise(user) else []
if due and st.button(f"Practise my {len(due)} weak question(s) due now", type="primary", key="practise-weak"):
    st.session_state.update(candidate=candidate, plan=sessions.start(store, candidate, due))
    st.switch_page("views/practice.py")
