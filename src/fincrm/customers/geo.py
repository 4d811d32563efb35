"""Chinese cities the product knows: province, city tier and administrative area code.

Tiers follow the widely used 城市商业魅力排行榜 grouping (一线 / 新一线 / 二线 / 三线 / 四线及以下).
The area code is the prefecture-level code (first four digits of a resident ID or of the
region part of a unified social credit code), which the demo generator uses to build valid
numbers that point at the right place.
"""

from __future__ import annotations

from typing import NamedTuple

from .choices import CityTier


class City(NamedTuple):
    name: str
    province: str
    tier: str
    area_code: str  # prefecture-level, 4 digits


_T1, _N1, _T2, _T3, _T4 = (
    CityTier.TIER_1.value,
    CityTier.NEW_TIER_1.value,
    CityTier.TIER_2.value,
    CityTier.TIER_3.value,
    CityTier.TIER_4_PLUS.value,
)

CITIES: tuple[City, ...] = (
    City("北京", "北京", _T1, "1101"),
    City("上海", "上海", _T1, "3101"),
    City("广州", "广东", _T1, "4401"),
    City("深圳", "广东", _T1, "4403"),
    City("成都", "四川", _N1, "5101"),
    City("杭州", "浙江", _N1, "3301"),
    City("重庆", "重庆", _N1, "5001"),
    City("武汉", "湖北", _N1, "4201"),
    City("苏州", "江苏", _N1, "3205"),
    City("西安", "陕西", _N1, "6101"),
    City("南京", "江苏", _N1, "3201"),
    City("长沙", "湖南", _N1, "4301"),
    City("天津", "天津", _N1, "1201"),
    City("郑州", "河南", _N1, "4101"),
    City("东莞", "广东", _N1, "4419"),
    City("青岛", "山东", _N1, "3702"),
    City("合肥", "安徽", _N1, "3401"),
    City("宁波", "浙江", _N1, "3302"),
    City("佛山", "广东", _T2, "4406"),
    City("无锡", "江苏", _T2, "3202"),
    City("济南", "山东", _T2, "3701"),
    City("厦门", "福建", _T2, "3502"),
    City("福州", "福建", _T2, "3501"),
    City("沈阳", "辽宁", _T2, "2101"),
    City("温州", "浙江", _T2, "3303"),
    City("昆明", "云南", _T2, "5301"),
    City("大连", "辽宁", _T2, "2102"),
    City("哈尔滨", "黑龙江", _T2, "2301"),
    City("石家庄", "河北", _T2, "1301"),
    City("南宁", "广西", _T2, "4501"),
    City("泉州", "福建", _T2, "3505"),
    City("常州", "江苏", _T2, "3204"),
    City("南昌", "江西", _T2, "3601"),
    City("贵阳", "贵州", _T2, "5201"),
    City("太原", "山西", _T2, "1401"),
    City("金华", "浙江", _T2, "3307"),
    City("嘉兴", "浙江", _T2, "3304"),
    City("徐州", "江苏", _T2, "3203"),
    City("烟台", "山东", _T3, "3706"),
    City("珠海", "广东", _T3, "4404"),
    City("绍兴", "浙江", _T3, "3306"),
    City("潍坊", "山东", _T3, "3707"),
    City("兰州", "甘肃", _T3, "6201"),
    City("扬州", "江苏", _T3, "3210"),
    City("洛阳", "河南", _T3, "4103"),
    City("芜湖", "安徽", _T3, "3402"),
    City("唐山", "河北", _T3, "1302"),
    City("汕头", "广东", _T3, "4405"),
    City("呼和浩特", "内蒙古", _T3, "1501"),
    City("乌鲁木齐", "新疆", _T3, "6501"),
    City("海口", "海南", _T3, "4601"),
    City("银川", "宁夏", _T3, "6401"),
    City("赣州", "江西", _T4, "3607"),
    City("宜宾", "四川", _T4, "5115"),
    City("荆州", "湖北", _T4, "4210"),
    City("曲靖", "云南", _T4, "5303"),
    City("西宁", "青海", _T4, "6301"),
    City("拉萨", "西藏", _T4, "5401"),
    City("丹东", "辽宁", _T4, "2106"),
    City("六安", "安徽", _T4, "3415"),
)

CITY_BY_NAME: dict[str, City] = {c.name: c for c in CITIES}
PROVINCES: tuple[str, ...] = tuple(sorted({c.province for c in CITIES}))


def city_tier(city: str) -> str:
    """The tier of a known city; unknown cities count as tier 4 and below."""
    found = CITY_BY_NAME.get(city)
    return found.tier if found else _T4
