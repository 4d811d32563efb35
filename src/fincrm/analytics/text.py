"""Chinese text for complaints and free-text survey answers: keywords, sentiment, categories.

Pure Python plus jieba and scikit-learn, no Django. jieba is loaded on first use (building its
dictionary takes about a second) and kept quiet.

* :func:`keywords` — TF-IDF keywords with jieba's bundled IDF table.
* :func:`sentiment` — a *lexicon* method: it counts the positive and negative words of
  :data:`POSITIVE_WORDS` and :data:`NEGATIVE_WORDS` in the text, flipping a word preceded by a
  negation (不, 没有, 没, 未, 不太… / not, no, never…). It is transparent and needs no training
  data, but it cannot read sarcasm, context or words outside the lexicon.
* :class:`ComplaintCategoriser` — keyword rules (:data:`CATEGORY_RULES`), optionally backed by
  a TF-IDF + logistic-regression model trained on the complaints staff have already labelled.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

__all__ = [
    "CATEGORY_RULES",
    "ComplaintCategoriser",
    "Sentiment",
    "Suggestion",
    "keywords",
    "sentiment",
    "tokenise",
]


def gettext_noop(text: str) -> str:
    """Mark ``text`` for the translation catalogue without importing Django."""
    return text


BAD_TOP = "top must be a positive whole number"
BAD_TRAINING = "texts and labels must have the same length"
UNKNOWN_LABEL = "labels must be categories of the rules"
BAD_CATEGORISER = "min_examples must be at least 2 and min_confidence within 0..1"

# --------------------------------------------------------------------------------------------
# jieba, loaded lazily
# --------------------------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_module: ModuleType | None = None


def _jieba() -> ModuleType:
    """Import and initialise jieba once, with its logging silenced."""
    global _jieba_module
    if _jieba_module is None:
        with _jieba_lock:
            if _jieba_module is None:
                import jieba
                import jieba.analyse

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_module = jieba
    return _jieba_module


_WORD = re.compile(r"\w", re.UNICODE)


def tokenise(text: str) -> list[str]:
    """jieba words of ``text``, lower-cased, without whitespace and punctuation."""
    return [t.lower() for t in _jieba().lcut(text or "") if _WORD.search(t)]


def keywords(text: str, *, top: int = 5) -> list[str]:
    """The ``top`` keywords of ``text`` by TF-IDF (jieba's IDF table), strongest first.

    Single characters and jieba's stop words are left out; empty text gives ``[]``.

    Raises
    ------
    ValueError
        :data:`BAD_TOP` when ``top`` is not a positive whole number.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"{BAD_TOP} (got {top!r})")
    if not text or not text.strip():
        return []
    return list(_jieba().analyse.extract_tags(text, topK=top))


# --------------------------------------------------------------------------------------------
# sentiment (lexicon method)
# --------------------------------------------------------------------------------------------

POSITIVE_WORDS: tuple[str, ...] = (
    "满意", "及时", "专业", "感谢", "谢谢", "方便", "不错", "很好", "非常好", "高效", "快捷",
    "耐心", "热情", "周到", "贴心", "顺利", "靠谱", "好评", "点赞", "认可", "放心", "省心",
    "satisfied", "happy", "helpful", "professional", "thanks", "thank you", "convenient",
    "fast", "quick", "efficient", "great", "excellent", "good", "patient", "friendly",
)  # fmt: skip
NEGATIVE_WORDS: tuple[str, ...] = (
    "不满", "不满意", "太慢", "很慢", "投诉", "态度差", "服务差", "拖延", "失望", "收费高",
    "乱收费", "不耐烦", "敷衍", "推诿", "麻烦", "差评", "糟糕", "生气", "欺骗", "误导", "骚扰",
    "不合理", "unhappy", "dissatisfied", "slow", "complaint", "complain", "rude",
    "delay", "delayed", "disappointed", "expensive", "bad", "terrible", "poor",
)  # fmt: skip
_CHINESE_NEGATION = re.compile(r"(?:不|没有|没|未|无|并非|不是)(?:太|很|够|是|算|怎么|那么|大)?$")
_ENGLISH_NEGATION = re.compile(
    r"\b(?:not|no|never|hardly|isn't|wasn't|aren't|don't|didn't|doesn't)\s+"
    r"(?:(?:very|so|too|really|that|quite)\s+)?$"
)


