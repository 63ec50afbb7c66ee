"""Who is using the app (not a page): the login form when logins are on, the user each page asks about, and
logging out.

With logins off (`PRACTICE_REQUIRE_LOGIN` unset, as `make run` on a laptop) every run is `LOCAL_USER`, an
admin, and nobody sees a login form. With logins on, `app.py` calls `gate()` before any page: the token
kept in this browser session is checked on every run (a login that expired, was logged out elsewhere or
whose password changed is gone), and without a user only the login form is drawn. Which pages a role may
open is `PAGES`; what a page shows is asked of `practice.storage.access` with `current_user()`.
"""

from __future__ import annotations

import streamlit as st

from practice.markdown import escape_markdown
from practice.storage import (
    LOCAL_USER,
    Accounts,
    AuthenticationError,
    Role,
    StorageError,
    User,
    login_required,
)
from views import widgets

TOKEN = "login"  # the login token (only its sha256 is in the database)
USER = "login-user"  # the user this run is for, set by gate() before the page runs
MESSAGE = "login-message"  # one sentence for the login form: why it is shown again

# The pages each role sees, by their file under views/ (app.py names and orders them).
PAGES: dict[Role, tuple[str, ...]] = {
    Role.CANDIDATE: ("practice", "quickfire", "review", "progress", "account"),
    Role.COACH: ("review", "progress", "questions"),
    Role.ADMIN: ("practice", "quickfire", "review", "progress", "questions", "users"),
}
LOCAL_PAGES = ("practice", "quickfire", "review", "progress", "questions")  # logins off: no accounts
ENDED = "Your login has ended (after 12 hours without use, or logged out elsewhere): log in again."


@st.cache_resource(show_spinner=False)
def accounts() -> Accounts:
    return Accounts(widgets.store())


def logins_on() -> bool:
    """Whether this server asks for logins; an unreadable setting was already refused by gate()."""
    try:
        return login_required()
    except ValueError:
        return True  # a server meant to be closed stays closed


def gate() -> User | None:
    """The user this run is for, kept for `current_user()`; None when the login form must be shown.

    An unreadable PRACTICE_REQUIRE_LOGIN or an unreadable database is one sentence and a stop.
    """
    state = st.session_state
    try:
        required = login_required()
    except ValueError as exc:
        st.error(escape_markdown(str(exc)))
        st.stop()
    if not required:
        state[USER] = LOCAL_USER
        return LOCAL_USER
    token = state.get(TOKEN)
    try:
        user = accounts().user_for_token(token)
    except StorageError as exc:
        st.error(escape_markdown(widgets.error_text(exc)))
        st.stop()
    if user is None:
        if token is not None:  # nothing of the last user's session stays for whoever logs in next
            forget(ENDED)
        state.pop(USER, None)
        return None
    state[USER] = user
    return user


def current_user() -> User:
    """The user the page runs for (`gate()` set it this run); without one the page shows nothing."""
    user = st.session_state.get(USER)
    if not isinstance(user, User):
        st.stop()
    return user


def still_logged_in() -> bool:
    """For a callback that writes: it runs before gate(), so it checks the login has not ended since."""
    if not logins_on():
        return True
    try:
        return accounts().user_for_token(st.session_state.get(TOKEN)) is not None
    except StorageError:
        return False


def pages(user: User) -> tuple[str, ...]:
    return PAGES[user.role] if logins_on() else LOCAL_PAGES


def may_practise(user: User) -> bool:
    """Whether the Practice page is the user's (a coach reviews, and does not practise as a candidate)."""
    return "practice" in pages(user)


def render_login() -> None:
    """The login form: name, password, Log in; why it is shown again, or why a login was refused."""
    st.title("Log in")
    if message := st.session_state.pop(MESSAGE, None):
        st.info(escape_markdown(message))
    with st.form("login-form"):
        st.text_input("Name", key="login-name", autocomplete="username")
        st.text_input("Password", type="password", key="login-password", autocomplete="current-password")
        st.form_submit_button("Log in", type="primary", key="login-submit", on_click=log_in)
    if error := st.session_state.pop("login-error", None):
        st.error(escape_markdown(error))


def log_in() -> None:
    """The login form's callback: on the right password a fresh session state holding only the token."""
    state = st.session_state
    name, password = str(state.get("login-name") or ""), str(state.get("login-password") or "")
    state["login-password"] = ""
    try:
        user = accounts().authenticate(name, password)
        token = accounts().open_login(user)
    except AuthenticationError as exc:  # "Wrong name or password.", or when a locked name may try again
        state["login-error"] = str(exc)
        return
    except StorageError as exc:
        state["login-error"] = widgets.error_text(exc)
        return
    state.clear()  # the address stays: a session link is checked against the user on the Practice page
    state[TOKEN] = token


def log_out() -> None:
    """The Log out button's callback: the token ends in the database, and this browser forgets all."""
    try:
        accounts().close_login(st.session_state.get(TOKEN))
    except StorageError:
        pass  # forgotten here all the same; the login still ends after 12 idle hours
    forget("You are logged out.")


def forget(message: str | None = None) -> None:
    """Drop everything this browser session held (a plan, a chosen candidate, the token, the address)."""
    st.session_state.clear()
    st.query_params.clear()
    if message:
        st.session_state[MESSAGE] = message


def render_logout(user: User) -> None:
    """In the sidebar: who is logged in, and Log out."""
    with st.sidebar:
        st.caption(f"Logged in as **{escape_markdown(user.name)}** ({user.role.value})")
        st.button("Log out", key="logout", on_click=log_out)
