"""The sensitive-word list in force: staff's saved list (the `sensitive_words` row) or, when
there is none, the shipped defaults. Saving bumps the knowledge-base version in the same
transaction, so every replica reloads it (`Assistant.refresh`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from bot.audit import AuditLog
from bot.errors import ConflictError, InvalidInputError
from bot.records import Database, advisory_lock, bump_kb_version, upsert
from bot.records.models import sensitive_words
from bot.safety.words import ALLOW_PREFIX, MAX_WORD_CHARS, SensitiveWords, default_words, fold_word

log = logging.getLogger(__name__)

MAX_WORDS = 10_000
AUDIT_NAMED = 20  # words named in an audit entry's detail; the rest are counted


@dataclass(frozen=True)
class WordList:
    """The list as stored: `default` when no staff list is saved (version 0)."""

    words: tuple[str, ...]
    version: int = 0
    updated_by: str = ""
    updated_at: float | None = None

    @property
    def default(self) -> bool:
        return self.version == 0

    def public(self) -> dict[str, object]:
        return {
            "words": list(self.words),
            "count": len(self.words),
            "version": self.version,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
            "default": self.default,
        }


def clean(words: list[str]) -> list[str]:
    """Staff's words, checked: stripped, 1–50 characters, something left after folding,
    duplicates (also as folded: 賭博 and 赌博) dropped; at most 10,000. Raises
    `InvalidInputError` naming the first bad line."""
    out: list[str] = []
    seen: set[str] = set()
    for n, raw in enumerate(words, start=1):
        word = raw.strip()
        if not word:
            continue  # blank lines of the textarea
        if len(word) > MAX_WORD_CHARS:
            raise InvalidInputError(
                f"word {n} is longer than {MAX_WORD_CHARS} characters",
                message_zh=f"第 {n} 个词超过 {MAX_WORD_CHARS} 个字符",
            )
        allowed = word.startswith(ALLOW_PREFIX)
        folded = fold_word(word[1:] if allowed else word)
        if not folded:
            raise InvalidInputError(
                f"word {n} ({word!r}) has no letter or digit left to match",
                message_zh=f"第 {n} 个词（{word}）只有空格或符号，无法匹配",
            )
        key = ("!" if allowed else "") + folded
        if key not in seen:
            seen.add(key)
            out.append(word)
    if len(out) > MAX_WORDS:
        raise InvalidInputError(
            f"at most {MAX_WORDS} words ({len(out)} given)",
            message_zh=f"敏感词最多 {MAX_WORDS} 个（提交了 {len(out)} 个）",
        )
    return out


class SensitiveWordBook:
    """The list in force and its matcher; `matcher` is swapped whole on every change."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.audit = AuditLog(database)
        self._lock = threading.Lock()
        self._defaults = tuple(default_words())
        self.list = WordList(self._defaults)
        self.matcher = SensitiveWords(self._defaults)
        self.reload()

    def _read(self) -> WordList:
        with self.database.read() as conn:
            return self._read_in(conn)

    def reload(self) -> None:
        """Read the stored list; rebuild the matcher only when it changed."""
        stored = self._read()
        self._use(stored)

    def _use(self, stored: WordList) -> None:
        with self._lock:
            if stored == self.list:
                return
            matcher = SensitiveWords(stored.words)  # built before the swap: checks go on
            self.list, self.matcher = stored, matcher
        log.info("sensitive words: %d in force (version %d)", matcher.count, stored.version)

    def save(self, words: list[str], user: str, base_version: int | None = None) -> WordList:
        """Replace the list (checked by `clean`); audited; every replica follows."""
        words = clean(words)
        with self.database.transaction() as conn:
            advisory_lock(conn, "sensitive_words")  # two saves at once: one after the other
            old = self._read_in(conn)
            if base_version is not None and base_version != old.version:
                raise ConflictError(
                    f"the list was changed by {old.updated_by or 'someone'} since version "
                    f"{base_version}; reload it",
                    message_zh=f"敏感词清单已被 {old.updated_by or '他人'} 修改，请刷新后再保存",
                )
            new = WordList(tuple(words), old.version + 1, user, time.time())
            row = {
                "id": 1,
                "words": "\n".join(words),
                "version": new.version,
                "updated_by": user,
                "updated_at": new.updated_at,
            }
            upsert(conn, sensitive_words, row, ["id"])
            bump_kb_version(conn)
            self.audit.write(
                conn,
                user,
                "sensitive_words_update",
                "sensitive_words",
                old.version,
                new.version,
                _changes(old.words, new.words),
            )
        self._use(new)
        return new

    def restore_defaults(self, user: str) -> WordList:
        """Back to the shipped list (staff's saved list is removed); audited."""
        with self.database.transaction() as conn:
            advisory_lock(conn, "sensitive_words")  # two saves at once: one after the other
            old = self._read_in(conn)
            conn.execute(delete(sensitive_words).where(sensitive_words.c.id == 1))
            bump_kb_version(conn)
            self.audit.write(
                conn,
                user,
                "sensitive_words_reset",
                "sensitive_words",
                old.version,
                0,
                _changes(old.words, self._defaults),
            )
        new = WordList(self._defaults)
        self._use(new)
        return new

    def _read_in(self, conn: Connection) -> WordList:
        row = conn.execute(select(sensitive_words).where(sensitive_words.c.id == 1)).first()
        if row is None:
            return WordList(self._defaults)
        return WordList(
            tuple(w for w in row.words.splitlines() if w.strip()),
            row.version,
            row.updated_by,
            row.updated_at,
        )


def _changes(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """'added 2, removed 1: +赌球 +百家乐 -博彩' (the first words of each, for the audit log)."""
    before, after = set(old), set(new)
    added = [w for w in new if w not in before]
    removed = [w for w in old if w not in after]
    named = [f"+{w}" for w in added[:AUDIT_NAMED]] + [f"-{w}" for w in removed[:AUDIT_NAMED]]
    more = len(added) + len(removed) - len(named)
    return f"added {len(added)}, removed {len(removed)}" + (
        ": " + " ".join(named) + (f" …(+{more})" if more > 0 else "") if named else ""
    )
