"""The client search index on SQLite: FTS5 tables kept in step by triggers.

PostgreSQL serves the search with pg_trgm and the ``fincrm_bigrams`` expression index
(migrations 0005, 0006); SQLite has neither, and its ``LIKE '%…%'`` scans the table. Here two
FTS5 tables hold one row per client (``rowid`` = the client's id):

- ``customers_search`` (trigram tokenizer): the name, with an end mark (``\x03``) appended.
  The trigram tokenizer indexes every run of three characters, so a phrase of three or more
  characters is a substring match. A phrase of two characters has no trigram: a
  two-character name (most Chinese personal names) is looked up through the index's
  vocabulary (``customers_search_terms``, ``fts5vocab``), where every trigram beginning with
  the pair is one contiguous range — and the end mark makes every pair of the name begin one,
  even its last two characters. The trigrams found are then matched as usual
  (``name : ("唐桂芳" OR "唐桂\x03" …)``): SQLite's answer to PostgreSQL's ``fincrm_bigrams``.
- ``customers_search_codes`` (unicode61, phone punctuation kept inside tokens): the credit
  code, the ID number and the phones (the client's and every contact's, spaces removed), each
  value one token. A token prefix (``"9132" *``) is "starts with", a bare token is "equals":
  one lookup in the index's sorted terms (a trigram phrase over digits would intersect the
  long lists of "913", "132" …).

Triggers (migration 0010) keep both in step with every write to clients and contacts, whatever
writes them (the ORM, the importer's multi-row inserts, the demo loader, a SQL shell: the
triggers call no application function). ``fincrm rebuild-search`` rebuilds them whole.

Needs SQLite 3.34 or later (the trigram tokenizer); Python 3.11's sqlite3 on Debian 12 links
3.40.1. Without it the migration leaves the tables out and the search scans, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

NAMES = "customers_search"
TERMS = "customers_search_terms"
CODES = "customers_search_codes"
END = "\x03"
#: Characters a phone or code keeps inside its token (unicode61 splits on the others).
TOKEN_PUNCTUATION = "-+().#/"

_NO_SPACE = "replace(replace({}, ' ', ''), char(9), '')"
#: One client's phones (its own and its contacts'), spaces removed, one token each.
_PHONES = (
    "(SELECT trim(" + _NO_SPACE.format("c.phone") + " || ' ' || coalesce((SELECT group_concat("
    + _NO_SPACE.format("t.phone") + ", ' ') FROM customers_contact t"
    " WHERE t.customer_id = c.id AND t.phone <> ''), ''))"
    " FROM customers_customer c WHERE c.id = {id})"
)  # fmt: skip
_NAME_ROW = f"INSERT INTO {NAMES} (rowid, name) SELECT {{c}}.id, {{c}}.name || char(3)"
_CODES_ROW = (
    f"INSERT INTO {CODES} (rowid, credit_code, id_number, phones) SELECT {{c}}.id,"
    " coalesce({c}.credit_code, ''), coalesce({c}.id_number, ''), " + _PHONES
)


def _rows_of(c: str, id_: str) -> list[str]:
    return [_NAME_ROW.format(c=c), _CODES_ROW.format(c=c, id=id_)]


def _set_phones(id_: str) -> str:
    return f"UPDATE {CODES} SET phones = {_PHONES.format(id=id_)} WHERE rowid = {id_};"


_NEW = ";\n".join(_rows_of("NEW", "NEW.id")) + ";"
_FORGET = f"DELETE FROM {NAMES} WHERE rowid = OLD.id; DELETE FROM {CODES} WHERE rowid = OLD.id;"

_INSERT_TRIGGER = f"""CREATE TRIGGER IF NOT EXISTS customers_search_insert
    AFTER INSERT ON customers_customer BEGIN
        {_NEW}
    END"""

CREATE = [
    f"CREATE VIRTUAL TABLE {NAMES} USING fts5(name, tokenize = 'trigram')",
    f"CREATE VIRTUAL TABLE {TERMS} USING fts5vocab({NAMES}, 'row')",
    f"CREATE VIRTUAL TABLE {CODES} USING fts5(credit_code, id_number, phones,"
    f" tokenize = \"unicode61 tokenchars '{TOKEN_PUNCTUATION}'\")",
    _INSERT_TRIGGER,
    f"""CREATE TRIGGER customers_search_update
    AFTER UPDATE OF id, name, credit_code, id_number, phone ON customers_customer BEGIN
        {_FORGET}
        {_NEW}
    END""",
    f"""CREATE TRIGGER customers_search_delete AFTER DELETE ON customers_customer BEGIN
        {_FORGET}
    END""",
    f"""CREATE TRIGGER customers_search_contact_insert AFTER INSERT ON customers_contact BEGIN
        {_set_phones("NEW.customer_id")}
    END""",
    f"""CREATE TRIGGER customers_search_contact_update
    AFTER UPDATE OF phone, customer_id ON customers_contact BEGIN
        {_set_phones("OLD.customer_id")}
        {_set_phones("NEW.customer_id")}
    END""",
    f"""CREATE TRIGGER customers_search_contact_delete AFTER DELETE ON customers_contact BEGIN
        {_set_phones("OLD.customer_id")}
    END""",
]
TRIGGERS = (
    "customers_search_insert",
    "customers_search_update",
    "customers_search_delete",
    "customers_search_contact_insert",
    "customers_search_contact_update",
    "customers_search_contact_delete",
)
DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS] + [
    f"DROP TABLE IF EXISTS {table}" for table in (TERMS, NAMES, CODES)
]

#: Databases (by name) known to hold the index; a missing one is asked again next time.
_present: set[str] = set()


def supported(connection: BaseDatabaseWrapper) -> bool:
    """Whether this database can hold the index: SQLite with FTS5's trigram tokenizer."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE VIRTUAL TABLE temp.fincrm_probe USING fts5(x, tokenize=trigram)")
        except Exception:
            return False
        cursor.execute("DROP TABLE temp.fincrm_probe")
    return True


