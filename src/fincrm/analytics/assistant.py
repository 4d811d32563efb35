"""What a client's question in the portal asks for (issue 24, point 9; seeds 000 and 002).

Pure Python plus jieba, no Django, no external model: a question is either

* an **intent** about the client's own data — the next instalment, what is overdue, which
  documents are missing, points and what they buy, where an application stands — recognised by
  weighted cues (a cue is a phrase found in the question; an intent needs
  :data:`INTENT_THRESHOLD` points, so "还款" alone is not yet "when is my next instalment"), or
* the best **FAQ entry**, ranked by Okapi BM25 over jieba words of each entry's question and
  keywords (:func:`faq_rank`), among the entries that contain at least
  :data:`FAQ_MIN_COVERAGE` of the question's content words (:func:`content_words`; BM25 alone
  has no absolute scale: on a base of five entries every word's IDF is small), or
* **nothing**: the portal offers to hand the question to a person.

An intent wins over the FAQ when both match: the client's own figures answer better than a
general text. Chinese cues are matched as substrings (jieba splits "下一期" differently in
different sentences); English cues as whole words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .text import tokenise

NEXT_INSTALMENT = "next_instalment"
OVERDUE = "overdue"
MISSING_DOCUMENTS = "missing_documents"
POINTS = "points"
APPLICATION = "application"

#: An intent needs this many cue points.
INTENT_THRESHOLD = 2.0
#: A FAQ entry must contain this share of the question's content words.
FAQ_MIN_COVERAGE = 0.5

#: Words that carry no topic (question words, pronouns) and single Chinese characters.
_STOPWORDS_ZH = "怎么 如何 什么 怎样 你们 我们 我的 多少 可以 是否 请问 一下 能否 为什么 哪些"
_STOPWORDS_EN = (
    "how can could do does i my me we you your what which when is are the a an to of for"
)
STOPWORDS = frozenset(f"{_STOPWORDS_ZH} {_STOPWORDS_EN}".split())

#: Cues per intent: phrase → points. Order breaks ties (earlier wins).
INTENT_CUES: dict[str, dict[str, float]] = {
    MISSING_DOCUMENTS: {
        "材料": 2,
        "资料": 2,
        "文件": 1.5,
        "缺": 1,
        "补充": 1,
        "上传": 1,
        "退回": 1,
        "document": 2,
        "documents": 2,
        "missing": 1,
        "upload": 1,
    },
    OVERDUE: {
        "逾期": 2,
        "欠款": 2,
        "拖欠": 2,
        "罚息": 2,
        "欠": 1,
        "没还": 2,
        "未还": 2,
        "overdue": 2,
        "arrears": 2,
        "late": 1.5,
        "penalty": 1.5,
    },
    NEXT_INSTALMENT: {
        "下一期": 2,
        "下期": 2,
        "月供": 2,
        "还款日": 2,
        "还款计划": 2,
        "还款": 1,
        "还多少": 2,
        "什么时候": 1,
        "哪天": 1,
        "几号": 1,
        "多少钱": 1,
        "多少": 0.5,
        "本期": 1.5,
        "next": 1,
        "instalment": 1.5,
        "installment": 1.5,
        "repayment": 1,
        "due": 1,
        "when": 0.5,
        "pay": 0.5,
    },
    POINTS: {
        "积分": 2,
        "兑换": 2,
        "会员": 1.5,
        "等级": 1,
        "礼品": 1,
        "points": 2,
        "rewards": 2,
        "reward": 2,
        "redeem": 2,
        "membership": 1.5,
    },
    APPLICATION: {
        "申请": 1.5,
        "进度": 1.5,
        "审批": 1.5,
        "审核": 1.5,
        "放款": 1,
        "到哪": 1,
        "哪一步": 1,
        "批下来": 2,
        "结果": 0.5,
        "application": 1.5,
        "status": 1,
        "approved": 1,
        "approval": 1,
        "progress": 1,
    },
}

#: A phrase that turns a question about the next instalment into a general one.
GENERAL_REPAYMENT = ("提前还款", "提前结清", "prepay", "early repayment", "settle early")

_ASCII_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class FaqEntry:
    question: str
    keywords: str = ""


@dataclass(frozen=True)
class Understanding:
    kind: Literal["intent", "faq", "none"]
    intent: str | None = None
    faq_index: int | None = None
    score: float = 0.0


def intent_scores(question: str) -> dict[str, float]:
    """Cue points per intent (0 for an intent with no cue)."""
    text = (question or "").lower()
    words = set(_ASCII_WORD.findall(text))
    scores: dict[str, float] = {}
    for intent, cues in INTENT_CUES.items():
        points = 0.0
        for cue, weight in cues.items():
            found = cue in words if cue.isascii() else cue in text
            if found:
                points += weight
        scores[intent] = points
    if any(phrase in text for phrase in GENERAL_REPAYMENT):
        scores[NEXT_INSTALMENT] = 0.0
    return scores


def faq_rank(question: str, entries: Sequence[FaqEntry], *, k1: float = 1.5, b: float = 0.75):
    """BM25 score of each entry for ``question`` (jieba words of its question and keywords)."""
    docs = [tokenise(f"{e.question} {e.keywords}") for e in entries]
    if not docs:
        return []
    n = len(docs)
    avg = sum(len(d) for d in docs) / n or 1.0
    df = Counter(word for doc in docs for word in set(doc))
    query = set(tokenise(question))
    scores = []
    for doc in docs:
        tf = Counter(doc)
        score = 0.0
        for word in query & tf.keys():
            idf = math.log(1 + (n - df[word] + 0.5) / (df[word] + 0.5))
            f = tf[word]
            score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(doc) / avg))
        scores.append(score)
    return scores


def content_words(text: str) -> set[str]:
    """jieba words that name a topic: no stopword, no single Chinese character."""
    return {w for w in tokenise(text) if w not in STOPWORDS and (w.isascii() or len(w) > 1)}


def understand(question: str, faq: Sequence[FaqEntry] = ()) -> Understanding:
    """The intent the question asks for, else the best FAQ entry, else nothing."""
    scores = intent_scores(question)
    best = max(scores, key=lambda intent: scores[intent])  # first of equals, in cue order
    if scores[best] >= INTENT_THRESHOLD:
        return Understanding("intent", intent=best, score=scores[best])
    asked = content_words(question)
    if asked and faq:
        ranked = faq_rank(question, faq)
        covering = [
            i
            for i, entry in enumerate(faq)
            if len(asked & set(tokenise(f"{entry.question} {entry.keywords}"))) / len(asked)
            >= FAQ_MIN_COVERAGE
        ]
        if covering:
            index = max(covering, key=lambda i: ranked[i])
            return Understanding("faq", faq_index=index, score=ranked[index])
    return Understanding("none")
