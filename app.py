"""interview-practice: the Streamlit entry point. UI only; the work is done in the `practice` package."""

from __future__ import annotations

import sys

import streamlit as st

st.set_page_config(page_title="Interview practice", page_icon="🎙️", layout="wide")
# The first run in a server imports the storage and page modules (about a second): say so on screen
# meanwhile rather than show a blank page.
opening = st.empty()
if "views.login" not in sys.modules:
    opening.caption("Opening the practice room…")

from practice.markdown import escape_markdown  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.storage import StorageError  # noqa: E402
from views import login  # noqa: E402

keep_hub_offline()
opening.empty()
PAGES = {
    "practice": st.Page("views/practice.py", title="Practice", icon="🎙️", default=True),
    "quickfire": st.Page("views/quickfire.py", title="Quick-fire", icon="⚡", url_path="quick-fire"),
    "review": st.Page("views/review.py", title="Review", icon="📝"),
    "progress": st.Page("views/progress.py", title="Progress", icon="📈"),
    "questions": st.Page("views/questions.py", title="Questions", icon="✏️"),
    "account": st.Page("views/account.py", title="My data", icon="🗂️"),
    "users": st.Page("views/users.py", title="Users", icon="👥"),
}
try:
    user = login.gate()  # with logins off, the local admin; with logins on, None until someone logs in
    if user is None:  # the login form at every page's address, so a link to one opens it after logging in
        forms = [st.Page(login.render_login, title="Log in", icon="🔑", url_path=name) for name in PAGES]
        page = st.navigation(
            [st.Page(login.render_login, title="Log in", icon="🔑"), *forms], position="hidden"
        )
    else:
        page = st.navigation([PAGES[name] for name in login.pages(user)])
        if login.logins_on():
            login.render_logout(user)
    page.run()
except StorageError as exc:  # e.g. a damaged database file: one sentence, no traceback or server path
    st.error(escape_markdown(exc.public))
