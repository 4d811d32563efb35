"""Tests for ``fincrm.analytics.text``: keywords, lexicon sentiment and complaint categories."""

from __future__ import annotations

import logging
import re

import pytest

from fincrm.analytics import text as t

# --------------------------------------------------------------------------------------------
# keywords
# --------------------------------------------------------------------------------------------


def test_keywords_are_the_tfidf_terms_of_a_complaint():
    words = t.keywords("放款太慢，审批进度一直拖延，客户经理态度差，app登录不了")
    assert words == ["app", "太慢", "放款", "客户经理", "拖延"]


def test_keywords_respects_top_and_handles_empty_text():
    assert t.keywords("放款太慢，审批进度一直拖延，客户经理态度差", top=2) == ["太慢", "放款"]
    assert t.keywords("") == []
    assert t.keywords("   ") == []
    for top in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=re.escape(t.BAD_TOP)):
            t.keywords("放款太慢", top=top)


def test_jieba_is_quiet():
    t.keywords("放款太慢")
    assert logging.getLogger("jieba").level >= logging.WARNING


def test_tokenise_drops_punctuation_and_lowercases():
    assert t.tokenise("APP登录不了，太慢！") == ["app", "登录", "不了", "太慢"]


# --------------------------------------------------------------------------------------------
# sentiment
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "score", "positive", "negative"),
    [
        ("客户经理很专业，放款及时，非常满意", "positive", 1.0, ("专业", "及时", "满意"), ()),
        ("态度差，放款太慢，我要投诉", "negative", -1.0, (), ("态度差", "太慢", "投诉")),
        ("服务很专业，就是收费高、审批拖延", "negative", -1 / 3, ("专业",), ("收费高", "拖延")),
        ("今天去了网点办业务", "neutral", 0.0, (), ()),
        ("", "neutral", 0.0, (), ()),
        # negation flips the next lexicon word, also across one degree word
        ("不太满意", "negative", -1.0, (), ("不太满意",)),
        ("服务不专业，没有及时回复", "negative", -1.0, (), ("不专业", "没有及时")),
        ("没有拖延，很方便", "positive", 1.0, ("没有拖延", "方便"), ()),
        # 不满意 is one negative word, not 不 + 满意 twice; 特别 is not a negation
        ("不满意", "negative", -1.0, (), ("不满意",)),
        ("特别满意", "positive", 1.0, ("满意",), ()),
        ("不仅专业而且及时", "positive", 1.0, ("专业", "及时"), ()),
        # English, whole words only, with negation
        ("Thanks, very convenient", "positive", 1.0, ("thanks", "convenient"), ()),
        ("The officer was not very helpful and SLOW", "negative", -1.0, (),
         ("not very helpful", "slow")),
        ("goods were delivered", "neutral", 0.0, (), ()),
    ],
)  # fmt: skip
def test_sentiment_lexicon(text, label, score, positive, negative):
    result = t.sentiment(text)
    assert result == t.Sentiment(label, pytest.approx(score), positive, negative)


# --------------------------------------------------------------------------------------------
# complaint categories
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "matched"),
    [
        ("手续费太高了，利率也不透明", "fees", ("手续费", "利率")),
        ("客户经理态度很差，很不耐烦", "service_attitude", ("态度", "不耐烦")),
        ("审批进度太慢，到现在还没放款", "processing_speed", ("太慢", "审批", "进度")),
        ("自动扣款失败导致逾期，还收罚息", "repayment", ("扣款", "逾期", "罚息")),
        ("合同和发票一直没寄来", "documents", ("合同", "发票")),
        ("APP登录不了，小程序也打不开", "system", ("app", "登录", "小程序")),
        ("你们网点的停车位太少", "other", ()),
    ],
)
def test_rules_pick_the_category(text, category, matched):
    suggestion = t.ComplaintCategoriser().suggest(text)
    assert suggestion.category == category
    assert suggestion.source == "rules"
    assert suggestion.keywords == matched
    assert suggestion.confidence == (1.0 if matched else 0.0)


def test_rules_count_hits_and_break_ties_in_rule_order():
    # fees: 利息 + 费用 = 2 hits; repayment: 还款 = 1 hit.
    suggestion = t.ComplaintCategoriser().suggest("还款时利息和费用都算错了")
    assert (suggestion.category, suggestion.confidence) == ("fees", pytest.approx(2 / 3))
    # one hit each: fees comes first in CATEGORY_RULES
    assert t.ComplaintCategoriser().suggest("利息扣款").category == "fees"
    assert list(t.CATEGORY_RULES) == list(t.CATEGORY_LABELS)


