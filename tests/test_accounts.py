"""Accounts, logins and access rules at the storage layer, on SQLite and on PostgreSQL.

Every test that takes `store` runs on both (PostgreSQL when PRACTICE_TEST_POSTGRES_URL is set, as
`make test` does). Passwords are hashed with argon2 at its cheapest settings so the tests stay fast; the
clock is a fake that tests move instead of sleeping.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from practice.storage import (
    LOCAL_USER,
    SCHEMA_VERSION,
    AccessDenied,
    Accounts,
    AuthenticationError,
    LoginLockedError,
    NotFoundError,
    Role,
    Store,
    User,
    access,
    login_required,
    metadata,
    migrate,
    open_store,
    schema_version,
)
from practice.storage.owndata import read_export
from practice.storage.schema import (
    attempts_table,
    candidates_table,
    logins_table,
    notes_table,
    sessions_table,
    users_table,
)
from tests import test_storage as storage_tests
from tests.test_storage import WAV, delivery_of, question, score_of, transcript

# the same fixtures: SQLite, and PostgreSQL when a URL is given
store, empty_url = storage_tests.store, storage_tests.empty_url

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
WEBM = b"\x1aE\xdf\xa3" + bytes(range(200)) * 3
PASSWORD = "correct horse battery"


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(store: Store, clock: FakeClock) -> Accounts:
    return Accounts(store, clock=clock, hasher=CHEAP)


def full_url(store: Store) -> str:
    """The store's URL with its password (Store.url hides it), to open a second store on it."""
    return store.engine.url.render_as_string(hide_password=False)


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.scalar(sa.select(sa.func.count()).select_from(t))
            for t in metadata.sorted_tables
            if t.name != "schema_version"
        }


# --- the setting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("off", False), ("1", True), (" TRUE ", True), ("yes", True)],
)
def test_logins_are_off_unless_asked_for(value: str | None, expected: bool) -> None:
    environ = {} if value is None else {"PRACTICE_REQUIRE_LOGIN": value}
    assert login_required(environ) is expected


def test_an_unreadable_login_setting_is_one_sentence_not_a_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_REQUIRE_LOGIN", "ture")
    with pytest.raises(ValueError, match=r"^PRACTICE_REQUIRE_LOGIN must be 1 \(logins on\) or 0 \(off\)"):
        login_required()


# --- users and passwords --------------------------------------------------------------------------------


def test_a_user_is_added_with_a_role_and_found_by_name_in_any_case(accounts: Accounts) -> None:
    ana = accounts.add_user("  Ana   Lopez ", "candidate", PASSWORD)
    assert (ana.name, ana.role, ana.created_at) == ("Ana Lopez", Role.CANDIDATE, T0)
    assert accounts.user("ANA LOPEZ") == ana
    cleo = accounts.add_user("Cleo", Role.COACH, PASSWORD)
    assert [u.name for u in accounts.users()] == ["Ana Lopez", "Cleo"]
    assert cleo.role is Role.COACH and isinstance(cleo, User)
    # a candidate's account comes with their candidate record, so a coach can be assigned them at once
    assert [c.name for c in accounts.store.candidates()] == ["Ana Lopez"]


def test_an_email_address_is_a_name_like_any_other(accounts: Accounts) -> None:
    """What st.login would give (st.user.email) finds the account of that name (docs/shared-server.md)."""
    ana = accounts.add_user("ana@example.org", "candidate", PASSWORD)
    accounts.add_user("cleo@example.org", "coach", PASSWORD)
    accounts.assign("cleo@example.org", "Ana@Example.org")
    assert accounts.user("Ana@Example.org") == ana
    coach = accounts.user("cleo@example.org")
    assert [c.name for c in access.visible_candidates(accounts.store, coach)] == ["ana@example.org"]


