"""interview-practice: the Streamlit entry point. UI only; the work is done in the `practice` package."""

from __future__ import annotations

import streamlit as st

from practice.markdown import escape_markdown
from practice.offline import keep_hub_offline
from practice.storage import StorageError

keep_hub_offline()
st.set_page_config(page_title="Interview practice", page_icon="🎙️", layout="wide")
page = st.navigation(
    [
        st.Page("views/practice.py", title="Practice", icon="🎙️", default=True),
        st.Page("views/review.py", title="Review", icon="📝"),
        st.Page("views/progress.py", title="Progress", icon="📈"),
        st.Page("views/questions.py", title="Questions", icon="✏️"),
    ]
)
try:
    page.run()
except StorageError as exc:  # e.g. a damaged database file: one sentence, no traceback or server path
    st.error(escape_markdown(exc.public))