def _lexicon_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """One alternation, longest words first; ASCII words only match as whole words."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        parts.append(rf"(?<![a-z]){escaped}(?![a-z])" if word.isascii() else escaped)
    return re.compile("|".join(parts))


_POLARITY = {**{w: 1 for w in POSITIVE_WORDS}, **{w: -1 for w in NEGATIVE_WORDS}}
_LEXICON = _lexicon_pattern(list(_POLARITY))


@dataclass(frozen=True)
class Sentiment:
    """A lexicon sentiment: ``score`` in −1..1 and the phrases that produced it.

    ``score = (positives − negatives) / (positives + negatives)`` (0 without any lexicon word);
    ``label`` is ``"positive"`` above 0, ``"negative"`` below 0, ``"neutral"`` at 0. The
    phrases include their negation (``"不太满意"`` is listed under ``negative``).
    """

    label: Literal["positive", "negative", "neutral"]
    score: float
    positive: tuple[str, ...]
    negative: tuple[str, ...]


def sentiment(text: str) -> Sentiment:
    """Lexicon sentiment of a Chinese or English text (see the module docstring).

    Each lexicon word counts +1 (positive) or −1 (negative); a word directly preceded by a
    negation — optionally with one degree word between, as in 不太满意 or "not very helpful" —
    counts with the opposite sign.
    """
    lowered = (text or "").lower()
    positive: list[str] = []
    negative: list[str] = []
    for match in _LEXICON.finditer(lowered):
        polarity = _POLARITY[match.group()]
        before = lowered[: match.start()]
        negation = _CHINESE_NEGATION.search(before) or _ENGLISH_NEGATION.search(before)
        phrase = match.group()
        if negation:
            polarity = -polarity
            phrase = negation.group() + phrase
        (positive if polarity > 0 else negative).append(phrase)
    total = len(positive) + len(negative)
    score = (len(positive) - len(negative)) / total if total else 0.0
    label: Literal["positive", "negative", "neutral"] = (
        "positive" if score > 0 else "negative" if score < 0 else "neutral"
    )
    return Sentiment(label, score, tuple(positive), tuple(negative))


# --------------------------------------------------------------------------------------------
# complaint categories
# --------------------------------------------------------------------------------------------

#: Category → keywords. A complaint goes to the category with the most keyword occurrences
#: (earlier categories win ties); without any it is ``"other"``. ASCII keywords match any case.
CATEGORY_RULES: dict[str, tuple[str, ...]] = {
    "fees": ("收费", "手续费", "利率", "利息", "费用"),
    "service_attitude": ("态度", "服务差", "不耐烦"),
    "processing_speed": ("太慢", "审批", "放款慢", "拖延", "进度"),
    "repayment": ("还款", "扣款", "逾期", "罚息"),
    "documents": ("材料", "资料", "合同", "发票"),
    "system": ("系统", "app", "登录", "网页", "小程序"),
    "other": (),
}
OTHER = "other"

#: Category code → English label for the UI.
CATEGORY_LABELS: dict[str, str] = {
    "fees": gettext_noop("Fees and interest"),
    "service_attitude": gettext_noop("Service attitude"),
    "processing_speed": gettext_noop("Processing speed"),
    "repayment": gettext_noop("Repayment"),
    "documents": gettext_noop("Documents"),
    "system": gettext_noop("Systems and apps"),
    "other": gettext_noop("Other"),
}


@dataclass(frozen=True)
class Suggestion:
    """A suggested complaint category with its evidence.

    ``source`` is ``"model"`` when the trained classifier was confident enough, else
    ``"rules"``. ``confidence`` is the model's probability, or for rules the share of all
    keyword hits that belong to the category (0 for ``"other"`` without hits). ``keywords``
    are the matched rule keywords, or the words that pushed the model most towards the category.
    """

    category: str
    confidence: float
    source: Literal["model", "rules"]
    keywords: tuple[str, ...]


class ComplaintCategoriser:
    """Suggest a complaint category: keyword rules, backed by a model once there are examples.

    Unlike a scikit-learn estimator this works unfitted (rules only). :meth:`fit` trains a
    TF-IDF (over jieba words) + logistic-regression model when it gets at least
    ``min_examples`` labelled, non-empty texts in at least two categories; with fewer it stays
    rule-only. :meth:`suggest` uses the model when the text has words the model has seen and its
    top probability is at least ``min_confidence``, and falls back to the rules otherwise.

    Parameters
    ----------
    rules
        Category → keywords; defaults to :data:`CATEGORY_RULES`. Must include ``"other"``.
    min_examples
        Fewest labelled texts worth training a model on.
    min_confidence
        Lowest model probability (0–1) that beats the rules.

    Attributes
    ----------
    model_ : sklearn.pipeline.Pipeline or None
        The trained model, ``None`` when there were too few examples. Set by :meth:`fit`.
    n_examples_ : int
        Usable labelled texts seen by :meth:`fit`.
    """

    def __init__(
        self,
        rules: Mapping[str, Sequence[str]] | None = None,
        *,
        min_examples: int = 20,
        min_confidence: float = 0.6,
    ) -> None:
        self.rules = rules
        self.min_examples = min_examples
        self.min_confidence = min_confidence

    # -- rules ---------------------------------------------------------------------------------

    def _rules(self) -> dict[str, tuple[str, ...]]:
        rules = CATEGORY_RULES if self.rules is None else self.rules
        return {category: tuple(words) for category, words in rules.items()}

    def rule_suggestion(self, text: str) -> Suggestion:
        """The rules' category for ``text`` (see :data:`CATEGORY_RULES`)."""
        lowered = (text or "").lower()
        hits: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for category, words in self._rules().items():
            found = [w for w in words if w.lower() in lowered]
            if found:
                hits[category] = found
                counts[category] = sum(lowered.count(w.lower()) for w in found)
        if not counts:
            return Suggestion(OTHER, 0.0, "rules", ())
        best = max(counts, key=lambda c: counts[c])  # first maximum: rule order breaks ties
        return Suggestion(best, counts[best] / sum(counts.values()), "rules", tuple(hits[best]))

    # -- model ---------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> ComplaintCategoriser:
        """Train the model on labelled complaints, or stay rule-only when there are too few.

        Texts without a label (``None``) or without any word are skipped.

        Raises
        ------
        ValueError
            :data:`BAD_TRAINING`, :data:`UNKNOWN_LABEL` or :data:`BAD_CATEGORISER`.
        """
        if not (isinstance(self.min_examples, int) and self.min_examples >= 2) or not (
            0 <= self.min_confidence <= 1
        ):
            raise ValueError(
                f"{BAD_CATEGORISER} (got min_examples={self.min_examples!r}, "
                f"min_confidence={self.min_confidence!r})"
            )
        texts, labels = list(texts), list(labels)
        if len(texts) != len(labels):
            raise ValueError(f"{BAD_TRAINING} ({len(texts)} texts, {len(labels)} labels)")
        rules = self._rules()
        if OTHER not in rules:
            raise ValueError(f"{UNKNOWN_LABEL}: the rules need an {OTHER!r} category")
        unknown = sorted({label for label in labels if label is not None} - set(rules))
        if unknown:
            raise ValueError(f"{UNKNOWN_LABEL} {sorted(rules)} (got {unknown})")
        pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y is not None and t]
        pairs = [(t, y) for t, y in pairs if tokenise(t)]
        self.n_examples_ = len(pairs)
        self.model_: Any = None
        if self.n_examples_ >= self.min_examples and len({y for _, y in pairs}) >= 2:
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline

            model = make_pipeline(
                TfidfVectorizer(tokenizer=tokenise, token_pattern=None, lowercase=False),
                LogisticRegression(max_iter=1000),
            )
            model.fit([t for t, _ in pairs], [y for _, y in pairs])
            self.model_ = model
        return self

    def _model_suggestion(self, text: str) -> Suggestion | None:
        model = getattr(self, "model_", None)
        if model is None or not tokenise(text):
            return None
        vectoriser, classifier = model[0], model[-1]
        features = vectoriser.transform([text])
        if features.nnz == 0:  # no word the model has seen: its guess would be the prior
            return None
        proba = classifier.predict_proba(features)[0]
        best = int(np.argmax(proba))
        if proba[best] < self.min_confidence:
            return None
        coef = classifier.coef_
        weights = (coef[0] if best == 1 else -coef[0]) if coef.shape[0] == 1 else coef[best]
        row = features.tocoo()
        contributions = sorted(
            ((value * weights[j], j) for j, value in zip(row.col, row.data, strict=True)),
            reverse=True,
        )
        vocabulary = vectoriser.get_feature_names_out()
        words = tuple(str(vocabulary[j]) for c, j in contributions[:5] if c > 0)
        return Suggestion(str(classifier.classes_[best]), float(proba[best]), "model", words)

    def suggest(self, text: str) -> Suggestion:
        """The suggested category of ``text``: the model when confident, else the rules."""
        return self._model_suggestion(text) or self.rule_suggestion(text)
