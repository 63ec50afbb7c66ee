"""Accounts for a server shared by a coaching group: users, passwords, logins that expire, coach assignments.

Logins are off unless `PRACTICE_REQUIRE_LOGIN=1` (`login_required()`, read by practice.settings): one person
on a laptop never sees a login form, and the pages act as `LOCAL_USER`, an admin, as the app always has. With
logins on, a page keeps one `Accounts` per process (like the `Store` it wraps) and, on every run:

    user = accounts.user_for_token(st.session_state.get("login"))  # None: unknown, expired or logged out
    if user is None:                                                # show the login form; on submit:
        user = accounts.authenticate(name, password)                # AuthenticationError: show str(exc)
        st.session_state["login"] = accounts.open_login(user)       # logging out: close_login(token)

then asks `practice.storage.access` what that user may see. Whoever runs the server makes the accounts
with `practice users ...` (practice/cli/users.py), which calls the same methods.

Passwords are hashed with argon2id (argon2-cffi's `PasswordHasher`, its default parameters, which follow
RFC 9106) and never stored, logged or put in a message; a login rehashes a password whose hash was made
with other parameters. A login token is shown to the browser once and only its sha256 is stored, so a copy
of the database does not let anyone in. A login ends after `LoginPolicy.idle` without use (each use moves
the end on), on `close_login`, and when the password changes or the account is removed.

Wrong passwords are counted per name in the database, so every app process on one PostgreSQL shares the
count: `max_failures` within `window` lock that name for `lockout`, even for the right password. A name
without an account is counted, hashed and refused like any other, so a refusal never tells whether a name
exists. The password is checked outside any transaction (it takes a fifth of a second), so two processes
checking one name at the same moment can each let one more guess through before the lock.

Time comes from `clock`, so tests move it instead of sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from practice.settings import login_required as login_required  # the gate in front of these logins
from practice.storage.errors import AuthenticationError, LoginLockedError, NotFoundError
from practice.storage.records import Candidate, Role, User, as_utc, clean_name, utc_now
from practice.storage.schema import (
    assignments_table,
    candidates_table,
    login_failures_table,
    logins_table,
    users_table,
)
from practice.storage.store import Store

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only stops a megabyte "password"
MAX_TOKEN_LENGTH = 200
ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Who uses the app when logins are off: the one person at the laptop, who may see and do everything.
LOCAL_USER = User(id=0, name="local", role=Role.ADMIN, created_at=datetime(1970, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class LoginPolicy:
    """How long logins last and how wrong passwords are limited."""

    max_failures: int = 5  # wrong passwords for one name within `window` ...
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)  # ... lock that name this long
    idle: timedelta = timedelta(hours=12)  # a login unused this long has ended
    touch_every: timedelta = timedelta(minutes=1)  # a login's last use is written at most this often


def role_of(value: Role | str) -> Role:
    """A Role from its name; a ValueError naming the choices otherwise."""
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise ValueError(f"Unknown role '{str(value)[:20]}' (expected one of {', '.join(ROLES)}).") from None


def check_password(password: str) -> str:
    """The password as given (spaces count); a ValueError, which never repeats it, if it cannot be used."""
    if not isinstance(password, str):
        raise ValueError("A password must be text.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"That password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"That password is too long: use at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def token_digest(token: str) -> str:
    """What the database keeps of a login token: its sha256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Users, passwords, logins and coach assignments in a Store's database. Thread-safe, like the Store.

    `hasher` defaults to argon2-cffi's `PasswordHasher()`; `clock` returns the time (aware UTC).
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        policy: LoginPolicy | None = None,
        hasher: PasswordHasher | None = None,
    ):
        self.store = store
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._hasher = hasher or PasswordHasher()

    def _now(self) -> datetime:
        return as_utc(self._clock())

    # users

    def add_user(self, name: str, role: Role | str, password: str) -> User:
        """A new account; a candidate's is tied to the candidate record of that name (made if missing)."""
        cleaned = clean_name(name)
        chosen = role_of(role)
        hashed = self._hasher.hash(check_password(password))
        u = users_table
        with self.store.transaction("save the user") as conn:
            if _user_row(conn, cleaned) is not None:
                raise ValueError(f"There is already a user named {cleaned}.")
            if chosen is Role.CANDIDATE:
                self.store._candidate(conn, cleaned)
            try:
                with conn.begin_nested():
                    conn.execute(
                        sa.insert(u).values(
                            name=cleaned,
                            name_key=cleaned.casefold(),
                            role=chosen.value,
                            password_hash=hashed,
                            created_at=self._now(),
                        )
                    )
            except sa_exc.IntegrityError:  # made by another process since the check above
                raise ValueError(f"There is already a user named {cleaned}.") from None
            return _user(_user_row(conn, cleaned))

    def user(self, name: str) -> User:
        """The user of that name (any case); NotFoundError if there is none."""
        cleaned = clean_name(name)
        with self.store.transaction("read the user", write=False) as conn:
            row = _user_row(conn, cleaned)
        if row is None:
            raise NotFoundError(f"No user named {cleaned}.")
        return _user(row)

    def users(self) -> list[User]:
        """Every user, by name."""
        u = users_table
        with self.store.transaction("read the users", write=False) as conn:
            return [_user(r) for r in conn.execute(sa.select(u).order_by(u.c.name_key))]

    def set_password(self, name: str, password: str) -> User:
        """Replace a user's password; every login they had open ends."""
        cleaned = clean_name(name)
        hashed = self._hasher.hash(check_password(password))
        u = users_table
        with self.store.transaction("change the password") as conn:
            row = _require_user(conn, cleaned)
            conn.execute(sa.update(u).where(u.c.id == row.id).values(password_hash=hashed))
            conn.execute(sa.delete(logins_table).where(logins_table.c.user_id == row.id))
            return _user(row)

    def remove_user(self, name: str) -> User:
        """Remove an account, its logins and (a coach's) assignments in one transaction.

        A candidate's attempts stay, as they were before the account: `Store.delete_candidate` removes
        those.
        """
        cleaned = clean_name(name)
        with self.store.transaction("remove the user") as conn:
            row = _require_user(conn, cleaned)
            conn.execute(sa.delete(logins_table).where(logins_table.c.user_id == row.id))
            conn.execute(sa.delete(assignments_table).where(assignments_table.c.coach_id == row.id))
            conn.execute(sa.delete(users_table).where(users_table.c.id == row.id))
            return _user(row)

    # coaches and their candidates

    def assign(self, coach: str, candidate: str) -> None:
        """Let a coach review a candidate (one who has practised or has an account); twice is once."""
        with self.store.transaction("assign the candidate") as conn:
            coach_id = _coach_id(conn, coach)
            candidate_id = _candidate_id(conn, candidate)
            a = assignments_table
            where = sa.and_(a.c.coach_id == coach_id, a.c.candidate_id == candidate_id)
            if conn.scalar(sa.select(sa.func.count()).select_from(a).where(where)):
                return
            try:
                with conn.begin_nested():
                    conn.execute(
                        sa.insert(a).values(
                            coach_id=coach_id, candidate_id=candidate_id, created_at=self._now()
                        )
                    )
            except sa_exc.IntegrityError:
                pass  # assigned by another process at the same moment

    def unassign(self, coach: str, candidate: str) -> None:
        """The coach no longer reviews that candidate; nothing happens if they did not."""
        with self.store.transaction("unassign the candidate") as conn:
            coach_id = _coach_id(conn, coach)
            candidate_id = _candidate_id(conn, candidate)
            a = assignments_table
            conn.execute(sa.delete(a).where(a.c.coach_id == coach_id, a.c.candidate_id == candidate_id))

    def assigned(self, coach: str) -> list[Candidate]:
        """The candidates a coach reviews, by name."""
        c, a = candidates_table, assignments_table
        with self.store.transaction("read the assignments", write=False) as conn:
            coach_id = _coach_id(conn, coach)
            rows = conn.execute(
                sa.select(c)
                .join(a, a.c.candidate_id == c.c.id)
                .where(a.c.coach_id == coach_id)
                .order_by(c.c.name_key)
            ).all()
        return [Candidate(r.id, r.name, r.created_at) for r in rows]

    def coaches_of(self, candidate: str) -> list[User]:
        """The coaches who review a candidate, by name (none for an unknown name)."""
        u, a, c = users_table, assignments_table, candidates_table
        key = clean_name(candidate).casefold()
        with self.store.transaction("read the assignments", write=False) as conn:
            rows = conn.execute(
                sa.select(u)
                .join(a, a.c.coach_id == u.c.id)
                .join(c, c.c.id == a.c.candidate_id)
                .where(c.c.name_key == key)
                .order_by(u.c.name_key)
            ).all()
        return [_user(r) for r in rows]

    # logging in

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password is theirs; else AuthenticationError ("Wrong name or password.").

        LoginLockedError (an AuthenticationError, saying when to try again) once a name has had too many
        wrong passwords, whether or not it has an account.
        """
        try:
            key = clean_name(name).casefold()
        except ValueError:
            raise AuthenticationError() from None
        now = self._now()
        with self.store.transaction("check the login", write=False) as conn:
            locked_until = self._locked_until(conn, key, now)
            row = conn.execute(sa.select(users_table).where(users_table.c.name_key == key)).first()
        if locked_until is not None:
            raise LoginLockedError(locked_until, now)
        if row is None or not self._verify(row.password_hash, password):
            if row is None:
                self._verify(self._decoy_hash, password)  # as slow as a real check: names stay unknown
            with self.store.transaction("record the failed login") as conn:
                f = login_failures_table
                conn.execute(sa.insert(f).values(name_key=key, failed_at=now))
                conn.execute(
                    sa.delete(f).where(f.c.name_key == key, f.c.failed_at < now - self.policy.window)
                )
                locked_until = self._locked_until(conn, key, now)
            if locked_until is not None:
                raise LoginLockedError(locked_until, now)
            raise AuthenticationError()
        rehashed = self._hasher.hash(password) if self._hasher.check_needs_rehash(row.password_hash) else None
        with self.store.transaction("finish the login") as conn:
            conn.execute(sa.delete(login_failures_table).where(login_failures_table.c.name_key == key))
            if rehashed is not None:  # unless the password changed meanwhile
                u = users_table
                conn.execute(
                    sa.update(u)
                    .where(u.c.id == row.id, u.c.password_hash == row.password_hash)
                    .values(password_hash=rehashed)
                )
        return _user(row)

    def open_login(self, user: User) -> str:
        """A new login for `user`: the token to keep in the browser session (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        lg = logins_table
        with self.store.transaction("log in") as conn:
            row = conn.execute(sa.select(users_table).where(users_table.c.id == user.id)).first()
            if row is None or row.name_key != user.name.casefold():
                raise NotFoundError(f"No user named {user.name}.")
            conn.execute(sa.delete(lg).where(lg.c.last_seen_at <= now - self.policy.idle))  # ended ones
            conn.execute(
                sa.insert(lg).values(
                    token_hash=token_digest(token), user_id=row.id, created_at=now, last_seen_at=now
                )
            )
        return token

    def user_for_token(self, token: Any) -> User | None:
        """The user a login token belongs to, as the account is now; None if unknown, ended or expired."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            return None
        digest = token_digest(token)
        now = self._now()
        lg, u = logins_table, users_table
        with self.store.transaction("check the login", write=False) as conn:
            row = conn.execute(
                sa.select(u, lg.c.last_seen_at)
                .join(lg, lg.c.user_id == u.c.id)
                .where(lg.c.token_hash == digest)
            ).first()
        if row is None:
            return None
        idle = now - row.last_seen_at
        if idle >= self.policy.idle:
            self.close_login(token)
            return None
        if idle >= self.policy.touch_every:
            with self.store.transaction("keep the login") as conn:
                conn.execute(sa.update(lg).where(lg.c.token_hash == digest).values(last_seen_at=now))
        return _user(row)

    def close_login(self, token: Any) -> None:
        """Log out: that token no longer opens anything (an unknown one is ignored)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            return
        with self.store.transaction("log out") as conn:
            conn.execute(sa.delete(logins_table).where(logins_table.c.token_hash == token_digest(token)))

    # helpers

    def _verify(self, stored: str, password: Any) -> bool:
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _decoy_hash(self) -> str:
        """A hash no password matches, checked for names without an account so they take as long."""
        return self._hasher.hash(secrets.token_urlsafe(32))

    def _locked_until(self, conn: Connection, key: str, now: datetime) -> datetime | None:
        """When a name's lock ends, if `max_failures` wrong passwords within `window` have locked it."""
        f, p = login_failures_table, self.policy
        recent: Sequence[datetime] = conn.scalars(
            sa.select(f.c.failed_at)
            .where(f.c.name_key == key)
            .order_by(f.c.failed_at.desc())
            .limit(p.max_failures)
        ).all()
        if len(recent) < p.max_failures or recent[0] - recent[-1] >= p.window:
            return None
        until = recent[0] + p.lockout
        return until if now < until else None


def _user(row: Any) -> User:
    return User(row.id, row.name, Role(row.role), row.created_at)


def _user_row(conn: Connection, cleaned: str) -> Any:
    return conn.execute(sa.select(users_table).where(users_table.c.name_key == cleaned.casefold())).first()


def _require_user(conn: Connection, cleaned: str) -> Any:
    row = _user_row(conn, cleaned)
    if row is None:
        raise NotFoundError(f"No user named {cleaned}.")
    return row


def _coach_id(conn: Connection, name: str) -> int:
    row = _require_user(conn, clean_name(name))
    if row.role != Role.COACH:
        raise ValueError(f"{row.name} is a{'n' * (row.role == Role.ADMIN)} {row.role}, not a coach.")
    return int(row.id)


def _candidate_id(conn: Connection, name: str) -> int:
    cleaned = clean_name(name)
    c = candidates_table
    found = conn.scalar(sa.select(c.c.id).where(c.c.name_key == cleaned.casefold()))
    if found is None:
        raise NotFoundError(f"No candidate named {cleaned}: add them with --role candidate first.")
    return int(found)
