"""Logins and access control in the pages under AppTest: logins on, a SQLite store in tmp_path.

Two candidates (Ana, Bob) and a coach (Cleo, assigned Ana) each see exactly what their role allows on
every page; logins off, the app is one local admin with no login form, as before. Passwords are hashed
with argon2 at its cheapest settings so the tests stay fast.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import practice.storage.accounts as accounts_module
from practice.markdown import escape_markdown
from practice.storage import Accounts, open_store
from practice.storage.owndata import read_export
from practice.storage.schema import logins_table
from tests.test_app import APP, TIMEOUT, app, bank, env, plan, seed, type_answer  # noqa: F401 (fixtures)
from tests.test_app_report import deferred  # noqa: F401 (a fixture: what a download button would make)

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
ANA_SAYS = "data held out from training by Ana"
BOB_SAYS = "Bob memorises noise bobsecret"


@pytest.fixture
def people(env, bank, monkeypatch):  # noqa: F811
    """Logins on; candidates Ana and Bob (an attempt each, a note on Ana's), Cleo (Ana's coach), Root."""
    monkeypatch.setenv("PRACTICE_REQUIRE_LOGIN", "1")
    monkeypatch.setattr(accounts_module, "PasswordHasher", lambda: CHEAP)  # the app's Accounts too
    now = datetime.now(UTC) - timedelta(days=1)
    seed(bank, now, name="Ana", answers={"validation-set": ANA_SAYS})
    seed(bank, now, name="Bob", answers={"overfitting": BOB_SAYS})
    with open_store() as store:
        accounts = Accounts(store, hasher=CHEAP)
        for name, role in (("Ana", "candidate"), ("Bob", "candidate"), ("Cleo", "coach"), ("Root", "admin")):
            accounts.add_user(name, role, PASSWORD)
        accounts.assign("Cleo", "Ana")
        (ana_attempt,) = store.attempts(candidate="Ana")
        store.save_review(ana_attempt.id, note="Mention tuning, Ana", author="Cleo")


def log_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login-name").input(name)
    at.text_input(key="login-password").input(password)
    at = at.button(key="login-submit").click().run()
    assert not at.exception
    return at


def logged_in(name: str) -> AppTest:
    return log_in(app(), name)


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py")
    at = at.run()
    assert not at.exception
    return at


def everything(at: AppTest) -> str:
    """Every element's message as sent to the browser: text, labels, options, help, table cells."""
    found: list[str] = []

    def walk(node) -> None:
        if (proto := getattr(node, "proto", None)) is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(found)


def options(at: AppTest) -> set[str]:
    return {str(o) for box in at.selectbox for o in box.options}


def said(elements) -> list[str]:
    """What these messages say, as typed (the page escapes Markdown in every sentence it shows)."""
    return [e.value.replace("\\", "") for e in elements]


def keys(elements) -> set[str]:
    return {e.key for e in elements}


def shows_only_the_login_form(at: AppTest) -> bool:
    return keys(at.text_input) == {"login-name", "login-password"} and keys(at.button) == {"login-submit"}


# --- logging in and out ---------------------------------------------------------------------------------


def test_with_logins_on_only_the_login_form_is_shown_until_the_right_password(people):
    at = app()
    assert shows_only_the_login_form(at) and at.title[0].value == "Log in"
    assert "Ana" not in everything(at) and not at.sidebar.button
    at = log_in(at, "Ana", "wrong password")
    assert said(at.error) == ["Wrong name or password."]
    assert shows_only_the_login_form(at) and at.text_input(key="login-password").value == ""
    at = log_in(at, "ana", PASSWORD)  # the name in any case
    assert not at.error and at.title[0].value == "Practice"
    assert "login-name" not in keys(at.text_input)
    assert at.sidebar.button(key="logout").label == "Log out"
    assert "Logged in as **Ana** (candidate)" in [c.value for c in at.sidebar.caption]


def test_a_locked_name_is_one_sentence_even_with_the_right_password(people):
    at = app()
    for _ in range(5):
        at = log_in(at, "Ana", "guess guess")
    at = log_in(at, "Ana", PASSWORD)
    (error,) = said(at.error)
    assert error.startswith("Too many wrong passwords for this name: try again in 15 minutes")
    assert shows_only_the_login_form(at)


