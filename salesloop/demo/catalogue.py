"""The demo company's catalogue: an industrial-automation supplier (prices in CNY, before tax).

``role`` says how the generator uses an item: ``main`` items carry a new deal, ``service`` lines
ride along with deals, ``subscription`` renews yearly, ``consumable`` fills repeat orders. The
minimum price sits 10-15 % under list, so deep discounts need the special-price approval.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    role: str
    list_price: Decimal
    minimum_price: Decimal
    cost: Decimal


def _item(
    sku: str, name: str, category: str, role: str, price: int, minimum: int, cost: int
) -> Item:
    return Item(sku, name, category, role, Decimal(price), Decimal(minimum), Decimal(cost))


CATALOGUE: tuple[Item, ...] = (
    _item("EQ-ROB-06", "六轴工业机器人 RB-6", "设备", "main", 168_000, 148_000, 105_000),
    _item("EQ-ROB-12", "六轴工业机器人 RB-12", "设备", "main", 268_000, 235_000, 172_000),
    _item("EQ-SCR-04", "SCARA 机器人 SC-4", "设备", "main", 78_000, 69_000, 48_000),
    _item("EQ-VIS-02", "机器视觉检测系统 VS-2", "设备", "main", 128_000, 112_000, 76_000),
    _item("EQ-CNC-08", "数控系统 NC-800", "设备", "main", 56_000, 49_000, 33_000),
    _item("EQ-AGV-05", "AGV 搬运车 AG-500", "设备", "main", 98_000, 86_000, 61_000),
    _item("EQ-PLC-03", "PLC 控制柜 PC-300", "设备", "main", 36_000, 31_500, 21_000),
    _item("EQ-GW-10", "设备联网网关 GW-10", "设备", "main", 8_800, 7_800, 4_600),
    _item("EQ-SRV-02", "伺服驱动套装 SD-2", "设备", "main", 12_800, 11_200, 7_400),
    _item(
        "SW-MES-S",
        "MES 制造执行系统 标准版（年订阅）",
        "软件",
        "subscription",
        120_000,
        102_000,
        30_000,
    ),
    _item(
        "SW-MES-E",
        "MES 制造执行系统 企业版（年订阅）",
        "软件",
        "subscription",
        360_000,
        306_000,
        90_000,
    ),
    _item(
        "SW-IOT-50", "设备物联平台（年订阅，50 台）", "软件", "subscription", 48_000, 40_800, 12_000
    ),
    _item(
        "SW-QMS-01", "质量管理系统 QMS（年订阅）", "软件", "subscription", 86_000, 73_000, 22_000
    ),
    _item("SW-APS-01", "高级排产 APS（年订阅）", "软件", "subscription", 150_000, 127_500, 38_000),
    _item("SV-IMP-D", "实施服务（人天）", "服务", "service", 2_800, 2_400, 1_500),
    _item("SV-TRN-D", "现场培训（人天）", "服务", "service", 2_400, 2_000, 1_200),
    _item("SV-MNT-Y", "年度维保服务", "服务", "service", 28_000, 24_000, 14_000),
    _item("SV-INT-01", "系统集成服务包", "服务", "service", 65_000, 56_000, 38_000),
    _item("SV-REM-Y", "远程运维服务（年）", "服务", "service", 18_000, 15_500, 7_000),
    _item("CS-GRP-01", "气动夹爪", "耗材备件", "consumable", 1_850, 1_650, 1_050),
    _item("CS-SEN-10", "光电传感器（盒/10只）", "耗材备件", "consumable", 1_200, 1_050, 620),
    _item("CS-CBL-100", "拖链电缆（100米）", "耗材备件", "consumable", 2_600, 2_300, 1_560),
    _item("CS-FLT-01", "过滤器滤芯（箱）", "耗材备件", "consumable", 980, 860, 520),
    _item("CS-LUB-01", "专用润滑脂（箱）", "耗材备件", "consumable", 760, 680, 410),
    _item("CS-BLT-01", "同步带（套）", "耗材备件", "consumable", 1_480, 1_300, 830),
    _item("CS-BAT-01", "控制器备用电池（组）", "耗材备件", "consumable", 420, 370, 230),
    _item("CS-ENC-01", "编码器", "耗材备件", "consumable", 2_300, 2_050, 1_380),
    _item("CS-LNS-01", "工业镜头", "耗材备件", "consumable", 4_600, 4_100, 2_700),
    _item("CS-LGT-01", "LED 光源", "耗材备件", "consumable", 1_900, 1_700, 1_100),
    _item("CS-MOT-75", "伺服电机（750W）", "耗材备件", "consumable", 3_200, 2_850, 1_950),
    _item("CS-RED-01", "精密减速机", "耗材备件", "consumable", 6_800, 6_050, 4_300),
    _item("CS-TP-01", "示教器", "耗材备件", "consumable", 9_800, 8_700, 6_100),
)
