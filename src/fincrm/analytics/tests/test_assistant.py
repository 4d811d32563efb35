"""The portal assistant's reading of a question, as a table: intent, FAQ entry, or nothing."""

import pytest

from fincrm.analytics.assistant import (
    APPLICATION,
    MISSING_DOCUMENTS,
    NEXT_INSTALMENT,
    OVERDUE,
    POINTS,
    FaqEntry,
    faq_rank,
    intent_scores,
    understand,
)

FAQ = [
    FaqEntry("如何提前还款？", "提前 还款 结清 违约金"),
    FaqEntry("客服电话和服务时间是什么？", "客服 电话 服务时间"),
    FaqEntry("怎样修改联系方式？", "修改 手机号 地址 联系方式"),
    FaqEntry("How do I repay early?", "prepay early repayment settle"),
]


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("我下一期还款是什么时候？", NEXT_INSTALMENT),
        ("下期要还多少钱", NEXT_INSTALMENT),
        ("When is my next instalment due?", NEXT_INSTALMENT),
        ("我有逾期吗", OVERDUE),
        ("我的申请还缺什么材料", MISSING_DOCUMENTS),  # documents outweigh "申请"
        ("申请到哪一步了", APPLICATION),
        ("我有多少积分，能兑换什么", POINTS),
        ("what are my points", POINTS),
    ],
)
def test_questions_about_the_clients_own_data_are_intents(question, intent):
    assert understand(question, FAQ).kind == "intent"
    assert understand(question, FAQ).intent == intent


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("如何提前还款", 0),  # "还款" alone is not the next instalment; 提前 makes it general
        ("你们客服电话是多少", 1),
        ("我想改手机号", 2),
        ("How can I repay early?", 3),
    ],
)
def test_general_questions_find_their_faq_entry(question, entry):
    result = understand(question, FAQ)
    assert (result.kind, result.faq_index) == ("faq", entry)


def test_a_question_nothing_answers_is_handed_over():
    assert understand("今天天气怎么样", FAQ).kind == "none"
    assert understand("", FAQ).kind == "none"
    assert understand("我有逾期吗", []).intent == OVERDUE  # intents need no FAQ


def test_cue_points_add_up_and_a_single_weak_cue_is_not_enough():
    scores = intent_scores("什么时候还款")
    assert scores[NEXT_INSTALMENT] == 2.0  # 什么时候 1 + 还款 1: just the threshold
    assert intent_scores("还款")[NEXT_INSTALMENT] == 1.0
    assert understand("还款", []).kind == "none"
    assert intent_scores("提前还款什么时候")[NEXT_INSTALMENT] == 0.0


def test_bm25_prefers_the_entry_sharing_the_rarer_word():
    # "电话" is in one entry only; "还款" in two: the phone entry ranks first for 电话.
    entries = [
        FaqEntry("还款方式", "还款"),
        FaqEntry("提前还款", "还款"),
        FaqEntry("客服电话", "电话"),
    ]
    scores = faq_rank("电话", entries)
    assert scores[0] == scores[1] == 0.0 and scores[2] > 0
    both = faq_rank("还款", entries)
    assert both[0] > 0 and both[1] > 0 and both[2] == 0.0
    assert faq_rank("任何问题", []) == []


def test_a_faq_entry_must_cover_half_the_questions_content_words():
    one = [FaqEntry("如何提前还款？", "提前 还款 结清")]
    assert understand("怎么提前还款", one).kind == "faq"  # 提前, 还款: 2 of 2
    assert understand("提前还款需要带身份证和营业执照吗", one).kind == "none"  # 2 of 6