def test_an_unreadable_login_setting_is_one_sentence_and_nothing_else(people, monkeypatch):
    monkeypatch.setenv("PRACTICE_REQUIRE_LOGIN", "ture")
    at = app()
    assert said(at.error) == ["PRACTICE_REQUIRE_LOGIN must be 1 (logins on) or 0 (off), not 'ture'."]
    assert not at.text_input and not at.button and not at.title


def test_an_expired_login_shows_the_login_form_again_and_forgets_the_session(people):
    at = logged_in("Ana")
    at.session_state["candidate"] = "kept from before"
    end_logins()
    at = at.run()
    assert not at.exception and shows_only_the_login_form(at)
    assert "Your login has ended" in at.info[0].value
    assert "candidate" not in at.session_state
    at = log_in(at, "Ana")
    assert at.title[0].value == "Practice"


def end_logins() -> None:
    """Every open login goes 13 hours without use: ended, as the core counts it."""
    with open_store() as store, store.engine.begin() as conn:
        conn.execute(sa.update(logins_table).values(last_seen_at=datetime.now(UTC) - timedelta(hours=13)))


def test_a_click_after_the_login_ended_changes_nothing(people):
    """A button's callback runs before the page checks the login, so the callbacks that write check it too."""
    at = go(logged_in("Cleo"), "review")
    at.text_area(key="note-1").input("Written after the login ended")
    end_logins()
    at = next(b for b in at.button if b.label == "Save review").click().run()
    assert shows_only_the_login_form(at)
    at = go(logged_in("Ana"), "account")
    at.text_input(key="mydata-delete-confirm").input("Ana")
    end_logins()
    at = at.button(key="mydata-delete").click().run()
    assert shows_only_the_login_form(at)
    with open_store() as store:
        (attempt,) = store.attempts(candidate="Ana")
    assert [n.text for n in attempt.notes] == ["Mention tuning, Ana"]


def test_log_out_ends_the_login_and_forgets_everything(people):
    at = logged_in("Ana")
    token = at.session_state["login"]
    at = at.sidebar.button(key="logout").click().run()
    assert shows_only_the_login_form(at) and at.info[0].value == "You are logged out."
    with open_store() as store:
        assert Accounts(store, hasher=CHEAP).user_for_token(token) is None
    at.session_state["login"] = token  # the old token again, as if kept
    assert shows_only_the_login_form(at.run())


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("Ana", ["practice", "review", "progress", "account"]),
        ("Cleo", ["review", "progress", "questions"]),
        ("Root", ["practice", "review", "progress", "questions", "users"]),
    ],
)
def test_each_role_is_offered_only_its_pages(people, name, pages):
    at = logged_in(name)
    for page in ("practice", "review", "progress", "questions", "account", "users"):
        if page in pages:
            assert go(at, page).title
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"views/{page}.py")


# --- what each role sees --------------------------------------------------------------------------------


