"""What a browser would do with a page: the data a form posts, the text a reader sees.

Tests use these to check pages as people meet them: a form posted back untouched (with the
browser's value sanitisation, which empties a date input whose value is not ``yyyy-MM-dd``)
and the visible text of a page (no scripts, styles or attributes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: What ``<input type=…>`` accepts as a value (HTML's value sanitisation algorithm); any
#: other value is posted as the empty string.
_VALID_INPUT = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "month": re.compile(r"\d{4}-\d{2}"),
    "datetime-local": re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"),
    "time": re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?"),
    "number": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?"),
}
_NOT_POSTED = {"submit", "button", "reset", "image", "file"}


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: (name, value) of the form's first named submit button: what pressing it adds.
    submit: tuple[str, str] | None = None

    def data(self) -> dict[str, list[str]]:
        """The posted fields as a ``QueryDict``-like mapping of lists, with the submit button."""
        out: dict[str, list[str]] = {}
        for name, value in [*self.fields, *([self.submit] if self.submit else [])]:
            out.setdefault(name, []).append(value)
        return out


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input":
            self._input(a)
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            if self._form.submit is None:
                self._form.submit = (a["name"], a.get("value", ""))
        elif tag == "select" and "name" in a and "disabled" not in a:
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            self._select["options"].append(self._option)
        elif tag == "textarea" and "name" in a and "disabled" not in a:
            self._textarea = {"name": a["name"], "text": ""}

    def _input(self, a):
        kind = a.get("type", "text").lower()
        name = a.get("name")
        if not name or "disabled" in a or kind in _NOT_POSTED:
            if kind in ("submit", "image") and name and self._form.submit is None:
                self._form.submit = (name, a.get("value", ""))
            return
        if kind in ("checkbox", "radio"):
            if "checked" in a:
                self._form.fields.append((name, a.get("value", "on")))
            return
        value = a.get("value", "")
        pattern = _VALID_INPUT.get(kind)
        if pattern is not None and value and not pattern.fullmatch(value):
            value = ""  # the browser refuses it and posts nothing
        self._form.fields.append((name, value))

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for o in chosen:
                value = o["value"] if o["value"] is not None else o["text"].strip()
                self._form.fields.append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the newline right after <textarea>.
            text = self._textarea["text"]
            text = text[1:] if text.startswith("\n") else text
            self._form.fields.append((self._textarea["name"], text.replace("\r\n", "\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    """Every form of the page, with what it would post if submitted untouched."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


class _TextParser(HTMLParser):
    """Skips what is not prose in the reader's language: scripts and styles, an editor's
    text (``textarea``), code (``code``: a command, a file's column names) and what the
    page marks ``translate="no"`` (a WeChat ID, a contract number)."""

    _HIDDEN = {"script", "style", "template", "noscript", "head", "title", "textarea", "code"}
    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
             "track", "wbr"}  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._untranslated: list[str] = []  # open elements marked translate="no" (or inside one)

    def handle_starttag(self, tag, attrs):
        if tag not in self._VOID and (self._untranslated or ("translate", "no") in attrs):
            self._untranslated.append(tag)
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "input":
            a = dict(attrs)
            if a.get("type") in ("submit", "button") and a.get("value"):
                self.parts.append(a["value"])
        elif tag == "img" and self._hidden == 0:
            self.parts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in self._untranslated:
            while self._untranslated and self._untranslated.pop() != tag:
                pass

    def handle_data(self, data):
        if not self._hidden and not self._untranslated:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees: no scripts, styles or attributes; one space between parts."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
