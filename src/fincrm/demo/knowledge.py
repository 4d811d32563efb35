"""Demo content of the knowledge library (issue 24, point 8): a handful of Chinese briefings,
reports and success cases written by demo managers and published by their leads, and the
reads of the portal client and of some clients of the industries they are for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from fincrm.accounts.models import User
from fincrm.customers.models import Customer
from fincrm.knowledge.choices import ArticleKind, ArticleStatus, TagDimension
from fincrm.knowledge.models import Article, ArticleRead, ArticleTag
from fincrm.portal.models import PortalAccount

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: (title, kind, summary, body, industries, segments, author, publisher, days before as_of)
ARTICLES = (
    ("2026年三季度制造业景气简报", ArticleKind.BRIEFING,
     "采购经理指数连续两个月回升，中小制造企业新订单改善。",
     "## 要点\n\n- 制造业采购经理指数回升至扩张区间\n- 原材料价格趋稳，库存周期见底\n"
     "- 出口订单分化：机电产品好于纺织服装\n\n## 对融资的启示\n\n订单回暖期的备货资金需求上升，"
     "建议提前与客户经理沟通**流动资金贷款**额度。",
     ["C"], [], "manager3", "lead_east", 20),
    ("批发零售业市场研报：社区团购与供应链金融", ArticleKind.REPORT,
     "社区零售渠道变化对上游经销商账期的影响。",
     "## 摘要\n\n社区团购渠道占比上升，经销商账期平均延长 **12 天**。\n\n"
     "| 指标 | 2025年 | 2026年 |\n|---|---|---|\n| 平均账期（天） | 45 | 57 |\n"
     "| 应收账款周转率 | 8.1 | 6.4 |\n\n"
     "## 建议\n\n- 以应收账款质押盘活账期\n- 关注核心企业信用变化",
     ["F"], [], "manager4", "lead_south", 35),
    ("成功案例：苏州精密机械企业扩产融资", ArticleKind.CASE,
     "三个月内完成设备升级，产能提升四成。",
     "## 背景\n\n客户为成立六年的精密零部件企业，订单增长但设备老化。\n\n"
     "## 方案\n\n1. 设备融资租赁覆盖 70% 设备款\n2. 流动资金贷款配套原材料采购\n\n"
     "## 成效\n\n产能提升 **40%**，按期还款，已成为我行核心客户。",
     ["C"], ["growing"], "manager3", "lead_east", 50),
    ("宏观经济月报：利率与信贷环境", ArticleKind.BRIEFING,
     "贷款市场报价利率保持稳定，普惠小微贷款持续增长。",
     "## 本月关注\n\n- 一年期贷款市场报价利率维持不变\n- 普惠小微贷款余额同比增长\n"
     "- 地方专项债发行提速\n\n对多数客户而言，当前是锁定中长期融资成本的窗口期。",
     [], [], "manager1", "lead_east", 8),
    ("成功案例：深圳供应链企业订单融资", ArticleKind.CASE,
     "以核心企业订单为依托，缓解中小供应商回款压力。",
     "## 方案\n\n核心企业确认订单后放款，回款直接还款，**全程线上**。\n\n"
     "## 成效\n\n供应商平均回款周期缩短 18 天。",
     ["F", "G"], ["supply_chain_core"], "manager4", "lead_south", 64),
    ("创业企业融资指南：从首笔贷款开始", ArticleKind.REPORT,
     "成立三年内企业如何准备材料、建立信用记录。",
     "## 准备什么\n\n- 营业执照、近一年银行流水\n- 纳税记录与主要合同\n\n"
     "## 如何积累信用\n\n按时还款、保持账户活跃，逐步提高额度。",
     [], ["startup"], "manager2", "lead_east", 90),
)  # fmt: skip


def create_knowledge_demo(*, as_of: date, seed: int = 0) -> tuple[int, int]:
    """The demo articles (again on every run: by title) and their reads in the 60 days up to
    ``as_of``; returns (articles, reads)."""
    names = {a[6] for a in ARTICLES} | {a[7] for a in ARTICLES}
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    rng = np.random.default_rng(seed)
    articles = []
    for title, kind, summary, body, industries, segments, author, publisher, ago in ARTICLES:
        if author not in users or publisher not in users:
            continue
        published = datetime.combine(as_of - timedelta(days=ago), time(9, 30), tzinfo=SHANGHAI)
        article, _created = Article.objects.update_or_create(
            title=title,
            defaults={"kind": kind, "summary": summary, "body": body,
                      "status": ArticleStatus.PUBLISHED, "published_at": published,
                      "published_by": users[publisher], "author": users[author]},
        )  # fmt: skip
        article.tags.all().delete()
        tags = [(TagDimension.INDUSTRY, c) for c in industries]
        tags += [(TagDimension.SEGMENT, c) for c in segments]
        ArticleTag.objects.bulk_create(
            [ArticleTag(article=article, dimension=d, code=c) for d, c in tags]
        )
        articles.append((article, industries, ago))
    reads = []
    for article, industries, ago in articles:
        readers = Customer.objects.order_by("pk")
        if industries:
            readers = readers.filter(industry__in=industries)
        ids = list(readers.values_list("pk", flat=True)[:400])
        if not ids:
            continue
        chosen = rng.choice(ids, size=min(len(ids), 25), replace=False)
        for customer_id in chosen:
            day = as_of - timedelta(days=int(rng.integers(0, min(ago, 60) + 1)))
            at = datetime.combine(day, time(20, int(rng.integers(0, 60))), tzinfo=SHANGHAI)
            reads.append(
                ArticleRead(article=article, customer_id=int(customer_id), day=day, read_at=at)
            )
    # The demo portal logins read what is for them, so their loyalty input is not empty.
    for account in PortalAccount.objects.select_related("customer").order_by("pk")[:10]:
        customer = account.customer
        mine = Article.objects.for_client(industry=customer.industry, segments=[])
        for article in mine.order_by("-published_at")[:2]:
            at = article.published_at + timedelta(days=1)
            day = at.astimezone(SHANGHAI).date()
            reads.append(ArticleRead(article=article, customer=customer, day=day, read_at=at))
    ArticleRead.objects.bulk_create(reads, ignore_conflicts=True)
    return len(articles), len(reads)