def test_a_candidate_sees_only_their_own_attempts_on_review_and_progress(people, monkeypatch):
    exports: dict[str | None, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        exports[filename] = data if isinstance(data, bytes) else str(data).encode()
        return real(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    at = go(logged_in("Ana"), "review")
    assert options(at) >= {"All", "Ana"} and "Bob" not in options(at)
    assert list(at.dataframe[0].value["candidate"]) == ["Ana"]
    shown = everything(at)
    assert "Ana" in shown and "Bob" not in shown and "bobsecret" not in shown
    assert exports and not any(b"Bob" in data for data in exports.values())
    assert "> Mention tuning, Ana" in [m.value.split("  \n")[0] for m in at.markdown]  # her coach's note
    at = go(at, "progress")
    assert at.selectbox[0].options == ["Ana"] and at.metric[0].value == "1"
    assert "Bob" not in everything(at)


def test_a_candidate_reads_the_coachs_notes_but_cannot_add_edit_or_override(people):
    at = go(logged_in("Ana"), "review")
    assert not at.text_area and not at.number_input and not at.checkbox
    assert not {b.key for b in at.button} & {"note-edit-1", "note-delete-1"}
    assert "Save review" not in [b.label for b in at.button]
    assert "No notes from a coach on this attempt yet." not in [c.value for c in at.caption]
    at = go(logged_in("Bob"), "review")  # nobody has reviewed Bob's attempt
    assert "No notes from a coach on this attempt yet." in [c.value for c in at.caption]
    assert not at.text_area and "Save review" not in [b.label for b in at.button]


def test_a_coach_sees_and_reviews_only_the_assigned_candidates(people):
    at = go(logged_in("Cleo"), "review")
    assert options(at) >= {"Ana"} and "Bob" not in options(at)
    assert "Bob" not in everything(at) and "bobsecret" not in everything(at)
    assert "Your name" not in [t.label for t in at.text_input]  # notes are signed with the login's name
    at.text_area(key="note-1").input("Say what you would tune")
    at = next(b for b in at.button if b.label == "Save review").click().run()
    assert not at.exception and not at.error
    with open_store() as store:
        (attempt,) = store.attempts(candidate="Ana")
    assert [(n.text, n.author) for n in attempt.notes][-1] == ("Say what you would tune", "Cleo")
    at = go(at, "progress")
    assert at.selectbox[0].options == ["Ana"] and "Bob" not in everything(at)
    assert "practise-weak" not in keys(at.button)  # a coach does not practise as the candidate


def test_the_admin_sees_everyone(people):
    at = go(logged_in("Root"), "review")
    assert options(at) >= {"All", "Ana", "Bob"} and len(at.dataframe[0].value) == 2


# --- the Practice page ----------------------------------------------------------------------------------


def test_a_candidate_practises_under_their_own_name_only(people, bank):  # noqa: F811
    at = logged_in("Ana")
    assert "setup-name" not in keys(at.text_input)
    assert "Practising as Ana" in [c.value for c in at.caption]
    at.multiselect(key="setup-topics").set_value(["evaluation"])
    at.number_input(key="setup-count").set_value(1)
    at = at.button(key="setup-start").click().run()
    assert plan(at).candidate == "Ana"
    at = type_answer(at, "held out from training")
    with open_store() as store:
        assert len(store.attempts(candidate="Ana")) == 2 and len(store.attempts(candidate="Bob")) == 1


def test_another_candidates_session_link_is_refused_as_if_unknown(people, bank):  # noqa: F811
    with open_store() as store:
        bobs = store.start_session("Bob")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"session": bobs, "q": "overfitting"})
    at = log_in(at.run(), "Ana")
    assert said(at.info) == ["That practice session was not found: start a new one below."]
    assert "plan" not in at.session_state and at.button(key="setup-start")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)  # Bob himself carries on with it
    at.query_params.update({"session": bobs, "q": "overfitting"})
    at = log_in(at.run(), "Bob")
    assert plan(at).session_id == bobs and plan(at).candidate == "Bob"


# --- My data --------------------------------------------------------------------------------------------


def test_my_data_downloads_everything_about_the_candidate_and_nobody_else(people, deferred):  # noqa: F811
    at = go(logged_in("Ana"), "account")
    assert at.get("download_button")[0].key == "mydata-download"
    make, mime = deferred["my-practice-data.zip"]
    export = read_export(make())
    assert mime == "application/zip" and export.candidate.name == "Ana" and export.coaches == ("Cleo",)
    assert [a.attempt.answer_text for a in export.attempts] == [ANA_SAYS]
    assert [n.text for n in export.attempts[0].attempt.notes] == ["Mention tuning, Ana"]


def test_my_data_deletes_everything_after_the_name_is_typed_and_logs_out(people):
    at = go(logged_in("Ana"), "account")
    at.text_input(key="mydata-delete-confirm").input("Bob")
    at = at.button(key="mydata-delete").click().run()
    assert said(at.error) == ["Type your name exactly as shown to confirm: nothing was deleted."]
    with open_store() as store:
        assert len(store.attempts(candidate="Ana")) == 1
    at.text_input(key="mydata-delete-confirm").input(" ana ")
    at = at.button(key="mydata-delete").click().run()
    assert not at.exception and shows_only_the_login_form(at)
    assert at.info[0].value == "Everything stored about you was deleted, and you are logged out."
    with open_store() as store:
        assert store.attempts(candidate="Ana") == [] and len(store.attempts(candidate="Bob")) == 1
        assert [u.name for u in Accounts(store, hasher=CHEAP).users()] == ["Bob", "Cleo", "Root"]
    at = log_in(at, "Ana")
    assert said(at.error) == ["Wrong name or password."]