# Labelled complaints without a single rule keyword: only a model can tell them apart.
DOCUMENTS = [
    "营业执照复印件要盖公章", "又让我补交营业执照", "公章盖错了要重新盖",
    "营业执照副本被要求再交一次", "复印件不清楚又要重交", "每次都要盖公章很折腾",
    "营业执照原件要带去网点", "复印件要每页盖章", "补交营业执照复印件",
    "法人身份证复印件又要一份", "公章和营业执照都要带", "复印件盖章太多",
]  # fmt: skip
COSTS = [
    "价格太贵了", "年化成本太贵", "比别家贵很多", "成本太贵负担重", "贵得离谱",
    "收的钱比说好的多", "年化成本比宣传的高", "比银行贵太多", "整体成本太贵", "贵了一倍",
    "价格比别家贵", "借款成本太贵",
]  # fmt: skip


def test_training_texts_have_no_rule_keyword():
    rules = t.ComplaintCategoriser()
    assert {rules.suggest(text).category for text in DOCUMENTS + COSTS} == {"other"}


def test_a_fitted_model_learns_categories_without_rule_keywords():
    categoriser = t.ComplaintCategoriser().fit(
        DOCUMENTS + COSTS, ["documents"] * len(DOCUMENTS) + ["fees"] * len(COSTS)
    )
    assert categoriser.model_ is not None
    assert categoriser.n_examples_ == 24
    suggestion = categoriser.suggest("需要补交营业执照复印件")
    assert suggestion.source == "model"
    assert suggestion.category == "documents"
    assert suggestion.confidence >= categoriser.min_confidence
    assert set(suggestion.keywords) == {"营业执照", "复印件", "补交"}
    assert categoriser.suggest("成本太贵了").category == "fees"


def test_the_model_falls_back_to_rules_when_unsure_or_on_unseen_words():
    labels = ["documents"] * len(DOCUMENTS) + ["fees"] * len(COSTS)
    categoriser = t.ComplaintCategoriser().fit(DOCUMENTS + COSTS, labels)
    # no word the model knows: the rules answer
    assert categoriser.suggest("APP登录不了") == t.Suggestion(
        "system", 1.0, "rules", ("app", "登录")
    )
    assert categoriser.suggest("今天天气不错").source == "rules"
    cautious = t.ComplaintCategoriser(min_confidence=0.99).fit(DOCUMENTS + COSTS, labels)
    assert cautious.suggest("需要补交营业执照复印件") == t.Suggestion("other", 0.0, "rules", ())


def test_too_few_examples_or_one_class_keep_it_rule_only():
    few = t.ComplaintCategoriser().fit(
        DOCUMENTS[:10] + COSTS[:9], ["documents"] * 10 + ["fees"] * 9
    )
    assert few.model_ is None
    assert few.n_examples_ == 19
    assert few.suggest("补交营业执照复印件").source == "rules"
    one_class = t.ComplaintCategoriser().fit(DOCUMENTS * 2, ["documents"] * 24)
    assert one_class.model_ is None
    # unlabelled and empty texts do not count
    texts = [*DOCUMENTS, *COSTS[:7], "", "，。"]
    labels = ["documents"] * 12 + ["fees"] * 6 + [None, "fees", "fees"]
    skipped = t.ComplaintCategoriser().fit(texts, labels)
    assert (skipped.n_examples_, skipped.model_) == (18, None)


def test_fit_validates_its_inputs():
    with pytest.raises(ValueError, match=re.escape(t.BAD_TRAINING)):
        t.ComplaintCategoriser().fit(["a", "b"], ["fees"])
    with pytest.raises(ValueError, match=re.escape(t.UNKNOWN_LABEL)):
        t.ComplaintCategoriser().fit(["收费太高"], ["pricing"])
    with pytest.raises(ValueError, match=re.escape(t.BAD_CATEGORISER)):
        t.ComplaintCategoriser(min_examples=1).fit([], [])
    with pytest.raises(ValueError, match=re.escape(t.BAD_CATEGORISER)):
        t.ComplaintCategoriser(min_confidence=1.5).fit([], [])


def test_custom_rules():
    rules = {"noise": ("吵",), "other": ()}
    categoriser = t.ComplaintCategoriser(rules)
    assert categoriser.suggest("网点太吵了").category == "noise"
    assert categoriser.suggest("手续费太高").category == "other"