@pytest.mark.parametrize(
    ("name", "role", "password", "error"),
    [
        ("ana", "candidate", PASSWORD, "There is already a user named ana."),
        ("Bob", "owner", PASSWORD, "Unknown role 'owner' (expected one of candidate, coach, admin)."),
        ("Bob", "coach", "short", "That password is too short: use at least 8 characters."),
        ("Bob", "coach", "x" * 1025, "That password is too long: use at most 1024 characters."),
        ("   ", "coach", PASSWORD, "Enter a name: it cannot be empty."),
        ("B" * 101, "coach", PASSWORD, "That name is too long (101 characters; at most 100)."),
    ],
)
def test_unusable_users_are_refused_in_one_sentence_and_nothing_is_written(
    accounts: Accounts, name: str, role: str, password: str, error: str
) -> None:
    accounts.add_user("Ana", "candidate", PASSWORD)
    before = counts(accounts.store)
    with pytest.raises(ValueError) as caught:
        accounts.add_user(name, role, password)
    assert str(caught.value) == error
    assert counts(accounts.store) == before


def test_passwords_are_stored_only_as_argon2_hashes_and_never_logged(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement and its parameters
    accounts.store.engine.echo = True
    try:
        accounts.add_user("Ana", "candidate", PASSWORD)
        accounts.add_user("Bob", "candidate", PASSWORD)
        accounts.authenticate("Ana", PASSWORD)
        accounts.set_password("Bob", "another long one")
        with pytest.raises(AuthenticationError):
            accounts.authenticate("Bob", PASSWORD)
    finally:
        accounts.store.engine.echo = False
    assert "INSERT INTO users" in caplog.text  # the log did see the writes ...
    assert PASSWORD not in caplog.text and "another long one" not in caplog.text  # ... but no password

    with accounts.store.engine.connect() as conn:
        hashes = dict(conn.execute(sa.select(users_table.c.name, users_table.c.password_hash)).all())
        every_text = [
            str(value)
            for table in metadata.sorted_tables
            for row in conn.execute(sa.select(table))
            for value in row
            if isinstance(value, str)
        ]
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert hashes["Ana"] != hashes["Bob"]  # salted
    assert PasswordHasher().verify(hashes["Ana"], PASSWORD)
    assert not any(PASSWORD in text or "another long one" in text for text in every_text)


def test_a_hash_made_with_older_settings_is_remade_at_the_next_login(store: Store, clock: FakeClock) -> None:
    Accounts(store, clock=clock, hasher=CHEAP).add_user("Ana", "coach", PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    accounts = Accounts(store, clock=clock, hasher=stronger)

    def stored() -> str:
        with store.engine.connect() as conn:
            return conn.scalar(sa.select(users_table.c.password_hash))

    old = stored()
    assert "m=8,t=1,p=1" in old
    with pytest.raises(AuthenticationError):
        accounts.authenticate("Ana", "not the password")
    assert stored() == old  # a wrong password changes nothing
    assert accounts.authenticate("Ana", PASSWORD).name == "Ana"
    assert "m=16,t=2,p=1" in stored() and not stronger.check_needs_rehash(stored())
    assert accounts.authenticate("Ana", PASSWORD).name == "Ana"  # and the new hash still lets her in


# --- logging in -----------------------------------------------------------------------------------------


def test_the_right_password_logs_in_and_a_wrong_one_never_says_which_part_was_wrong(
    accounts: Accounts, clock: FakeClock
) -> None:
    accounts.add_user("Ana", "candidate", PASSWORD)
    assert accounts.authenticate(" ana ", PASSWORD) == accounts.user("Ana")
    refusals = [
        ("Ana", "correct horse battery "),  # one space more
        ("Ana", PASSWORD.upper()),
        ("Nobody", PASSWORD),
        ("", PASSWORD),
        ("Ana", ""),
        ("Ana", None),
        ("x" * 500, PASSWORD),
        ("Ana", "x" * 5000),
    ]
    for name, password in refusals:
        clock.advance(minutes=4)  # slower than the lock counts
        with pytest.raises(AuthenticationError) as caught:
            accounts.authenticate(name, password)  # type: ignore[arg-type]
        assert str(caught.value) == "Wrong name or password.", (name, password)


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(accounts: Accounts, clock: FakeClock) -> None:
    accounts.add_user("Ana", "candidate", PASSWORD)
    for _ in range(4):
        clock.advance(minutes=1)
        with pytest.raises(AuthenticationError, match=r"^Wrong name or password\.$"):
            accounts.authenticate("Ana", "guess guess")
    clock.advance(minutes=1)
    with pytest.raises(LoginLockedError) as caught:
        accounts.authenticate("Ana", "guess guess")
    assert (
        str(caught.value) == "Too many wrong passwords for this name: try again in 15 minutes (at 09:20 UTC)."
    )
    assert caught.value.retry_at == T0 + timedelta(minutes=20)

    clock.advance(minutes=14)
    with pytest.raises(LoginLockedError, match="try again in 1 minute "):
        accounts.authenticate("Ana", PASSWORD)  # even the right password waits
    clock.advance(minutes=1)
    assert accounts.authenticate("Ana", PASSWORD).name == "Ana"
    for _ in range(4):  # a login clears the count
        with pytest.raises(AuthenticationError, match=r"^Wrong name or password\.$"):
            accounts.authenticate("Ana", "guess guess")


def test_wrong_passwords_spread_wider_than_the_window_do_not_lock(
    accounts: Accounts, clock: FakeClock
) -> None:
    accounts.add_user("Ana", "candidate", PASSWORD)
    for _ in range(12):
        clock.advance(minutes=4)  # four in any 15 minutes
        with pytest.raises(AuthenticationError) as caught:
            accounts.authenticate("Ana", "guess guess")
        assert not isinstance(caught.value, LoginLockedError)
    assert accounts.authenticate("Ana", PASSWORD).name == "Ana"


def test_a_lock_is_per_name_and_names_without_accounts_lock_alike(accounts: Accounts) -> None:
    accounts.add_user("Ana", "candidate", PASSWORD)
    accounts.add_user("Bob", "candidate", PASSWORD)
    for name in ("Ana", "Nobody"):
        for _ in range(4):
            with pytest.raises(AuthenticationError):
                accounts.authenticate(name, "guess guess")
        with pytest.raises(LoginLockedError) as caught:
            accounts.authenticate(name, "guess guess")
        assert "try again in 15 minutes" in str(caught.value)  # the same for a name that does not exist
    assert accounts.authenticate("Bob", PASSWORD).name == "Bob"
    with pytest.raises(LoginLockedError):
        accounts.authenticate("ANA", PASSWORD)


def test_the_count_of_wrong_passwords_is_shared_by_every_app_process(store: Store, clock: FakeClock) -> None:
    first = Accounts(store, clock=clock, hasher=CHEAP)
    first.add_user("Ana", "candidate", PASSWORD)
    with open_store(full_url(store)) as other_store:  # another process's store on the same database
        second = Accounts(other_store, clock=clock, hasher=CHEAP)
        for accounts in (first, second, first, second):
            with pytest.raises(AuthenticationError):
                accounts.authenticate("Ana", "guess guess")
        with pytest.raises(LoginLockedError):
            second.authenticate("Ana", "guess guess")
        with pytest.raises(LoginLockedError):
            first.authenticate("Ana", PASSWORD)


def test_a_login_token_is_kept_only_as_its_hash(accounts: Accounts) -> None:
    ana = accounts.add_user("Ana", "candidate", PASSWORD)
    token = accounts.open_login(accounts.authenticate("Ana", PASSWORD))
    assert len(token) >= 40 and accounts.user_for_token(token) == ana
    with accounts.store.engine.connect() as conn:
        stored = conn.execute(sa.select(logins_table)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(v) for v in stored]
    assert accounts.open_login(ana) != token  # every login its own token


def test_a_login_ends_after_twelve_idle_hours_and_each_use_moves_the_end_on(
    accounts: Accounts, clock: FakeClock
) -> None:
    ana = accounts.add_user("Ana", "candidate", PASSWORD)
    token = accounts.open_login(ana)
    for _ in range(3):  # used every 11 hours: a day and a half later it still works
        clock.advance(hours=11)
        assert accounts.user_for_token(token) == ana
    clock.advance(hours=12)
    assert accounts.user_for_token(token) is None
    assert counts(accounts.store)["logins"] == 0  # the ended login is gone from the database

    shorter = Accounts(
        accounts.store,
        clock=clock,
        hasher=CHEAP,
        policy=accounts.policy.__class__(idle=timedelta(minutes=30)),
    )
    token = shorter.open_login(ana)
    clock.advance(minutes=29)
    assert shorter.user_for_token(token) == ana
    clock.advance(minutes=31)
    assert shorter.user_for_token(token) is None


def test_logging_out_a_password_change_and_a_removed_account_end_logins(accounts: Accounts) -> None:
    ana = accounts.add_user("Ana", "candidate", PASSWORD)
    cleo = accounts.add_user("Cleo", "coach", PASSWORD)
    first, second, coach = accounts.open_login(ana), accounts.open_login(ana), accounts.open_login(cleo)
    accounts.close_login(first)
    assert accounts.user_for_token(first) is None and accounts.user_for_token(second) == ana
    accounts.set_password("Ana", "a new long password")
    assert accounts.user_for_token(second) is None
    assert accounts.authenticate("Ana", "a new long password") == ana
    accounts.remove_user("Cleo")
    assert accounts.user_for_token(coach) is None
    with pytest.raises(AuthenticationError):
        accounts.authenticate("Cleo", PASSWORD)


@pytest.mark.parametrize("token", [None, "", 42, "x" * 5000, "not-a-token", ["list"]])
def test_anything_that_is_not_a_live_token_is_nobody(accounts: Accounts, token: object) -> None:
    accounts.open_login(accounts.add_user("Ana", "candidate", PASSWORD))
    assert accounts.user_for_token(token) is None
    accounts.close_login(token)  # ignored
    assert counts(accounts.store)["logins"] == 1


def test_a_role_change_shows_at_the_next_page_run(accounts: Accounts) -> None:
    cleo = accounts.add_user("Cleo", "coach", PASSWORD)
    token = accounts.open_login(cleo)
    accounts.remove_user("Cleo")
    assert accounts.user_for_token(token) is None
    with pytest.raises(NotFoundError, match="No user named Cleo."):
        accounts.open_login(cleo)  # a stale User cannot open a login either


# --- coaches and the access rules -----------------------------------------------------------------------


def seed(accounts: Accounts) -> dict[str, object]:
    """Ana and Bob with accounts, Cy who practised without one, coach Cleo (Ana only), admin Root."""
    store = accounts.store
    users = {
        "ana": accounts.add_user("Ana", "candidate", PASSWORD),
        "bob": accounts.add_user("Bob", "candidate", PASSWORD),
        "cleo": accounts.add_user("Cleo", "coach", PASSWORD),
        "dan": accounts.add_user("Dan", "coach", PASSWORD),
        "root": accounts.add_user("Root", "admin", PASSWORD),
    }
    accounts.assign("Cleo", "Ana")
    sessions = {name: store.start_session(name) for name in ("Ana", "Bob", "Cy")}
    attempts = {
        name: store.add_attempt(
            name, question(), answer_mode="audio", audio=WAV, session_id=sessions[name], created_at=T0
        ).id
        for name in ("Ana", "Bob", "Cy")
    }
    return {**users, "sessions": sessions, "attempts": attempts}


def test_each_role_sees_exactly_whom_it_may(accounts: Accounts) -> None:
    seen = seed(accounts)
    store = accounts.store
    expected = {
        "ana": ["Ana"],
        "bob": ["Bob"],
        "cleo": ["Ana"],
        "dan": [],
        "root": ["Ana", "Bob", "Cy"],
    }
    for who, names in expected.items():
        user = seen[who]
        assert [c.name for c in access.visible_candidates(store, user)] == names, who
        assert sorted(a.candidate.name for a in access.visible_attempts(store, user)) == names, who
        for name in ("Ana", "Bob", "Cy", "Nobody"):
            assert access.can_see(store, user, name) is (name in names or who == "root"), (who, name)
            assert access.can_open_attempt(store, user, seen["attempts"].get(name, 10**6)) is (name in names)
            assert access.can_open_session(store, user, seen["sessions"].get(name, "f" * 32)) is (
                name in names
            )
    assert [c.name for c in access.visible_candidates(store, LOCAL_USER)] == ["Ana", "Bob", "Cy"]


def test_a_filter_cannot_reach_past_what_a_user_may_see(accounts: Accounts) -> None:
    seen = seed(accounts)
    store = accounts.store
    ana, cleo = seen["ana"], seen["cleo"]
    assert access.visible_attempts(store, ana, candidate="Bob") == []
    assert access.visible_attempts(store, cleo, session_id=seen["sessions"]["Bob"]) == []
    assert [a.id for a in access.visible_attempts(store, cleo, track="ml")] == [seen["attempts"]["Ana"]]
    assert access.visible_attempts(store, seen["dan"], candidate="Ana") == []


def test_ids_of_the_wrong_kind_open_nothing(accounts: Accounts) -> None:
    seen = seed(accounts)
    root = seen["root"]
    for bad in (None, True, "1", 1.0, -1):
        assert access.can_open_attempt(accounts.store, root, bad) is False
    for bad in (None, 1, "", "x" * 37, "' OR 1=1 --"):
        assert access.can_open_session(accounts.store, root, bad) is False


@pytest.mark.parametrize(
    ("who", "review", "export", "delete"),
    [
        ("ana", {"Ana": False, "Bob": False}, {"Ana": True, "Bob": False}, {"Ana": True, "Bob": False}),
        ("cleo", {"Ana": True, "Bob": False}, {"Ana": False, "Bob": False}, {"Ana": False, "Bob": False}),
        ("dan", {"Ana": False, "Bob": False}, {"Ana": False, "Bob": False}, {"Ana": False, "Bob": False}),
        ("root", {"Ana": True, "Bob": True}, {"Ana": True, "Bob": True}, {"Ana": True, "Bob": True}),
    ],
)
def test_who_may_review_export_and_delete(accounts: Accounts, who, review, export, delete) -> None:
    seen = seed(accounts)
    user = seen[who]
    for name in ("Ana", "Bob"):
        assert access.can_review(accounts.store, user, name) is review[name], name
        assert access.can_export(user, name) is export[name], name
        assert access.can_delete(user, name) is delete[name], name


def test_require_turns_a_refusal_into_one_sentence(accounts: Accounts) -> None:
    seen = seed(accounts)
    access.require(access.can_open_attempt(accounts.store, seen["ana"], seen["attempts"]["Ana"]))
    with pytest.raises(AccessDenied) as caught:
        access.require(access.can_open_attempt(accounts.store, seen["ana"], seen["attempts"]["Bob"]))
    assert str(caught.value) == "You do not have access to that: ask your coach or the server's admin."
    assert "Bob" not in str(caught.value)


def test_assigning_and_unassigning_coaches(accounts: Accounts) -> None:
    seen = seed(accounts)
    store = accounts.store
    accounts.assign("cleo", "bob")
    accounts.assign("Cleo", "Bob")  # twice is once
    accounts.assign("Cleo", "Cy")  # practised without an account
    assert [c.name for c in accounts.assigned("Cleo")] == ["Ana", "Bob", "Cy"]
    assert [u.name for u in accounts.coaches_of("Bob")] == ["Cleo"]
    assert access.can_review(store, seen["cleo"], "Cy")
    accounts.unassign("Cleo", "Ana")
    accounts.unassign("Cleo", "Ana")  # not assigned: nothing happens
    assert not access.can_see(store, seen["cleo"], "Ana")
    assert not access.can_open_attempt(store, seen["cleo"], seen["attempts"]["Ana"])

    refusals = [
        (("Ana", "Bob"), ValueError, "Ana is a candidate, not a coach."),
        (("Root", "Bob"), ValueError, "Root is an admin, not a coach."),
        (("Nobody", "Bob"), NotFoundError, "No user named Nobody."),
        (
            ("Cleo", "Nobody"),
            NotFoundError,
            "No candidate named Nobody: add them with --role candidate first.",
        ),
    ]
    before = counts(store)
    for (coach, candidate), error, message in refusals:
        with pytest.raises(error) as caught:
            accounts.assign(coach, candidate)
        assert str(caught.value) == message
    assert counts(store) == before


def test_removing_a_coach_ends_their_access_and_keeps_every_attempt(accounts: Accounts) -> None:
    seen = seed(accounts)
    before = counts(accounts.store)
    accounts.remove_user("Cleo")
    assert not access.can_see(accounts.store, seen["cleo"], "Ana")  # the User a page still holds
    after = counts(accounts.store)
    assert (before["users"] - after["users"], before["coach_assignments"] - after["coach_assignments"]) == (
        1,
        1,
    )
    assert after["attempts"] == before["attempts"] and after["candidates"] == before["candidates"]
    accounts.remove_user("Ana")  # the account only: her attempts stay, as before she had one
    assert [a.candidate.name for a in accounts.store.attempts(candidate="Ana")] == ["Ana"]
    with pytest.raises(NotFoundError, match="No user named Ana."):
        accounts.remove_user("Ana")


def test_a_new_candidate_account_owns_what_that_name_practised_before(accounts: Accounts) -> None:
    old = accounts.store.add_attempt("Eve", question(), answer_mode="typed", answer_text="before")
    eve = accounts.add_user("eve", "candidate", PASSWORD)
    assert [a.id for a in access.visible_attempts(accounts.store, eve)] == [old.id]


# --- own data: export and delete ------------------------------------------------------------------------


def practise(accounts: Accounts) -> dict[str, int]:
    """Ana (account, login, a wrong password, coach Cleo): a session with two recordings, a typed answer,
    a note and an override, and a quick-fire round with one clock started. Bob the same, smaller. Returns
    the ids of Ana's attempts."""
    store = accounts.store
    accounts.add_user("Ana", "candidate", PASSWORD)
    accounts.add_user("Bob", "candidate", PASSWORD)
    accounts.add_user("Cleo", "coach", PASSWORD)
    for name in ("Ana", "Bob"):
        accounts.assign("Cleo", name)
        accounts.open_login(accounts.user(name))
        with pytest.raises(AuthenticationError):
            accounts.authenticate(name, "guess guess")
    session = store.start_session("Ana")
    wav = store.add_attempt("Ana", question("q-1"), answer_mode="audio", audio=WAV, session_id=session)
    store.set_result(wav.id, score_of("q-1"), transcript=transcript("Ana said bias"), delivery=delivery_of())
    webm = store.add_attempt(
        "Ana", question("q-2"), answer_mode="upload", audio=WEBM, audio_mime="audio/webm", session_id=session
    )
    typed = store.add_attempt("Ana", question("q-3"), answer_mode="typed", answer_text="Ana typed this")
    store.save_review(wav.id, note="Ana: good start", key_points={1: "covered"}, author="Cleo")
    store.save_review(typed.id, note="Ana: be specific", author="Cleo")
    store.start_clock(store.start_round("Ana", 30), "q-4", T0)
    bob_session = store.start_session("Bob")
    store.start_clock(store.start_round("Bob", 45), "q-4", T0)
    bob = store.add_attempt("Bob", question(), answer_mode="audio", audio=WAV[::-1], session_id=bob_session)
    store.save_review(bob.id, note="Bob's secret note", author="Cleo")
    return {"wav": wav.id, "webm": webm.id, "typed": typed.id, "bob": bob.id}


def test_a_candidates_export_holds_all_their_data_and_nobody_elses(accounts: Accounts) -> None:
    ids = practise(accounts)
    store = accounts.store
    data = store.export_candidate("ana")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert names == {"candidate.json", f"recordings/{ids['wav']}.wav", f"recordings/{ids['webm']}.webm"}
        assert zf.read(f"recordings/{ids['wav']}.wav") == WAV
        assert zf.read(f"recordings/{ids['webm']}.webm") == WEBM
    export = read_export(data)  # the JSON reads back into the typed records
    assert export.candidate.name == "Ana" and export.coaches == ("Cleo",)
    assert export.account is not None and export.account.role is Role.CANDIDATE
    plain, quick = export.sessions
    assert plain.id == store.attempt(ids["wav"]).session_id and plain.quick_fire is None
    assert quick.quick_fire == store.quick_fire_round(quick.id) and quick.quick_fire.seconds == 30
    assert [c.question_id for c in quick.quick_fire.clocks] == ["q-4"]
    assert [e.attempt for e in export.attempts] == store.attempts(candidate="Ana")
    by_id = {e.attempt.id: e for e in export.attempts}
    assert by_id[ids["typed"]].recording is None
    assert by_id[ids["wav"]].recording == f"recordings/{ids['wav']}.wav"
    assert [n.text for n in by_id[ids["wav"]].attempt.notes] == ["Ana: good start"]
    assert by_id[ids["wav"]].attempt.override(1).status == "covered"
    assert by_id[ids["wav"]].attempt.delivery == delivery_of()
    for absent in (b"Bob", WAV[::-1][:64], b"$argon2", PASSWORD.encode()):
        assert absent not in data
    with pytest.raises(NotFoundError, match="No candidate named Nobody."):
        store.export_candidate("Nobody")


def test_deleting_a_candidate_removes_every_row_about_them_and_nothing_else(accounts: Accounts) -> None:
    ids = practise(accounts)
    store = accounts.store
    bob_before = store.attempts(candidate="Bob")
    before = counts(store)
    assert store.delete_candidate("ANA") == 3
    after = counts(store)
    gone = {name: before[name] - after[name] for name in before}
    assert gone == {
        "candidates": 1,
        "sessions": 2,
        "quickfire_rounds": 1,
        "quickfire_clocks": 1,
        "attempts": 3,
        "recordings": 2,
        "notes": 2,
        "key_point_overrides": 1,
        "users": 1,
        "coach_assignments": 1,
        "logins": 1,
        "login_failures": 1,
    }
    with store.engine.connect() as conn:
        for table in (candidates_table, users_table):
            assert conn.scalar(sa.select(sa.func.count()).where(table.c.name_key == "ana")) == 0
        assert conn.scalar(sa.select(sa.func.count()).where(notes_table.c.text.like("Ana%"))) == 0
    assert store.attempts(candidate="Bob") == bob_before and store.audio(ids["bob"]) == (
        WAV[::-1],
        "audio/wav",
    )
    for attempt_id in (ids["wav"], ids["webm"], ids["typed"]):
        with pytest.raises(NotFoundError):
            store.attempt(attempt_id)
    with pytest.raises(AuthenticationError):
        accounts.authenticate("Ana", PASSWORD)
    with pytest.raises(NotFoundError, match="No candidate named Ana."):
        store.delete_candidate("Ana")


def test_a_deletion_that_fails_part_way_deletes_nothing(accounts: Accounts) -> None:
    practise(accounts)
    store = accounts.store
    before = counts(store)

    def fail_on_the_last_step(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM CANDIDATES"):
            raise sa.exc.OperationalError(statement, {}, Exception("disk I/O error"))

    sa.event.listen(store.engine, "before_cursor_execute", fail_on_the_last_step)
    try:
        with pytest.raises(Exception, match="disk I/O error|I/O error"):
            store.delete_candidate("Ana")
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", fail_on_the_last_step)
    assert counts(store) == before
    assert len(store.attempts(candidate="Ana")) == 3


def test_deleting_a_candidate_keeps_a_coach_account_of_the_same_name(accounts: Accounts) -> None:
    accounts.add_user("Cleo", "coach", PASSWORD)
    accounts.store.add_attempt("Cleo", question(), answer_mode="typed", answer_text="a coach practising")
    assert accounts.store.delete_candidate("Cleo") == 1
    assert accounts.authenticate("Cleo", PASSWORD).role is Role.COACH


# --- an older database ----------------------------------------------------------------------------------


def test_a_database_from_before_accounts_is_upgraded_and_keeps_its_rows(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    assert migrate(engine, target=2) == 2
    with engine.begin() as conn:  # rows as the version-2 app wrote them
        conn.execute(sa.insert(candidates_table).values(id=1, name="Ana", name_key="ana", created_at=T0))
        conn.execute(sa.insert(sessions_table).values(id="s" * 32, candidate_id=1, started_at=T0))
        conn.execute(
            sa.insert(attempts_table).values(
                id=1, candidate_id=1, session_id="s" * 32, question_id="q-1", question="Why?", track="ml",
                level="basic", topic="theory", created_at=T0, answer_mode="typed", answer_text="old answer",
                status="recorded", has_audio=False,
            )
        )  # fmt: skip
    assert not sa.inspect(engine).has_table("users")
    engine.dispose()

    with open_store(empty_url) as store:
        assert schema_version(store.engine) == SCHEMA_VERSION
        accounts = Accounts(store, hasher=CHEAP)
        ana = accounts.add_user("Ana", "candidate", PASSWORD)
        accounts.add_user("Cleo", "coach", PASSWORD)
        accounts.assign("Cleo", "Ana")
        assert [a.answer_text for a in access.visible_attempts(store, ana)] == ["old answer"]
        assert access.can_open_session(store, accounts.user("Cleo"), "s" * 32)
        assert store.delete_candidate("Ana") == 1
        assert counts(store)["attempts"] == 0


# --- two processes at once ------------------------------------------------------------------------------

WRITES = 200


def _assign_and_practise(db_url: str, coach: str, start: object) -> None:
    """One app process: a coach account, then WRITES candidates assigned to it, each with an attempt."""
    with open_store(db_url) as store:
        accounts = Accounts(store, hasher=CHEAP)
        accounts.add_user(coach, "coach", PASSWORD)
        start.wait(timeout=60)  # type: ignore[attr-defined]
        for i in range(WRITES):
            name = f"Candidate {i}"  # both processes use the same names: they race to create each one
            store.add_attempt(name, question(f"q-{i % 7}"), answer_mode="typed", answer_text=f"by {coach}")
            accounts.assign(coach, name)


def test_two_processes_on_one_database_lose_nothing(empty_url: str) -> None:
    open_store(empty_url).close()  # the schema first: racing migrations have their own test
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_assign_and_practise, args=(empty_url, c, start)) for c in ("Cleo", "Dan")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    with open_store(empty_url) as store:
        assert {k: v for k, v in counts(store).items() if v} == {
            "candidates": WRITES,
            "attempts": 2 * WRITES,
            "users": 2,
            "coach_assignments": 2 * WRITES,
        }
        accounts = Accounts(store, hasher=CHEAP)
        for coach in ("Cleo", "Dan"):
            assert len(accounts.assigned(coach)) == WRITES
            answers = [a.answer_text for a in access.visible_attempts(store, accounts.user(coach))]
            assert answers.count("by Cleo") == answers.count("by Dan") == WRITES