# --- Users (admin) --------------------------------------------------------------------------------------


def test_the_admin_adds_a_user_assigns_a_coach_and_deletes_a_candidate(people, deferred):  # noqa: F811
    at = go(logged_in("Root"), "users")
    assert list(at.dataframe[0].value["name"]) == ["Ana", "Bob", "Cleo", "Root"]
    assert (
        at.text_input(key="users-password").proto.type == at.text_input(key="users-password").proto.PASSWORD
    )
    at.text_input(key="users-name").input("Dee")
    at.selectbox(key="users-role").select("coach")
    at.text_input(key="users-password").input("short")
    at = at.button(key="users-add").click().run()
    assert said(at.error) == ["That password is too short: use at least 8 characters."]
    at.text_input(key="users-password").input(PASSWORD)
    at = at.button(key="users-add").click().run()
    assert said(at.success) == ["Added Dee as a coach."]
    assert at.text_input(key="users-password").value == ""

    at.selectbox(key="users-coach").select("Dee")
    at.selectbox(key="users-candidate").select("Bob")
    at = at.button(key="users-assign").click().run()
    assert said(at.success) == ["Dee now reviews Bob."]
    with open_store() as store:
        assert [c.name for c in Accounts(store).assigned("Dee")] == ["Bob"]
    at.selectbox(key="users-coach").select("Cleo")
    at.selectbox(key="users-candidate").select("Ana")
    at = at.button(key="users-unassign").click().run()
    assert said(at.success) == ["Cleo no longer reviews Ana."]
    assert list(at.dataframe[0].value["reviews"]) == ["", "", "", "Bob", ""]  # Ana, Bob, Cleo, Dee, Root

    at.selectbox(key="users-delete-name").select("Bob")
    at = at.run()
    make, _ = deferred["candidate-data.zip"]  # the admin downloads a candidate's data too
    assert read_export(make()).candidate.name == "Bob"
    at = at.button(key="users-delete").click().run()
    assert any("Delete Bob and everything stored about them" in w.value for w in at.warning)
    with open_store() as store:
        assert len(store.attempts(candidate="Bob")) == 1  # nothing before the confirmation
    at = at.button(key="users-delete-confirm").click().run()
    assert said(at.success) == ["Deleted Bob and their 1 attempt(s)."]
    with open_store() as store:
        assert [c.name for c in store.candidates()] == ["Ana"]
    assert "Bob" not in at.selectbox(key="users-delete-name").options


# --- logins off -----------------------------------------------------------------------------------------


def test_with_logins_off_the_app_is_one_local_admin_with_no_login(env, bank, monkeypatch):  # noqa: F811
    monkeypatch.delenv("PRACTICE_REQUIRE_LOGIN", raising=False)
    seed(bank, datetime.now(UTC), name="Ana", answers={"validation-set": ANA_SAYS})
    seed(bank, datetime.now(UTC), name="Bob", answers={"overfitting": BOB_SAYS})
    at = app()
    assert at.text_input(key="setup-name") and "login-name" not in keys(at.text_input)
    assert not at.sidebar.button  # no Log out
    at = go(at, "review")
    assert options(at) >= {"All", "Ana", "Bob"} and "Your name" in [t.label for t in at.text_input]
    for page in ("account", "users"):  # the pages as they always were
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}.py")


def test_a_hostile_name_is_shown_as_typed_wherever_the_login_pages_show_it(people):
    name = "Eve <b>x</b> ![p](http://host.example/p.png)"
    with open_store() as store:
        Accounts(store, hasher=CHEAP).add_user(name, "candidate", PASSWORD)
    at = logged_in(name)
    escaped = escape_markdown(name)
    assert f"Logged in as **{escaped}** (candidate)" in [c.value for c in at.sidebar.caption]
    assert f"Practising as {escaped}" in [c.value for c in at.caption]
    at = go(at, "account")
    assert at.text_input(key="mydata-delete-confirm").label == f"Type your name ({escaped}) to confirm"
    assert not re.search(r"(?<!\\)(<b>|\]\()", everything(at))  # no unescaped tag or link anywhere
