"""Chinese names for people and companies, industries, job titles and the words reps write.

Surnames (with their frequencies) and given names come from Faker's zh_CN provider; company
names are composed (city + brand + trade + legal form) so that 100,000 accounts rarely repeat.
Generation picks from these pools with the caller's seeded ``random.Random``, never with a global
generator, so a seed gives the same names every time.
"""

import random
from dataclasses import dataclass
from itertools import accumulate

from faker.providers.person.zh_CN import Provider as ZhPerson

_SURNAMES = list(ZhPerson.last_names.keys())
_SURNAME_CUM = list(accumulate(ZhPerson.last_names.values()))
_GIVEN = list(ZhPerson.first_names)
_GIVEN_SINGLE = [name for name in _GIVEN if len(name) == 1]


def person_name(rng: random.Random) -> tuple[str, str]:
    """(surname, given name) with real surname frequencies: 王, 李, 张 are common."""
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    if rng.random() < 0.45:
        given = rng.choice(_GIVEN_SINGLE) + rng.choice(_GIVEN_SINGLE)
    else:
        given = rng.choice(_GIVEN)
    return surname, given


@dataclass(frozen=True)
class Industry:
    name: str
    weight: float
    words: tuple[str, ...]  # what the trade is called inside a company name
    high_risk: bool = False  # seed 000 §四.3: high-risk industries get a background check


INDUSTRIES: tuple[Industry, ...] = (
    Industry("汽车及零部件", 14, ("汽车零部件", "汽配", "车辆部件")),
    Industry("电子制造", 14, ("电子", "电子科技", "微电子")),
    Industry("机械装备", 14, ("机械", "精密机械", "重工", "装备制造")),
    Industry("新能源", 8, ("新能源", "光伏", "电池")),
    Industry("食品饮料", 7, ("食品", "饮料", "乳业")),
    Industry("医药医疗", 7, ("医疗器械", "制药", "生物科技")),
    Industry("化工材料", 6, ("化工", "新材料", "塑胶")),
    Industry("家电家居", 6, ("电器", "家居", "家电")),
    Industry("纺织服装", 5, ("纺织", "服饰", "织造")),
    Industry("物流仓储", 5, ("物流", "供应链", "仓储")),
    Industry("金属制品", 4, ("金属制品", "铝业", "钢材")),
    Industry("包装印刷", 4, ("包装", "印务", "纸业")),
    Industry("建筑工程", 4, ("建设工程", "建筑", "钢结构"), high_risk=True),
    Industry("房地产", 2, ("置业", "地产"), high_risk=True),
)

_BRAND_CHARS = (
    "恒达华鑫泰瑞宏盛新力德诚信安通远科创智博康元金丰隆兴嘉天宇中润正福昌伟明海联同和"
    "永广东方振启辰升富源聚汇宝晨亿卓越腾凯美佳"
)
_LEGAL_FORMS = ("有限公司", "股份有限公司", "科技有限公司", "集团有限公司")
_LEGAL_FORM_CUM = list(accumulate((60, 20, 15, 5)))


def company_name(rng: random.Random, city_short: str, industry: Industry) -> tuple[str, str]:
    """(full registered name, short name used in conversation), e.g. 苏州恒达精密机械有限公司."""
    brand = rng.choice(_BRAND_CHARS) + rng.choice(_BRAND_CHARS)
    short = f"{brand}{rng.choice(industry.words)}"
    form = rng.choices(_LEGAL_FORMS, cum_weights=_LEGAL_FORM_CUM)[0]
    return f"{city_short}{short}{form}", f"{city_short}{brand}"


DECISION_MAKER_TITLES = ("总经理", "董事长", "副总经理", "采购总监", "生产总监", "技术总监")
CONTACT_TITLES = (
    "采购经理",
    "设备经理",
    "生产经理",
    "IT经理",
    "工程师",
    "财务经理",
    "质量经理",
    "厂长",
    "行政主管",
)
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
)

COMPETITORS = (
    "东方精工",
    "华创智能",
    "远景数控",
    "凯德自动化",
    "博瑞机器人",
    "新松智联",
    "拓普工业软件",
)
CAMPAIGNS = {
    "expo": ("{year}春季工业自动化展", "{year}秋季工博会", "{year}智能制造博览会"),
    "advertising": ("{year}行业媒体投放", "{year}搜索广告"),
    "social": ("{year}视频号直播", "{year}行业社群"),
    "website": ("官网咨询",),
    "partner": ("渠道伙伴推荐",),
}

VISIT_TOPICS = (
    "需求调研",
    "现场勘查",
    "方案交流",
    "技术交流",
    "关系维护",
    "回访",
    "新品介绍",
    "年度合作回顾",
)
CALL_TOPICS = ("电话跟进", "预约拜访", "确认需求", "报价沟通", "回款提醒", "售后回访")
EMAIL_TOPICS = ("发送产品资料", "发送报价单", "发送案例材料", "会议纪要", "节日问候")
MEETING_TOPICS = ("项目沟通会", "商务谈判", "高层拜会", "验收会议")
NOTES = (
    "客户关注交付周期，需协调供应链给出明确排期。",
    "决策人为采购总监，下周安排技术交流。",
    "客户反馈价格偏高，准备阶梯式优惠方案。",
    "竞品推出低价套餐，需强调增值服务包。",
    "客户希望多终端协同，已反馈产品部。",
    "预算审批流程较长，约定每周同步进展。",
    "国企客户，需补充合规性说明和成功案例。",
    "理性型决策风格，准备投资回报测算数据。",
    "关系型客户，安排高层拜会维护关系。",
    "老客户转介绍，可申请推荐奖励。",
)
LOSS_NOTES = {
    "price": "客户选择了更低报价",
    "competitor": "客户选择了竞品方案",
    "no_budget": "今年预算已冻结",
    "no_decision": "项目搁置，无明确决策时间",
    "product_fit": "功能与需求不匹配",
    "timing": "客户计划明年再启动",
    "relationship": "对接人离职，关系中断",
}
NEXT_STEPS = {
    "lead": ("首次电话沟通", "确认采购需求"),
    "qualified": ("安排需求调研", "约见决策人", "现场勘查"),
    "proposal": ("讲解方案", "发送报价单", "技术澄清"),
    "negotiation": ("商务谈判", "合同条款确认", "申请特价审批"),
}
TAGS = ("国企", "民营", "外资", "上市公司", "高新技术企业", "专精特新", "老客户转介绍")
