"""My data: a candidate downloads everything stored about them, or deletes all of it and is logged out."""

from __future__ import annotations

from functools import partial

import streamlit as st

from practice.markdown import escape_markdown
from practice.storage import NotFoundError, StorageError, User, access
from views import login, widgets

user = login.current_user()
store = widgets.store()
st.title("My data")
if not access.can_export(user, user.name):
    st.info("This page is for candidates: it holds what is stored about the person logged in.")
    st.stop()

st.markdown(
    "Everything stored about you, as one zip: every attempt (question, answer, transcript, scores, "
    "delivery, your coach's notes and overrides), your sessions and account, and each recording."
)
st.download_button(  # made when clicked, not on every run
    "Download everything",
    partial(store.export_candidate, user.name),
    "my-practice-data.zip",
    "application/zip",
    key="mydata-download",
    on_click="ignore",
)


def same_name(typed: str, name: str) -> bool:
    """Typed as the name is matched everywhere: any case, spaces trimmed."""
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold()


def delete_everything(user: User) -> None:
    """The delete button's callback: everything goes in one transaction, then this browser is logged out."""
    state = st.session_state
    if not login.still_logged_in():
        return
    if not same_name(str(state.get("mydata-delete-confirm") or ""), user.name):
        state["mydata-error"] = "Type your name exactly as shown to confirm: nothing was deleted."
        return
    try:
        store.delete_candidate(user.name)  # the account and its logins go with it
    except NotFoundError:
        pass  # deleted meanwhile (by an admin): logged out all the same
    except StorageError as exc:
        state["mydata-error"] = f"{widgets.error_text(exc)} Nothing was deleted."
        return
    login.forget("Everything stored about you was deleted, and you are logged out.")


st.subheader("Delete everything")
st.warning(
    "This deletes your account, every attempt and recording, your coach's notes and your sessions. "
    "It cannot be undone: download them first if you want to keep them."
)
st.text_input(f"Type your name ({escape_markdown(user.name)}) to confirm", key="mydata-delete-confirm")
st.button("Delete everything about me", key="mydata-delete", on_click=delete_everything, args=(user,))
if error := st.session_state.pop("mydata-error", None):
    st.error(escape_markdown(error))