def present(connection: BaseDatabaseWrapper) -> bool:
    """Whether the index exists here (SQLite, migrated, FTS5 with trigrams available)."""
    if connection.vendor != "sqlite":
        return False
    key = str(connection.settings_dict["NAME"])
    if key in _present:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [CODES])
        if cursor.fetchone() is None:
            return False
    _present.add(key)
    return True


def create(connection: BaseDatabaseWrapper) -> int | None:
    """Create the tables, the vocabulary and the triggers, and fill them: the number of
    clients indexed, or None (nothing done) where the database cannot hold them."""
    if not supported(connection):
        return None
    with connection.cursor() as cursor:
        for statement in DROP + CREATE:
            cursor.execute(statement)
    return rebuild(connection)


def drop(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for statement in DROP:
            cursor.execute(statement)
    _present.discard(str(connection.settings_dict["NAME"]))


def rebuild(connection: BaseDatabaseWrapper) -> int:
    """Refill the index from the clients and contacts; the number of clients indexed."""
    with connection.cursor() as cursor:
        for table in (NAMES, CODES):
            cursor.execute(f"DELETE FROM {table}")
        for statement in _rows_of("c0", "c0.id"):
            cursor.execute(f"{statement} FROM customers_customer c0")
        for table in (NAMES, CODES):
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
        cursor.execute(f"SELECT count(*) FROM {NAMES}")
        return cursor.fetchone()[0]


@contextmanager
def indexed_after(connection: BaseDatabaseWrapper, first_id: int, last_id: int) -> Iterator[None]:
    """Clients inserted inside, with ids from ``first_id`` to ``last_id``, are indexed once,
    together, at the end (one ``INSERT … SELECT`` per table: ~15 µs a client where the row
    trigger costs 70–140 µs). The insert trigger is dropped meanwhile — inside the caller's
    transaction only: SQLite lets no other writer in until it ends, and a rollback brings
    the trigger back with everything else. Outside a transaction nothing is deferred."""
    if not connection.in_atomic_block or not present(connection):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS customers_search_insert")
    try:
        yield
        with connection.cursor() as cursor:
            for statement in _rows_of("c0", "c0.id"):
                cursor.execute(
                    f"{statement} FROM customers_customer c0 WHERE c0.id BETWEEN %s AND %s",
                    [first_id, last_id],
                )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_TRIGGER)


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _pair_phrases(connection: BaseDatabaseWrapper, pair: str) -> list[str]:
    """Every indexed trigram of the names that begins with ``pair`` (case folded as the
    tokenizer folds it): a range of the vocabulary."""
    low = pair.lower()
    high = low[:-1] + chr(ord(low[-1]) + 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term FROM {TERMS} WHERE term >= %s AND term < %s", [low, high])
        return [_phrase(term) for (term,) in cursor.fetchall()]


def _one_token(value: str) -> bool:
    return all(ch.isalnum() or ch in TOKEN_PUNCTUATION for ch in value)


def match_queries(connection: BaseDatabaseWrapper, value: str, *, may_see_pii: bool):
    """The FTS5 queries (names, codes) for a search of ``value`` (two characters or more);
    ``None`` for a table with nothing to look for. Name: contains; credit code: starts
    with; ID number and phones: start with for roles that see them unmasked, equal the full
    value for the others (a prefix, one digit at a time, would unmask them)."""
    value = value.replace(END, "")
    if not value:
        return None, None
    names = [_phrase(value)] if len(value) >= 3 else _pair_phrases(connection, value)
    names_query = f"name : ({' OR '.join(names)})" if names else None
    token = "".join(value.split())
    if not token or not any(ch.isascii() and ch.isalnum() for ch in token):
        return names_query, None  # codes and phones are ASCII digits and letters
    code = _phrase(token.upper()) + " *"
    if may_see_pii:
        personal = [f"id_number : {code}", f"phones : {_phrase(token)} *"]
    elif _one_token(token):  # the full value: a token of its own, no prefix of a longer one
        personal = [f"id_number : {_phrase(token.upper())}", f"phones : {_phrase(token)}"]
    else:
        personal = []
    return names_query, " OR ".join([f"credit_code : {code}", *personal])


def matching_ids(connection: BaseDatabaseWrapper, value: str, *, may_see_pii: bool):
    """(SQL, params) of a subquery of the ids of the clients a search for ``value`` finds."""
    names, codes = match_queries(connection, value, may_see_pii=may_see_pii)
    arms, params = [], []
    for table, query in ((NAMES, names), (CODES, codes)):
        if query is not None:
            arms.append(f"SELECT rowid FROM {table} WHERE {table} MATCH %s")
            params.append(query)
    if not arms:
        return "SELECT NULL WHERE 0", ()
    return " UNION ALL ".join(arms), tuple(params)
