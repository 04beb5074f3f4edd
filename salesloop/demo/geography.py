"""Sales regions of mainland China with real provinces, cities and telephone area codes.

Weights are rough relative shares of industrial customers (bigger manufacturing bases weigh
more); they only steer where demo accounts are, not any analysis.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    province: str
    name: str
    area_code: str
    weight: float

    @property
    def short(self) -> str:
        return self.name.removesuffix("市")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    cities: tuple[City, ...]


def _cities(*rows: tuple[str, str, str, float]) -> tuple[City, ...]:
    return tuple(City(*row) for row in rows)


#: In the order regions are opened as the organisation grows (S uses the first two).
REGIONS: tuple[Region, ...] = (
    Region(
        "east",
        "华东",
        _cities(
            ("上海市", "上海市", "021", 10),
            ("江苏省", "南京市", "025", 6),
            ("江苏省", "苏州市", "0512", 9),
            ("江苏省", "无锡市", "0510", 5),
            ("江苏省", "常州市", "0519", 4),
            ("江苏省", "南通市", "0513", 3),
            ("浙江省", "杭州市", "0571", 8),
            ("浙江省", "宁波市", "0574", 6),
            ("浙江省", "温州市", "0577", 3),
            ("浙江省", "绍兴市", "0575", 3),
            ("浙江省", "嘉兴市", "0573", 3),
            ("安徽省", "合肥市", "0551", 4),
            ("安徽省", "芜湖市", "0553", 2),
            ("福建省", "福州市", "0591", 3),
            ("福建省", "厦门市", "0592", 3),
            ("福建省", "泉州市", "0595", 3),
            ("山东省", "济南市", "0531", 4),
            ("山东省", "青岛市", "0532", 5),
            ("山东省", "烟台市", "0535", 2),
            ("山东省", "潍坊市", "0536", 2),
            ("江西省", "南昌市", "0791", 2),
        ),
    ),
    Region(
        "south",
        "华南",
        _cities(
            ("广东省", "广州市", "020", 9),
            ("广东省", "深圳市", "0755", 10),
            ("广东省", "东莞市", "0769", 6),
            ("广东省", "佛山市", "0757", 6),
            ("广东省", "珠海市", "0756", 2),
            ("广西壮族自治区", "南宁市", "0771", 2),
            ("广西壮族自治区", "柳州市", "0772", 2),
            ("海南省", "海口市", "0898", 1),
        ),
    ),
    Region(
        "north",
        "华北",
        _cities(
            ("北京市", "北京市", "010", 10),
            ("天津市", "天津市", "022", 5),
            ("河北省", "石家庄市", "0311", 3),
            ("河北省", "唐山市", "0315", 3),
            ("河北省", "保定市", "0312", 2),
            ("山西省", "太原市", "0351", 2),
            ("内蒙古自治区", "呼和浩特市", "0471", 1),
            ("内蒙古自治区", "包头市", "0472", 1),
        ),
    ),
    Region(
        "central",
        "华中",
        _cities(
            ("河南省", "郑州市", "0371", 4),
            ("河南省", "洛阳市", "0379", 2),
            ("湖北省", "武汉市", "027", 6),
            ("湖北省", "宜昌市", "0717", 2),
            ("湖南省", "长沙市", "0731", 5),
            ("湖南省", "株洲市", "0731", 2),
        ),
    ),
    Region(
        "southwest",
        "西南",
        _cities(
            ("四川省", "成都市", "028", 7),
            ("四川省", "绵阳市", "0816", 2),
            ("重庆市", "重庆市", "023", 6),
            ("云南省", "昆明市", "0871", 2),
            ("贵州省", "贵阳市", "0851", 2),
        ),
    ),
    Region(
        "northwest",
        "西北",
        _cities(
            ("陕西省", "西安市", "029", 5),
            ("甘肃省", "兰州市", "0931", 2),
            ("新疆维吾尔自治区", "乌鲁木齐市", "0991", 1),
            ("宁夏回族自治区", "银川市", "0951", 1),
            ("青海省", "西宁市", "0971", 1),
        ),
    ),
    Region(
        "northeast",
        "东北",
        _cities(
            ("辽宁省", "沈阳市", "024", 4),
            ("辽宁省", "大连市", "0411", 4),
            ("吉林省", "长春市", "0431", 3),
            ("黑龙江省", "哈尔滨市", "0451", 3),
        ),
    ),
)
