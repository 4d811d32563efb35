"""The importable fields and how a file names them: headers (in every UI language and the
usual Chinese spreadsheet words) and choice values (codes, labels, GB/T 4754 section names);
the column mapping guessed from the headers, overridden by the user, and what makes it unusable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.conf import settings
from django.db.models import TextChoices
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..choices import (
    CityTier,
    ClientType,
    CustomerKind,
    Industry,
    NeedsLevel,
    RiskAppetite,
    SourceChannel,
)
from ..models import Customer
from .errors import (
    MSG_DUPLICATE_MAPPING,
    MSG_NO_KEY_COLUMN,
    MSG_UNKNOWN_COLUMN,
    MSG_UNKNOWN_FIELD,
    BadMapping,
)

#: Importable fields in the order the preview lists them. ``team`` follows the owner.
FIELDS: tuple[str, ...] = (
    "kind",
    "name",
    "credit_code",
    "id_number",
    "client_type",
    "industry",
    "province",
    "city",
    "city_tier",
    "address",
    "phone",
    "email",
    "registered_capital",
    "annual_revenue",
    "employee_count",
    "needs_level",
    "risk_appetite",
    "source_channel",
    "owner",
    "birthday",
    "founded_on",
)
KEY_FIELDS = ("credit_code", "id_number")
REQUIRED_FOR_NEW = ("name", "client_type", "industry", "province", "city")

# Headers found in real Chinese spreadsheets, on top of each field's name and verbose name in
# every UI language (added in _header_lookup).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("主体类型", "客户性质", "客户类别", "企业/个人"),
    "name": ("名称", "客户名称", "企业名称", "公司名称", "单位名称", "姓名", "客户姓名", "户名"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "credit code"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "居民身份证号码",
        "证件号码",
        "id number",
        "id no",
        "ric",
    ),
    "client_type": ("客户类型", "客户分类"),
    "industry": ("行业", "所属行业", "行业门类", "行业分类"),
    "province": ("省份", "省", "所在省份"),
    "city": ("城市", "市", "所在城市"),
    "city_tier": ("城市等级", "城市级别", "城市线级"),
    "address": ("地址", "注册地址", "经营地址", "联系地址"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "mobile"),
    "email": ("邮箱", "电子邮箱", "邮件", "email", "mail"),
    "registered_capital": ("注册资本",),
    "annual_revenue": ("年营业收入", "年收入", "营业收入", "年营收", "revenue"),
    "employee_count": ("员工人数", "员工数", "从业人数", "employee count"),
    "needs_level": ("需求层次", "需求等级"),
    "risk_appetite": ("风险偏好",),
    "source_channel": ("来源渠道", "获客渠道", "渠道", "来源", "source"),
    "owner": ("客户经理", "客户经理账号", "归属客户经理", "username", "owner"),
    "birthday": ("生日", "出生日期", "date of birth"),
    "founded_on": ("成立日期", "成立时间", "注册日期", "founded"),
}

# Names that Chinese files use for choice values (GB/T 4754-2017 section names and the usual
# business words), next to the codes and the labels of every UI language.
CHOICE_ALIASES: dict[type[TextChoices], dict[str, tuple[str, ...]]] = {
    CustomerKind: {
        "company": ("企业", "公司", "单位", "法人", "对公"),
        "person": ("个人", "自然人", "对私"),
    },
    Industry: {
        "A": ("农、林、牧、渔业", "农业"),
        "B": ("采矿业",),
        "C": ("制造业",),
        "D": ("电力、热力、燃气及水生产和供应业",),
        "E": ("建筑业",),
        "F": ("批发和零售业", "批发零售业"),
        "G": ("交通运输、仓储和邮政业",),
        "H": ("住宿和餐饮业",),
        "I": ("信息传输、软件和信息技术服务业",),
        "J": ("金融业",),
        "K": ("房地产业",),
        "L": ("租赁和商务服务业",),
        "M": ("科学研究和技术服务业",),
        "N": ("水利、环境和公共设施管理业",),
        "O": ("居民服务、修理和其他服务业",),
        "P": ("教育",),
        "Q": ("卫生和社会工作",),
        "R": ("文化、体育和娱乐业",),
        "S": ("公共管理、社会保障和社会组织",),
        "T": ("国际组织",),
    },
    ClientType: {
        "sme_owner": ("个体工商户", "小微企业主", "中小企业主"),
        "sme": ("中小企业", "小微企业"),
        "large": ("大型企业", "大企业"),
        "institution": ("机构", "机构客户", "事业单位"),
        "hnw": ("高净值个人", "高净值客户"),
    },
    CityTier: {
        "1": ("一线", "一线城市"),
        "new1": ("新一线", "新一线城市"),
        "2": ("二线", "二线城市"),
        "3": ("三线", "三线城市"),
        "4": ("四线及以下", "四线", "四线城市", "五线"),
    },
    NeedsLevel: {
        "basic": ("基础", "基础型"),
        "comprehensive": ("综合", "综合型"),
        "premium": ("高端", "尊享"),
    },
    RiskAppetite: {
        "conservative": ("保守", "保守型"),
        "steady": ("稳健", "稳健型"),
        "aggressive": ("进取", "进取型", "激进"),
    },
    SourceChannel: {
        "referral": ("转介绍", "推荐"),
        "branch": ("网点", "网点到访", "柜台"),
        "online": ("线上", "网络"),
        "partner": ("合作方", "供应链", "核心企业"),
        "event": ("活动",),
        "cold_call": ("电话营销", "外呼"),
    },
}
CHOICE_FIELDS: dict[str, type[TextChoices]] = {
    "kind": CustomerKind,
    "industry": Industry,
    "client_type": ClientType,
    "city_tier": CityTier,
    "needs_level": NeedsLevel,
    "risk_appetite": RiskAppetite,
    "source_channel": SourceChannel,
}
MONEY_FIELDS = ("registered_capital", "annual_revenue")
DATE_FIELDS = ("birthday", "founded_on")
TEXT_FIELDS = ("name", "address", "phone", "email", "province", "city")

_PUNCTUATION = re.compile(r"[\s_\-*·、，,.:：/（）()]+")
_UNIT_SUFFIX = re.compile(r"\s*[（(]\s*(元|人民币元|人民币|cny|rmb)\s*[)）]\s*$", re.IGNORECASE)


def match_key(text: str) -> str:
    """How headers and choice values are compared: case, spaces and punctuation ignored."""
    return _PUNCTUATION.sub("", _UNIT_SUFFIX.sub("", text).casefold())


def field_label(name: str) -> str:
    if name == "owner":
        return _("Account manager (username)")
    return str(capfirst(Customer._meta.get_field(name).verbose_name))


def field_choices() -> list[tuple[str, str]]:
    """(field, label) for every importable field, for mapping selects."""
    return [(name, field_label(name)) for name in FIELDS]


def in_every_language(text) -> set[str]:
    found = {str(text)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text))
    return found


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name in FIELDS:
        names = {name, *HEADER_ALIASES.get(name, ())}
        names |= in_every_language(Customer._meta.get_field(name).verbose_name)
        for alias in names:
            lookup.setdefault(match_key(alias), name)
    return lookup


def guess_mapping(headers: list[str]) -> list[str | None]:
    """The field each column holds, by its header; ``None`` for columns to ignore."""
    lookup = _header_lookup()
    mapping: list[str | None] = []
    for header in headers:
        name = lookup.get(match_key(header or ""))
        mapping.append(name if name not in mapping else None)
    return mapping


def resolve_mapping(
    headers: list[str], overrides: Mapping[str | int, str | None] | None = None
) -> list[str | None]:
    """The guessed mapping with ``overrides`` applied (column header or index → field or None).

    Raises :class:`BadMapping` for an unknown field or column; a field mapped twice or a
    missing key column is reported by :func:`mapping_problems`.
    """
    mapping = guess_mapping(headers)
    for column, name in (overrides or {}).items():
        if isinstance(column, int):
            if not 0 <= column < len(headers):
                raise BadMapping(MSG_UNKNOWN_COLUMN % {"column": column})
            index = column
        elif column in headers:
            index = headers.index(column)
        else:
            raise BadMapping(MSG_UNKNOWN_COLUMN % {"column": column})
        if name and name not in FIELDS:
            raise BadMapping(MSG_UNKNOWN_FIELD % {"field": name})
        mapping[index] = name or None
    return mapping


def mapping_problems(mapping: list[str | None]) -> list[str]:
    """Why this mapping cannot be imported (empty when it can)."""
    problems = []
    mapped = [name for name in mapping if name]
    for name in dict.fromkeys(n for n in mapped if mapped.count(n) > 1):
        problems.append(str(MSG_DUPLICATE_MAPPING % {"field": field_label(name)}))
    if not any(name in KEY_FIELDS for name in mapped):
        problems.append(str(MSG_NO_KEY_COLUMN))
    return problems


def column_headers(headers: list[str], mapping: list[str | None]) -> dict[str, str]:
    """Field → the header of the column it is read from."""
    return {name: header for header, name in zip(headers, mapping, strict=False) if name}
