"""The FAQ base shipped with fincrm: the questions SME borrowers ask most (edit in the admin)."""

from django.db import migrations

FAQ = [
    ("zh-hans", "如何提前还款？", "提前 还款 结清 一次性 还清 违约金",
     "可以提前还款。请在计划还款日前至少 5 个工作日联系您的客户经理或在门户提交服务请求，"
     "我们会出具提前结清报价（剩余本金、当期利息及合同约定的费用）。部分提前还款后，"
     "您可选择缩短期限或降低每期还款额。"),
    ("zh-hans", "还款方式有哪些？", "等额本息 等额本金 先息后本 到期 还款方式",
     "我们提供等额本息、等额本金、先息后本和到期一次还本付息四种方式，按月或按季还款。"
     "您的合同写明了所选方式，门户首页可查看完整还款计划。"),
    ("zh-hans", "逾期会有什么后果？", "逾期 罚息 征信 后果 晚还",
     "逾期后将按合同约定的罚息利率对逾期本金按日计收罚息，并可能影响您的信用记录。"
     "如遇临时困难，请尽早联系客户经理商议展期或调整还款安排。"),
    ("zh-hans", "申请贷款需要准备哪些材料？", "材料 清单 营业执照 财务报表 流水 准备",
     "通常需要：营业执照、近三年财务报表、近六个月银行流水、法定代表人身份证明，"
     "以及与产品相关的合同或发票。提交申请后，门户会逐项列出所需材料并可直接上传。"),
    ("zh-hans", "审批一般需要多长时间？", "审批 多久 时间 几天 放款 速度",
     "材料齐全后，小额贷款通常当天即可自动审批；其他申请一般在 3–5 个工作日内完成审批。"
     "核心客户享有绿色通道，审批更快。您可在门户首页随时查看申请进度。"),
    ("zh-hans", "怎样修改联系方式？", "修改 手机 手机号 电话 地址 邮箱 联系方式 变更",
     "请联系您的客户经理，或在门户提交服务请求，注明新的手机号、地址或邮箱；"
     "我们核实身份后更新，每次修改都会留存记录。"),
    ("zh-hans", "积分怎么获得和使用？", "积分 获得 使用 兑换 会员 有效期",
     "按时还款、参加活动、填写满意度调查等都可获得积分；积分可兑换专属服务和费用减免，"
     "有效期以门户显示为准。"),
    ("zh-hans", "客服电话和服务时间是什么？", "客服 电话 服务时间 营业 上班 联系",
     "您的客户经理的联系方式显示在门户首页；服务时间为工作日 9:00–18:00。"
     "非工作时间可在门户提交服务请求，我们会在下一个工作日回复。"),
    ("en", "How do I repay early?", "prepay early repayment settle settlement fee",
     "You can repay early. Contact your account manager or open a request in the portal at "
     "least 5 working days before the due date and we will quote the settlement amount "
     "(remaining principal, interest to date and any fee in your contract)."),
    ("en", "Which documents do I need to apply?", "documents list licence statements prepare",
     "Usually your business licence, three years of financial statements, six months of bank "
     "statements and the legal representative's ID; the portal lists each document your "
     "application needs and lets you upload it."),
    ("en", "What happens if I pay late?", "late overdue penalty credit record",
     "Penalty interest accrues daily on overdue principal at the rate in your contract and "
     "your credit record may be affected. Talk to your account manager early if you expect "
     "difficulties."),
    ("en", "How do I change my contact details?", "change phone mobile address email contact",
     "Ask your account manager or open a request in the portal with your new details; we "
     "update them after checking your identity, and every change is recorded."),
]


def load(apps, schema_editor):
    FaqEntry = apps.get_model("portal", "FaqEntry")
    FaqEntry.objects.bulk_create(
        FaqEntry(language=lang, question=q, keywords=k, answer=a, order=i)
        for i, (lang, q, k, a) in enumerate(FAQ)
    )


def unload(apps, schema_editor):
    apps.get_model("portal", "FaqEntry").objects.filter(
        question__in=[q for _lang, q, _k, _a in FAQ]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_faq")]
    operations = [migrations.RunPython(load, unload)]
