"""The default collection letters, in Chinese: the formal reminder (催收函) at 30 days past
due, the notice to the guarantor (担保人通知函) at 60 and the legal notice (法律催告函, the
lawyer's letter) at 90. Migration 0012 copies them into ``CollectionLetterTemplate`` for an
administrator to edit; the letters service falls back on them when a step has no active
template.

Placeholders: ``fincrm.financing.letters.PLACEHOLDERS``. Paragraphs are separated by a blank
line; the lender's name and the date are set under the text by the renderer.
"""

from __future__ import annotations

DEFAULT_LETTERS: dict[str, dict[str, str]] = {
    "letter": {
        "title": "逾期还款催收函",
        "body": (
            "{client}：\n\n"
            "贵方与{lender}签订的编号为{contract}的借款合同项下的款项已逾期。截至{date}，贵方自"
            "{due_date}起已逾期{days}天，尚欠逾期本金人民币{principal}元、逾期利息人民币"
            "{interest}元、罚息人民币{penalty}元、费用人民币{fees}元，合计人民币{total}元。\n\n"
            "请贵方于{pay_by}前将上述款项足额归还至合同约定的还款账户。逾期期间罚息按合同约定继续"
            "计收，实际应还金额以还款当日计算为准。\n\n"
            "如贵方已在本函出具后还款，请忽略本函；如对上述款项有异议，请于收到本函之日起三日内与"
            "我方联系。逾期未还将影响贵方的信用记录，我方将依据合同约定采取进一步的催收措施。\n\n"
            "特此函告。"
        ),
    },
    "guarantor": {
        "title": "担保人履行担保责任通知函",
        "body": (
            "{guarantor}：\n\n"
            "贵方为{client}（以下简称“借款人”）在编号为{contract}的借款合同项下对{lender}的债务"
            "提供了担保。借款人自{due_date}起已逾期{days}天未履行还款义务，截至{date}尚欠逾期本金"
            "人民币{principal}元、逾期利息人民币{interest}元、罚息人民币{penalty}元、费用人民币"
            "{fees}元，合计人民币{total}元。\n\n"
            "根据担保合同的约定，现通知贵方督促借款人于{pay_by}前清偿上述欠款；借款人届时仍未清偿"
            "的，请贵方在担保范围内履行担保责任，代为清偿。\n\n"
            "特此通知。"
        ),
    },
    "legal": {
        "title": "法律催告函",
        "body": (
            "{client}：\n\n"
            "贵方与{lender}签订的编号为{contract}的借款合同项下的款项自{due_date}起已逾期{days}天。"
            "我方此前已多次催告，贵方至今仍未履行还款义务。截至{date}，贵方尚欠逾期本金人民币"
            "{principal}元、逾期利息人民币{interest}元、罚息人民币{penalty}元、费用人民币{fees}元，"
            "合计人民币{total}元。\n\n"
            "贵方的行为已构成违约。根据合同约定及《中华人民共和国民法典》的有关规定，我方有权宣布"
            "贷款提前到期，并要求贵方承担违约责任。\n\n"
            "现正式催告贵方于{pay_by}前清偿上述全部欠款。届时仍未清偿的，我方将依法向有管辖权的"
            "人民法院提起诉讼，由此产生的诉讼费、保全费、律师费等费用均由贵方承担。\n\n"
            "特此函告。"
        ),
    },
}
