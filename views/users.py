"""Users (admin): who has an account and which role, adding one, assigning coaches, deleting a candidate.

The same methods as `practice users ...` (practice.storage.accounts); every change runs in a callback
and says what it did, or why not, in one sentence.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from practice.markdown import escape_markdown
from practice.storage import NotFoundError, Role, StorageError, User, access
from practice.storage.accounts import ROLES
from views import login, widgets

user = login.current_user()
store = widgets.store()
accounts = login.accounts()
state = st.session_state
st.title("Users")
if user.role is not Role.ADMIN:
    st.info(access.NO_ACCESS)
    st.stop()


def done(message: str) -> None:
    state["users-done"] = message


def failed(exc: Exception) -> None:
    state["users-error"] = widgets.error_text(exc)


def add_user() -> None:
    """The form's callback: the password leaves the session state whether or not the user is added."""
    password, state["users-password"] = state["users-password"], ""
    if not login.still_logged_in():
        return
    try:
        added = accounts.add_user(state["users-name"], state["users-role"], password)
    except (ValueError, StorageError) as exc:
        failed(exc)
        return
    state["users-name"] = ""
    done(f"Added {added.name} as {'an' if added.role is Role.ADMIN else 'a'} {added.role.value}.")


def assign(on: bool) -> None:
    """Assign (or unassign) the coach and candidate chosen when the button was clicked."""
    if not login.still_logged_in():
        return
    coach, candidate = state["users-coach"], state["users-candidate"]
    try:
        (accounts.assign if on else accounts.unassign)(coach, candidate)
    except (ValueError, NotFoundError, StorageError) as exc:
        failed(exc)
        return
    done(f"{coach} {'now reviews' if on else 'no longer reviews'} {candidate}.")


def delete_candidate(change: str) -> None:
    """ "ask" shows the question; "confirm" deletes; "cancel" keeps them."""
    name = state.get("users-delete-name")
    if change == "ask":
        state["users-deleting"] = name
        return
    deleting = state.pop("users-deleting", None)
    if change != "confirm" or deleting is None or not login.still_logged_in():
        return
    try:
        removed = store.delete_candidate(deleting)
    except (NotFoundError, StorageError) as exc:
        failed(exc)
        return
    done(f"Deleted {deleting} and their {removed} attempt(s).")


if message := state.pop("users-done", None):
    st.success(escape_markdown(message))
if error := state.pop("users-error", None):
    st.error(escape_markdown(error))


def related(u: User) -> tuple[str, str]:
    """A candidate's coaches, or the candidates a coach reviews."""
    if u.role is Role.CANDIDATE:
        return ", ".join(c.name for c in accounts.coaches_of(u.name)), ""
    if u.role is Role.COACH:
        return "", ", ".join(c.name for c in accounts.assigned(u.name))
    return "", ""


users = accounts.users()
rows = []
for u in users:
    coaches_of, reviews = related(u)
    rows.append({"name": u.name, "role": u.role.value, "coaches": coaches_of, "reviews": reviews})
st.dataframe(
    pd.DataFrame(rows, columns=["name", "role", "coaches", "reviews"]), hide_index=True
)  # plain text

st.subheader("Add a user")
with st.form("users-add-form"):
    st.text_input("Name", key="users-name")
    st.selectbox("Role", ROLES, key="users-role")
    st.text_input("Password (at least 8 characters)", type="password", key="users-password")
    st.form_submit_button("Add user", key="users-add", on_click=add_user)

st.subheader("Coaches and their candidates")
coaches = [u.name for u in users if u.role is Role.COACH]
candidates = [c.name for c in store.candidates()]
if not coaches or not candidates:
    st.caption("Add a coach and a candidate first.")
else:
    left, right = st.columns(2)
    left.selectbox("Coach", coaches, key="users-coach")
    right.selectbox("Candidate", candidates, key="users-candidate")
    buttons = st.columns(4)
    buttons[0].button("Assign", key="users-assign", on_click=assign, args=(True,))
    buttons[1].button("Unassign", key="users-unassign", on_click=assign, args=(False,))

st.subheader("A candidate's data")
if not candidates:
    st.caption("No candidates yet.")
    st.stop()
chosen = st.selectbox("Candidate", candidates, key="users-delete-name")
buttons = st.columns(4)
buttons[0].download_button(  # made when clicked
    "Download everything",
    partial(store.export_candidate, chosen),
    "candidate-data.zip",
    "application/zip",
    key="users-export",
    on_click="ignore",
)
buttons[1].button("Delete…", key="users-delete", on_click=delete_candidate, args=("ask",))
if (deleting := state.get("users-deleting")) is not None:
    st.warning(
        f"Delete {escape_markdown(deleting)} and everything stored about them (attempts, recordings, notes, "
        "account)? This cannot be undone."
    )
    confirm = st.columns(4)
    confirm[0].button("Yes, delete", key="users-delete-confirm", on_click=delete_candidate, args=("confirm",))
    confirm[1].button("Cancel", key="users-delete-cancel", on_click=delete_candidate, args=("cancel",))
