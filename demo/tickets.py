"""
Demo tickets: about 300 calls over the last 90 days, built through the ticket services.

Every ticket is logged by the hotline agent of its site's centre (or filed on the portal by a demo
customer) and taken through the acts the pages offer, each performed by the person who would
perform it: the assignee engineer works it, the team supervisor or the centre manager decides
approvals, the customer confirms or reopens it (the agent does, on the customer's word, for
organisations without a portal user). Timelines, versions and notifications are the real ones.

Each ticket is planned first, as a list of acts with the minutes between them, and the plan is
checked against the transition table in `tickets.acts`, so no act is refused when it is played
(should one be, that ticket alone is dropped and a warning logged). The acts are played on a
demo clock (`Clock`): while it runs, `timezone.now()` answers the moment each act is meant to
happen at, so the services, the SLA deadlines and the reopen window all date things as of then.
A ticket's life spreads over minutes or days, and the desk's history over the last 90 days.

Demo tickets are created once: when any ticket exists, nothing is done.
"""

import logging
import random
from bisect import bisect_right
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.models import SupportCentre, Team, User
from customers.choices import FaultArea
from customers.models import Contact, Contract, Equipment
from customers.services import Reason, contract_state
from notifications.choices import Channel as NotificationChannel
from notifications.models import Notification
from sla.models import Deadline
from tickets import services
from tickets.acts import ACTS
from tickets.choices import (
    OPEN_STATUSES,
    Channel,
    Decision,
    Impact,
    Kind,
    ProblemType,
    Risk,
    Status,
    Urgency,
    WorkMethod,
)
from tickets.models import (
    Comment,
    FaultReport,
    RiskApproval,
    Ticket,
    WorkLog,
)

logger = logging.getLogger(__name__)

S = Status

# How many tickets end in each status; the featured tickets below count towards these.
STATUS_QUOTA = {
    S.NEW: 16,
    S.ASSIGNED: 20,
    S.IN_PROGRESS: 34,
    S.ON_SITE: 9,
    S.WAITING_CUSTOMER: 15,
    S.WAITING_PARTS: 15,
    S.RESOLVED: 26,
    S.CLOSED: 142,
    S.REOPENED: 9,
    S.CANCELLED: 14,
}
# A working desk has a few lapsed promises, not a wall of them: how many tickets may be left with
# a deadline already past when the demo is loaded (the sweep then escalates them). Any other ticket
# found so is played again, logged later, until it is within its promises.
LAPSED_TICKETS = 6
REPLAYS = 4
# No demo ticket but the one fresh Level I fault (featured) is logged in the last this long.
FRESH = timedelta(minutes=40)
# How long ago (in days) a ticket in each status was logged.
AGE_DAYS = {
    S.NEW: (0.02, 1.5),
    S.ASSIGNED: (0.02, 3),
    S.IN_PROGRESS: (0.3, 25),
    S.ON_SITE: (0.05, 1),
    S.WAITING_CUSTOMER: (1, 28),
    S.WAITING_PARTS: (1, 25),
    S.RESOLVED: (0.3, 18),
    S.CLOSED: (2, 89),
    S.REOPENED: (4, 40),
    S.CANCELLED: (1, 88),
}
KIND_WEIGHTS = {
    Kind.FAULT: 58,
    Kind.CONSULTATION: 17,
    Kind.SUGGESTION: 6,
    Kind.CHANGE: 10,
    Kind.COMPLAINT: 6,
}
# The statuses a class of ticket can sensibly end in.
KIND_STATUSES = {
    Kind.FAULT: set(Status),
    Kind.CONSULTATION: {
        S.NEW,
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.WAITING_CUSTOMER,
        S.RESOLVED,
        S.CLOSED,
        S.CANCELLED,
    },
    Kind.SUGGESTION: {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.CANCELLED},
    Kind.CHANGE: {
        S.NEW,
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.WAITING_CUSTOMER,
        S.RESOLVED,
        S.CLOSED,
        S.CANCELLED,
    },
    Kind.COMPLAINT: {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.REOPENED},
}
LEVEL_WEIGHTS = {1: 8, 2: 20, 3: 42, 4: 30}
# Minutes from the call to the engineer's acceptance, by fault level (None: not a fault).
# Most acts keep the promised times of the default SLA policies; some are late, as in life.
RESPONSE_MINUTES = {1: (3, 20), 2: (5, 35), 3: (10, 110), 4: (20, 260), None: (5, 55)}
# Minutes from the last act (a visit, a diagnosis) to the resolution.
FIX_MINUTES = {1: (30, 150), 2: (40, 360), 3: (120, 1200), 4: (60, 900), None: (30, 600)}
ON_SITE_CHANCE = {1: 0.85, 2: 0.6, 3: 0.35, 4: 0.1}
OTHER_CHANNELS = {
    Channel.PHONE: 55,
    Channel.EMAIL: 15,
    Channel.IM: 12,
    Channel.FAX: 6,
    Channel.ON_SITE: 6,
}
# The fields whose default is `timezone.now` itself, so that they read the real clock.
REAL_TIME_FIELDS = [
    (Comment, ["created_at"]),
    (WorkLog, ["created_at"]),
    (RiskApproval, ["requested_at"]),
    (FaultReport, ["written_at"]),
    (Deadline, ["created_at"]),
    (Notification, ["created_at"]),
]
# The emergency plan of a Level I fault (应急方案), as the engineer delivers it.
EMERGENCY_PLAN = (
    "应急方案（%(title)s）：\n"
    "1. 立即措施：%(workaround)s，优先恢复核心业务；\n"
    "2. 工程师驻场值守，每 30 分钟向客户通报一次进展；\n"
    "3. 备件和二线专家已同步准备，必要时升级处理；\n"
    "4. 恢复后观察 24 小时，并提交故障处理报告。"
)
# What the calls are about -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    title: str
    description: str
    levels: tuple[int, ...]
    cause: str
    resolution: str
    fault_class: str
    workaround: str = ""
    part: str = ""  # a hardware part swapped (and, in some tickets, waited for)
    risk: str = ""  # a risky action the fix needs
    plan: str = ""


@dataclass(frozen=True)
class Topic:
    """A consultation, suggestion, change request or complaint: what is asked, and the answer."""

    title: str
    description: str
    answer: str
    effort: tuple[float, float] = (1, 1)  # change requests: working days
    impact: str = Impact.MINOR


FAULTS = {
    "server": [
        Fault(
            "服务器宕机，业务系统全部中断",
            "业务主机突然宕机，前面板电源指示灯熄灭，远程管理口无法登录，核心业务全部中断。",
            (1,),
            "主机冗余电源中一块此前已损坏未及时更换，另一块电源模块老化失效，整机掉电。",
            "现场更换两块电源模块，开机自检通过，操作系统和业务服务启动正常，客户验证业务已恢复。",
            "硬件故障 · 电源模块",
            workaround="将业务临时切换到备用服务器运行，保障窗口业务不中断。",
            part="750W 热插拔电源模块 ×2",
        ),
        Fault(
            "服务器硬盘告警，RAID 阵列降级",
            "服务器前面板硬盘指示灯橙色闪烁，管理软件提示阵列降级，业务暂时正常。",
            (2, 3),
            "RAID5 阵列中 2 号槽位硬盘介质错误超过阈值，被控制器标记为故障。",
            "更换故障硬盘，阵列自动重建完成，状态恢复为 Optimal。",
            "硬件故障 · 硬盘",
            part="1.2TB 10K SAS 硬盘",
        ),
        Fault(
            "服务器频繁自动重启",
            "数据库主机近两天自动重启四次，每次重启后业务中断约 10 分钟。",
            (2,),
            "内存条 ECC 不可纠正错误导致系统保护性重启。",
            "根据管理口日志定位到 DIMM B2 故障，更换内存后连续运行 48 小时无异常。",
            "硬件故障 · 内存",
            workaround="调整业务到备机运行，主机仅保留非关键服务。",
            part="32GB DDR4 ECC 内存条",
            risk=Risk.RESTART_SERVER,
            plan="更换内存需关机约 30 分钟，计划今晚 22:00 业务低峰期停机更换。",
        ),
        Fault(
            "服务器 CPU 使用率持续 100%",
            "应用服务器 CPU 长时间满负荷，业务页面响应很慢，偶尔超时。",
            (2, 3),
            "业务应用一个定时任务线程死循环，占满 CPU。",
            "定位异常进程并重启应用服务，开发商提供补丁后已升级，CPU 使用率恢复到 20% 左右。",
            "软件故障 · 应用进程",
            workaround="临时限制该进程的 CPU 配额，保障其他业务。",
        ),
        Fault(
            "服务器操作系统无法启动",
            "服务器断电恢复后无法进入操作系统，停在文件系统检查界面报错。",
            (2,),
            "意外断电导致系统盘文件系统损坏，无法修复。",
            "重装操作系统并恢复业务配置，从备份恢复应用数据，业务验证正常。",
            "软件故障 · 操作系统",
            risk=Risk.REINSTALL,
            plan="系统盘文件系统损坏无法修复，需重装操作系统；业务数据在存储上，不受影响。",
        ),
        Fault(
            "服务器管理口无法访问",
            "服务器带外管理口 Web 页面打不开，无法远程查看硬件状态，业务不受影响。",
            (4,),
            "管理口 IP 地址与新接入的设备冲突。",
            "重新规划管理网段地址，修改管理口 IP 后访问正常。",
            "配置问题 · 管理网络",
        ),
    ],
    "storage": [
        Fault(
            "存储阵列告警，控制器离线",
            "存储管理界面告警控制器 A 离线，业务由控制器 B 接管，读写明显变慢。",
            (1, 2),
            "控制器 A 主板故障，控制器离线，业务切换到控制器 B 单控运行。",
            "更换控制器 A，双控恢复冗余，链路和多路径状态检查正常。",
            "硬件故障 · 存储控制器",
            workaround="确认业务已由控制器 B 接管，暂停非关键批处理任务以降低负载。",
            part="存储控制器模块",
        ),
        Fault(
            "存储硬盘故障，热备盘已接管",
            "存储告警一块硬盘故障，热备盘已自动接管并开始重构。",
            (3,),
            "硬盘坏道数超过阈值，被阵列隔离。",
            "更换故障硬盘并将其设为新的热备盘，重构完成后阵列状态正常。",
            "硬件故障 · 硬盘",
            part="1.92TB SSD 硬盘",
        ),
        Fault(
            "存储 LUN 容量告警，使用率超过 95%",
            "存储容量告警，数据库所在 LUN 使用率 96%，可能影响业务写入。",
            (2, 3),
            "归档日志和临时文件持续增长，未设置定期清理策略。",
            "清理已备份的过期归档文件，LUN 扩容 500GB，并把容量告警阈值设为 85%。",
            "容量问题 · 存储空间",
            risk=Risk.DATA_DELETION,
            plan="删除归档目录下 30 天前且已备份的归档日志，约 380GB，删除前再次核对备份。",
        ),
        Fault(
            "存储读写延迟高，业务查询缓慢",
            "业务系统查询明显变慢，存储监控显示写延迟超过 50ms。",
            (2, 3),
            "缓存电池失效，控制器关闭了写缓存。",
            "更换缓存电池模块，写缓存恢复，延迟降到 2ms 以内。",
            "硬件故障 · 缓存电池",
            part="BBU 缓存电池模块",
        ),
        Fault(
            "存储远程复制链路中断",
            "主备中心之间的存储复制链路中断，复制任务停止。",
            (3,),
            "复制链路光模块老化，收光功率过低。",
            "更换光模块后复制链路恢复，差异数据同步完成。",
            "硬件故障 · 光模块",
            part="10G SFP+ 光模块",
        ),
    ],
    "switch": [
        Fault(
            "核心交换机宕机，全网中断",
            "核心交换机无响应，各楼层和数据中心网络全部中断。",
            (1,),
            "主控板软件异常导致设备挂死，主备倒换未能自动完成。",
            "手工完成主备倒换，重启故障主控板，升级到厂家推荐的补丁版本，全网恢复。",
            "软件故障 · 交换机系统",
            workaround="启用备用链路，先恢复核心业务网段的通信。",
        ),
        Fault(
            "交换机端口故障，部分楼层断网",
            "三楼、四楼办公区网络中断，接入交换机上联口指示灯不亮。",
            (2, 3),
            "接入交换机上联端口光模块损坏。",
            "更换光模块，端口恢复 up，楼层网络恢复正常。",
            "硬件故障 · 光模块",
            part="千兆单模光模块",
        ),
        Fault(
            "交换机端口频繁 up/down",
            "交换机日志大量端口 up/down 告警，连接的终端时断时续。",
            (3,),
            "网线水晶头氧化，链路协商不稳定。",
            "重新压制网线，并将端口速率固定为 1000M 全双工，观察一天无告警。",
            "线路故障 · 网线",
        ),
        Fault(
            "网络环路导致广播风暴",
            "全网网速极慢，交换机 CPU 占用率接近 100%。",
            (2,),
            "办公区有人用网线把两个信息点直连，形成二层环路。",
            "定位并关闭环路端口，全网开启 STP 和环路检测功能。",
            "配置问题 · 二层环路",
        ),
        Fault(
            "新建 VLAN 之间无法互通",
            "新建的两个 VLAN 之间无法访问，其他网段正常。",
            (4,),
            "新建 VLAN 未配置三层接口和路由。",
            "补充 VLANIF 接口和静态路由配置，验证互通正常。",
            "配置问题 · VLAN",
        ),
    ],
    "firewall": [
        Fault(
            "防火墙故障，外网业务无法访问",
            "对外服务网站和接口全部无法访问，防火墙会话数告警。",
            (1, 2),
            "防火墙会话表满，新建连接被丢弃，源头为一台内网主机异常外联。",
            "封堵异常外联主机，调整会话老化时间，会话数恢复正常。",
            "安全事件 · 会话耗尽",
            workaround="临时缩短会话老化时间，优先放行业务服务器流量。",
        ),
        Fault(
            "防火墙 HA 主备切换异常",
            "两台防火墙同时为主，部分业务访问时断时续。",
            (2,),
            "心跳线接口松动，双机心跳中断导致双主。",
            "重新连接并固定心跳线，HA 状态恢复为一主一备，切换测试正常。",
            "线路故障 · 心跳线",
        ),
        Fault(
            "VPN 用户无法拨入",
            "出差人员反映 SSL VPN 客户端连接失败，提示证书错误。",
            (3,),
            "SSL VPN 服务器证书过期。",
            "更新证书，并通知用户重新下载客户端配置，拨入恢复正常。",
            "配置问题 · 证书",
        ),
        Fault(
            "防火墙特征库升级失败",
            "防火墙入侵防御特征库自动升级失败，版本已落后一个月。",
            (4,),
            "特征库升级服务许可证到期。",
            "协助客户完成许可证续期并手动升级特征库。",
            "许可问题 · 特征库",
        ),
    ],
    "ups": [
        Fault(
            "机房断电，UPS 未能正常切换",
            "市电中断时 UPS 没有切换到电池供电，机房设备全部掉电。",
            (1,),
            "UPS 静态开关模块故障，市电中断时未能切换。",
            "更换静态开关模块，进行断电切换测试正常，设备全部恢复运行。",
            "硬件故障 · 静态开关",
            workaround="协调物业接入临时市电，先恢复核心设备供电。",
            part="静态开关模块",
        ),
        Fault(
            "UPS 电池告警，后备时间不足",
            "UPS 面板告警电池异常，自检显示后备时间不足 5 分钟。",
            (2, 3),
            "蓄电池已使用超过 5 年，内阻增大，容量下降。",
            "更换整组蓄电池，放电测试后备时间 45 分钟，符合要求。",
            "硬件故障 · 蓄电池",
            part="12V 100Ah 蓄电池组",
        ),
        Fault(
            "UPS 转旁路运行",
            "UPS 告警并转入旁路运行，机房设备失去不间断电源保护。",
            (2,),
            "逆变器功率模块过温保护，风扇滤网积灰严重。",
            "清洁风扇滤网并更换功率模块，UPS 恢复在线模式。",
            "硬件故障 · 功率模块",
            workaround="确认旁路供电稳定，安排专人值守机房。",
            part="逆变功率模块",
        ),
        Fault(
            "UPS 监控卡离线",
            "动环监控平台显示 UPS 离线，设备本身运行正常。",
            (4,),
            "SNMP 监控卡网络配置在一次断电后丢失。",
            "重新配置监控卡 IP 地址和告警接收地址，监控恢复。",
            "配置问题 · 监控卡",
        ),
    ],
    "database": [
        Fault(
            "数据库宕机，业务无法登录",
            "业务系统提示无法连接数据库，所有用户无法登录。",
            (1,),
            "归档日志目录写满，数据库挂起。",
            "清理并迁移归档日志，调整归档策略，重启实例后业务恢复正常。",
            "容量问题 · 归档日志",
            workaround="临时把归档目的地切换到备用磁盘，先恢复业务。",
            risk=Risk.RESTART_DATABASE,
            plan="实例挂起无法正常恢复，需重启数据库实例，预计中断 10 分钟。",
        ),
        Fault(
            "数据库连接超时",
            "业务高峰期大量用户报连接超时，数据库告警会话数达到上限。",
            (2, 3),
            "processes 参数设置过小，高峰期会话数达到上限。",
            "将 processes 参数由 300 调整到 800，并优化应用连接池配置，高峰期运行平稳。",
            "配置问题 · 数据库参数",
            workaround="重启部分空闲应用节点释放会话，临时缓解。",
            risk=Risk.RESTART_DATABASE,
            plan="修改 processes 参数需重启数据库实例，计划今晚 23:00 重启，预计中断 10 分钟。",
        ),
        Fault(
            "数据库查询性能下降",
            "报表和查询功能明显变慢，个别查询超过 30 秒。",
            (3,),
            "统计信息过期，执行计划选错索引。",
            "重新收集统计信息并固定执行计划，查询耗时由 30 秒降到 1 秒以内。",
            "性能问题 · 执行计划",
        ),
        Fault(
            "数据库表空间不足告警",
            "监控告警业务表空间使用率 92%。",
            (3, 4),
            "业务数据增长，表空间未开启自动扩展。",
            "为表空间添加 20GB 数据文件并开启自动扩展。",
            "容量问题 · 表空间",
        ),
        Fault(
            "数据库备份作业失败",
            "最近三天的 RMAN 备份作业均失败，没有可用的新备份。",
            (2, 3),
            "备份目标 NFS 共享挂载失效。",
            "重新挂载备份存储并补做全量备份，增加备份失败告警。",
            "备份问题 · 备份目标",
        ),
    ],
    "application": [
        Fault(
            "业务系统无法登录，提示服务异常",
            "所有用户登录业务系统时提示“服务异常，请稍后再试”。",
            (1, 2),
            "应用中间件内存溢出，服务无响应。",
            "调整 JVM 堆内存参数并重启中间件，增加内存监控告警。",
            "软件故障 · 中间件",
            workaround="重启应用服务临时恢复登录。",
            risk=Risk.RESTART_SERVER,
            plan="需重启应用服务器以加载新的内存参数，预计中断 15 分钟，安排在午休时段。",
        ),
        Fault(
            "系统升级后部分功能报错",
            "上周升级到新版本后，统计和审批两个模块打开时报错。",
            (2, 3),
            "升级脚本执行不完整，缺少两张配置表。",
            "补执行升级脚本并逐一验证各功能模块，全部正常。",
            "软件故障 · 升级脚本",
        ),
        Fault(
            "报表导出失败",
            "月度统计报表导出时提示模板错误，其他功能正常。",
            (3,),
            "报表模板字段与新版本数据结构不一致。",
            "更新报表模板，导出恢复正常。",
            "软件故障 · 报表模板",
        ),
        Fault(
            "业务数据同步中断",
            "与上级平台的数据同步自前天起中断，待上报数据积压。",
            (2,),
            "接口服务证书到期，对端平台拒绝连接。",
            "更新接口证书并补传中断期间的全部数据，对端确认接收完整。",
            "配置问题 · 接口证书",
        ),
        Fault(
            "操作界面显示乱码",
            "个别电脑打开系统后部分页面中文显示为乱码。",
            (4,),
            "客户端浏览器字符集设置错误。",
            "指导客户把浏览器编码改为 UTF-8，并清理缓存，显示正常。",
            "客户端问题 · 浏览器",
        ),
    ],
}

CONSULTATIONS = {
    "server": [
        Topic(
            "服务器固件升级咨询",
            "客户询问服务器 BIOS 和管理口固件是否需要升级，升级是否影响业务。",
            "当前版本无已知严重漏洞，建议在下次巡检时一并升级；已发送升级说明和回退方案。",
        ),
        Topic(
            "服务器能否加装内存",
            "客户计划给业务主机加装内存，询问支持的型号和最大容量。",
            "该型号支持 32 条 DDR4 RDIMM，最大 2TB；建议成对加装同型号内存，已提供兼容清单。",
        ),
    ],
    "storage": [
        Topic(
            "存储扩容方案咨询",
            "客户明年数据量预计翻倍，咨询现有存储的扩容方式和费用。",
            "可增加硬盘框扩容，最多再扩 4 个；已安排客户经理提供报价和容量规划建议。",
        ),
        Topic(
            "存储快照策略咨询",
            "客户想为数据库 LUN 设置快照，询问快照频率和保留份数的建议。",
            "建议每 4 小时一次快照、保留 3 天，并保留每日 0 点快照 7 份；已远程协助配置。",
        ),
    ],
    "switch": [
        Topic(
            "交换机 VLAN 配置咨询",
            "客户新增一个科室网段，询问在交换机上如何划分 VLAN。",
            "已电话讲解 VLAN 划分和三层接口配置步骤，并发送配置示例。",
        ),
        Topic(
            "交换机配置备份方法咨询",
            "客户询问如何定期备份交换机配置。",
            "介绍了 FTP 自动备份配置方法，建议每周备份一次并在变更前手工备份。",
        ),
    ],
    "firewall": [
        Topic(
            "防火墙许可证续期咨询",
            "防火墙提示特征库许可证 30 天后到期，客户询问续期流程。",
            "已说明续期流程和所需材料，并转客户经理提供续期报价。",
        ),
        Topic(
            "如何导出防火墙访问日志",
            "等保测评需要近半年的访问日志，客户询问导出方法。",
            "已指导客户通过日志服务器按时间段导出，并说明日志保留周期为 180 天。",
        ),
    ],
    "ups": [
        Topic(
            "UPS 电池更换周期咨询",
            "客户询问 UPS 蓄电池多久需要更换。",
            "阀控铅酸电池一般 3–5 年更换，建议每年做一次放电测试，按测试结果决定。",
        ),
        Topic(
            "UPS 能否接入动环监控",
            "客户新建动环监控平台，询问 UPS 如何接入。",
            "UPS 已带 SNMP 卡，可通过 SNMP 协议接入；已发送 MIB 文件和配置说明。",
        ),
    ],
    "database": [
        Topic(
            "数据库备份策略咨询",
            "客户询问数据库备份如何安排更合理。",
            "建议每周日全量备份、每日增量备份，归档日志每 2 小时备份一次，并定期做恢复演练。",
        ),
        Topic(
            "数据库版本升级咨询",
            "客户询问数据库是否需要打最新的补丁集。",
            "建议升级到最新季度补丁集，可修复多个安全漏洞；升级需停机约 1 小时，可提变更申请。",
        ),
    ],
    "application": [
        Topic(
            "系统升级咨询：V3.2 升级到 V3.3 的注意事项",
            "客户计划升级业务系统，询问升级前的准备工作和停机时间。",
            "已发送升级手册：升级前完整备份数据库，停机约 2 小时，升级后按清单验证各模块。",
        ),
        Topic(
            "如何新增操作员账号并分配权限",
            "新入职员工需要开通系统账号，客户管理员不清楚操作步骤。",
            "已电话指导管理员在“系统管理-用户管理”中新增账号并分配角色，客户操作成功。",
        ),
        Topic(
            "如何导出审计日志",
            "内部审计要求导出系统操作日志，客户询问方法。",
            "已指导客户在“安全审计”菜单按时间段查询并导出 Excel。",
        ),
    ],
}

SUGGESTIONS = [
    Topic(
        "建议业务系统增加报表导出 Excel 功能",
        "目前报表只能导出 PDF，业务科室希望能直接导出 Excel 做二次统计。",
        "已提交产品部门评估，计划在 V3.3 版本中提供 Excel 导出，届时通知客户。",
    ),
    Topic(
        "建议监控平台增加短信告警",
        "夜间出现告警时值班人员经常看不到邮件，希望增加短信通知。",
        "已转产品部门，短信告警功能已在开发计划中，预计下季度发布。",
    ),
    Topic(
        "建议巡检报告增加硬盘健康度指标",
        "希望月度巡检报告能反映每块硬盘的健康度和预计寿命。",
        "采纳建议，下月起巡检报告增加硬盘 SMART 信息和健康度评估。",
    ),
    Topic(
        "建议优化查询页面的响应速度",
        "高峰期综合查询页面打开较慢，希望优化。",
        "已反馈研发部门，下一版本将优化查询索引并增加分页加载。",
    ),
    Topic(
        "建议增加微信报修渠道",
        "希望能通过微信公众号直接报修和查看处理进度。",
        "感谢建议，已纳入服务平台建设计划，目前可通过服务门户提交和跟踪。",
    ),
]

CHANGES = {
    "server": [
        Topic(
            "服务器固件批量升级申请",
            "按厂家安全公告升级全部业务服务器的 BIOS 和管理口固件。",
            "固件升级已完成，各服务器运行正常，升级记录已归档。",
            (1, 3),
            Impact.IMPORTANT,
        ),
    ],
    "storage": [
        Topic(
            "存储快照策略调整",
            "为数据库和文件服务器 LUN 增加定时快照策略。",
            "快照策略已配置并验证恢复，运行正常。",
            (0.5, 2),
            Impact.MINOR,
        ),
        Topic(
            "业务数据迁移至新存储",
            "将旧存储上的全部业务数据迁移到新采购的存储，并下线旧设备。",
            "数据迁移完成，校验一致，业务已切换到新存储运行，旧存储已下线。",
            (12, 20),
            Impact.MAJOR,
        ),
    ],
    "switch": [
        Topic(
            "核心交换机 VLAN 规划调整",
            "新增两个业务网段，调整核心交换机 VLAN 和路由配置。",
            "VLAN 和路由调整已完成，各网段互通测试正常。",
            (1, 3),
            Impact.IMPORTANT,
        ),
        Topic(
            "机房网络架构改造：核心交换机双机堆叠",
            "两台核心交换机组建堆叠，消除单点故障，需分批割接。",
            "堆叠改造完成，主备切换测试正常，割接期间业务无中断投诉。",
            (10, 18),
            Impact.MAJOR,
        ),
    ],
    "firewall": [
        Topic(
            "防火墙策略变更申请：开放业务接口端口",
            "上级平台对接需要开放业务系统 8443 端口，仅允许指定来源地址访问。",
            "策略已按申请开放并限制来源地址，对接测试通过。",
            (0.5, 2),
            Impact.MINOR,
        ),
    ],
    "ups": [
        Topic(
            "UPS 接入动环监控平台",
            "将机房 UPS 通过 SNMP 接入新建的动环监控平台。",
            "UPS 已接入动环监控，告警推送测试正常。",
            (1, 2),
            Impact.MINOR,
        ),
    ],
    "database": [
        Topic(
            "数据库补丁集升级",
            "将数据库升级到最新季度补丁集，修复已公布的安全漏洞。",
            "补丁升级完成，业务回归测试通过。",
            (2, 5),
            Impact.IMPORTANT,
        ),
        Topic(
            "数据库 11g 升级到 19c",
            "数据库大版本升级，含兼容性测试、数据迁移和业务切换。",
            "数据库已升级到 19c，数据校验一致，业务切换完成，运行稳定。",
            (15, 30),
            Impact.MAJOR,
        ),
    ],
    "application": [
        Topic(
            "业务报表格式调整",
            "按新的统计口径调整月报和季报格式。",
            "报表格式已调整并经业务科室确认。",
            (3, 8),
            Impact.MINOR,
        ),
        Topic(
            "业务系统对接统一身份认证平台",
            "业务系统接入单位统一身份认证，实现单点登录。",
            "统一身份认证对接完成，单点登录上线运行。",
            (12, 25),
            Impact.MAJOR,
        ),
    ],
}

COMPLAINTS = [
    Topic(
        "投诉：工程师未按约定时间到场",
        "约定上午 9 点到场处理，工程师 11 点才到，且事先没有通知。",
        "中心经理已向客户致歉并说明原因；已调整排班，今后预约上门延误须提前通知客户。",
    ),
    Topic(
        "投诉：故障处理时间过长，影响业务开展",
        "上周的故障处理了三天才解决，期间业务只能手工办理。",
        "已组织复盘并向客户书面说明；对同类故障启用二线专家提前介入，并补充本地备件。",
    ),
    Topic(
        "投诉：同一故障一个月内反复出现",
        "同一台设备一个月内出现三次同样的故障，每次都只是临时处理。",
        "已安排产品专家彻底排查并更换相关部件，后续一个月每周回访一次。",
    ),
    Topic(
        "投诉：热线电话多次无人接听",
        "昨晚 8 点多多次拨打服务热线无人接听。",
        "经核查为值班电话转接故障，已修复并增加备用值班号码，向客户致歉。",
    ),
]

DIAGNOSIS = [
    "电话联系客户确认故障现象和发生时间，指导客户收集系统日志。",
    "远程登录设备查看告警和运行日志，初步判断故障范围。",
    "远程检查服务状态和错误日志，与客户逐项核对近期变更。",
    "电话指导客户检查设备指示灯和线缆连接情况。",
]
ON_SITE_WORK = [
    "到达现场检查设备运行状态，收集诊断日志，与客户确认故障现象。",
    "现场排查硬件告警，核对线缆和指示灯，定位故障部件。",
]
ENGINEER_COMMENTS = [
    "已电话联系贵单位信息中心，确认故障现象，正在处理中。",
    "已远程收集日志，正在分析原因，有进展会第一时间通知您。",
    "预计今天下午到达现场，请安排人员配合进入机房。",
    "已联系厂家二线技术支持协助分析。",
    "已定位故障范围，正在制定处理方案，方案确定后与您确认实施时间。",
]
CUSTOMER_COMMENTS = [
    "请尽快处理，业务科室反映比较急。",
    "今天下午机房有人值守，可以安排上门。",
    "补充一下：故障前一天晚上机房做过一次停电检修。",
    "请问大概什么时候能处理好？",
    "日志已经按要求导出，发到你们的服务邮箱了。",
]
CUSTOMER_THANKS = [
    "问题已解决，感谢工程师的耐心处理！",
    "确认已恢复正常，谢谢。",
    "处理很及时，辛苦了。",
]
INTERNAL_NOTES = [
    "该设备本季度已第二次出现同类故障，下次巡检时重点检查。",
    "客户联系人比较着急，注意及时回复进展。",
    "本地备件库存不足，已向中心备件库申请调拨。",
    "客户合同明年到期，处理完后提醒客户经理跟进续签。",
    "已与厂家二线确认属于已知问题，补丁下月发布。",
]
AGENT_NOTES = [
    "客户来电催促，已告知工程师尽快联系。",
    "客户要求处理前先电话联系信息中心主任。",
    "客户说明下午 2 点后机房才有人。",
]
PAUSE_REASONS = [
    "等待客户安排机房进入时间。",
    "等待客户提供故障时段的业务日志。",
    "等待客户确认业务停机窗口。",
    "客户方系统管理员出差，等待其返回后配合测试。",
]
RESUME_NOTES = ["客户已提供所需信息，继续处理。", "已与客户约定时间，继续处理。"]
CANCEL_REASONS = [
    "客户来电说明是重复报修，与已有工单为同一故障。",
    "客户自行重启后恢复正常，经确认取消报修。",
    "误报：为客户内部网络调整造成，与我方设备无关。",
    "客户要求撤销，该需求改由其他供应商处理。",
]
REOPEN_REASONS = [
    "故障再次出现，现象与上次相同。",
    "处理后运行两天又出现同样的告警。",
    "业务科室反映问题没有彻底解决。",
]
IMPACT_WORDS = {Impact.MINOR: "一般", Impact.IMPORTANT: "重要", Impact.MAJOR: "重大"}
COMPLAINT_REOPEN_REASONS = [
    "客户对处理结果不满意，要求中心经理当面说明。",
    "客户认为整改措施没有落实，要求重新处理。",
]
CONFIRM_NOTES = ["客户电话确认业务恢复正常。", "回访客户，确认问题已解决。", ""]
CONSENT_NOTES = [
    "客户已签署《高风险操作确认单》，扫描件已存档。",
    "客户信息中心主任书面同意，已约定执行时间。",
]
APPROVE_REASONS = [
    "风险可控，已确认有完整备份，同意在业务低峰期执行。",
    "方案和回退步骤清楚，同意执行，执行前后电话报告。",
]
REFUSE_REASONS = [
    "业务高峰期不允许重启，请先采用在线方式处理。",
    "回退方案不完整，暂不同意，先做在线排查。",
]


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def days(count: float) -> timedelta:
    return timedelta(days=count)


def category(equipment: Equipment) -> str:
    """Which family of calls a device gets, from its model name."""
    name = equipment.model_name
    for word, family in [
        ("服务器", "server"),
        ("存储", "storage"),
        ("交换机", "switch"),
        ("防火墙", "firewall"),
        ("UPS", "ups"),
        ("数据库", "database"),
    ]:
        if word in name:
            return family
    return "application"


# Planning ---------------------------------------------------------------------------------------


@dataclass
class Spec:
    """One ticket to build: where it ends, and the choices that shape its story (None: drawn)."""

    status: str
    kind: str
    age: timedelta
    pool: list | None = None  # the equipment to choose from
    equipment: Equipment | None = None
    level: int | None = None
    content: Fault | Topic | None = None
    tier: int | None = None
    assignee: User | None = None
    urgency: str | None = None
    channel: str | None = None
    portal: bool | None = None
    on_spot: bool | None = None
    team_only: bool | None = None
    on_site: bool | None = None
    risk: str | None = None  # "", pending, approved (no consent yet), consented, refused
    change: str | None = None  # the decision on a change request
    big: bool | None = None  # a change of 10 working days or more
    report: bool | None = None
    reopened: bool | None = None  # closed after a first resolution was reopened


class Story:
    """The acts of one ticket, planned against the transition table, then played in order."""

    def __init__(self, desk: "Desk", spec: Spec):
        self.desk, self.spec, self.rng = desk, spec, desk.rng
        self.equipment = spec.equipment
        self.site = self.equipment.site
        self.organisation = self.site.organisation
        self.centre = self.site.centre
        self.agent = desk.agents.get(self.centre.pk, desk.any_agent)
        self.manager = desk.managers.get(self.centre.pk) or desk.any_manager
        self.team = desk.teams[self.centre.pk][spec.tier]
        people = self.team.people
        if spec.kind == Kind.COMPLAINT and self.team.supervisor in people:
            self.engineer = self.team.supervisor
        elif spec.assignee is not None and spec.assignee in people:
            self.engineer = spec.assignee
        else:
            self.engineer = self.rng.choice(people)
        self.customer = desk.customers.get(self.organisation.pk)
        contacts = desk.contacts.get(self.organisation.pk, [])
        own = getattr(self.customer, "contact", None) if self.customer else None
        if spec.portal and own is not None:
            self.contact = own
        else:
            self.contact = self.rng.choice(contacts) if contacts else None
        self.signer = self.contact.name if self.contact else "客户代表"
        self.steps: list[tuple[float, Callable[[], object]]] = []
        self.state: str | None = None
        self.visit_open = False
        self.ticket: Ticket | None = None
        self.approval = None
        self.change = None
        self.margin = 0.0

    # The plan's building blocks -----------------------------------------------------------------

    def act(self, name: str | None, minutes: float, call: Callable[[], object]) -> None:
        """Plan one act, `minutes` after the previous one; refuse what the table would refuse."""
        if name is not None:
            act = ACTS[name]
            if self.state not in act.sources:
                raise ValueError(f"demo plan for {self.spec}: {name} from {self.state}")
            if act.target is not None:
                self.state = act.target
        self.steps.append((minutes, call))

    def between(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def keep(self, ticket: Ticket) -> Ticket:
        self.ticket = ticket
        return ticket

    def keep_approval(self, approval):
        self.approval = approval

    def keep_change(self, change):
        self.change = change

    def details(self) -> services.CallDetails:
        spec, content = self.spec, self.spec.content
        contract = self.equipment.contract
        if contract is not None and contract.pk not in self.desk.covered:
            contract = None  # out of contract: the hotline logs paid service
        return services.CallDetails(
            organisation=self.organisation,
            title=content.title,
            description=content.description,
            kind=spec.kind,
            level=spec.level,
            urgency=spec.urgency,
            channel=spec.channel,
            site=self.site,
            contact=self.contact,
            equipment=self.equipment,
            contract=contract,
            on_site_required=spec.kind == Kind.FAULT and bool(spec.on_site or content.part),
            # A fault that swaps a part is a hardware fault; the others concern the system.
            fault_area=(FaultArea.HARDWARE if content.part else FaultArea.SYSTEM)
            if spec.kind == Kind.FAULT
            else "",
        )

    def complained_about(self, details: services.CallDetails) -> None:
        """A complaint names the organisation's latest fault before it and the engineer on it."""
        about = (
            Ticket.objects.filter(organisation=self.organisation, kind=Kind.FAULT, assignee__isnull=False)
            .select_related("assignee")
            .order_by("-created_at")
            .first()
        )
        if about is not None:
            details.about_ticket, details.about_engineer = about, about.assignee

    def log(self) -> None:
        """The call comes in: answered on the spot, filed on the portal, or logged and assigned."""
        spec, details = self.spec, self.details()
        if spec.kind == Kind.COMPLAINT:
            # Looked up when played: the tickets logged before it exist by then.
            self.act(None, 0, lambda: self.complained_about(details))
        if spec.on_spot:
            answer = spec.content.answer
            self.act(None, 0, lambda: self.keep(services.answer_call(details, by=self.agent, answer=answer)))
            self.state = S.CLOSED
            return
        if spec.portal:
            self.act(None, 0, lambda: self.keep(services.file_request(details, by=self.customer)))
            self.state = S.NEW
            if spec.status != S.NEW:
                assignee = None if spec.team_only else self.engineer
                self.act(
                    "assign",
                    self.between(5, 90),
                    lambda: services.assign(self.ticket, by=self.agent, team=self.team, assignee=assignee),
                )
            return
        if spec.status == S.NEW:
            self.act(None, 0, lambda: self.keep(services.log_call(details, by=self.agent)))
            self.state = S.NEW
            return
        assignee = None if spec.team_only else self.engineer
        self.act(
            None,
            0,
            lambda: self.keep(services.log_call(details, by=self.agent, team=self.team, assignee=assignee)),
        )
        self.state = S.ASSIGNED

    def accept(self) -> None:
        low, high = RESPONSE_MINUTES[self.spec.level]
        self.act(
            "accept",
            self.between(low, high),
            lambda: services.accept(self.ticket, by=self.engineer),
        )

    def work(self, method: str, minutes: int, note: str, *, gap: float | None = None) -> None:
        """Time spent, logged when the work is done (`gap` minutes after the previous act)."""
        self.act(
            "log_work",
            minutes + self.between(2, 15) if gap is None else gap,
            lambda: services.log_work(
                self.ticket, by=self.engineer, minutes=minutes, method=method, note=note
            ),
        )

    def comment(self, by: User, body: str, minutes: float, *, internal: bool = False) -> None:
        self.act(
            "comment",
            minutes,
            lambda: services.add_comment(self.ticket, by=by, body=body, is_internal=internal),
        )

    def chatter(self) -> None:
        """What people write while a ticket is worked: replies, a customer's nudge, notes."""
        rng = self.rng
        if rng.random() < 0.4:
            self.comment(self.engineer, rng.choice(ENGINEER_COMMENTS), self.between(5, 60))
        if self.customer and rng.random() < 0.45:
            self.comment(self.customer, rng.choice(CUSTOMER_COMMENTS), self.between(10, 240))
        if rng.random() < 0.15:
            note = rng.choice(INTERNAL_NOTES)
            self.comment(self.engineer, note, self.between(5, 90), internal=True)

    def travel(self, gap: float | None = None) -> None:
        """Set off for the site and arrive there."""
        travel = self.site.travel_minutes or int(self.between(20, 50))
        self.act(
            "start_travel",
            self.between(10, 45) if gap is None else gap,
            lambda: services.start_travel(self.ticket, by=self.engineer),
        )
        self.visit_open = True
        self.act("arrive", travel, lambda: services.record_arrival(self.ticket, by=self.engineer))

    def leave(self, note: str) -> None:
        """Work on site, then leave with the customer's sign-off."""
        minutes = int(self.between(40, 240))
        self.work(WorkMethod.ON_SITE, minutes, note)
        signer = self.signer
        self.act(
            "depart",
            self.between(3, 20),
            lambda: services.record_departure(
                self.ticket, by=self.engineer, signed_off_by=signer, note="现场工作完成，客户签字确认。"
            ),
        )
        self.visit_open = False

    def visit(self, note: str, *, gap: float | None = None) -> None:
        self.travel(gap)
        self.leave(note)

    def give_workaround(self, text: str) -> None:
        self.act(
            "give_workaround",
            self.between(10, 45),
            lambda: services.give_workaround(self.ticket, by=self.engineer, workaround=text),
        )

    def emergency_plan(self) -> None:
        """A Level I fault: the emergency plan reaches the customer within hours, sometimes revised."""
        fault = self.spec.content
        workaround = (fault.workaround or "启用备用设备").rstrip("。")
        plan = EMERGENCY_PLAN % {"workaround": workaround, "title": fault.title}
        self.act(
            "deliver_emergency_plan",
            self.between(30, 180),
            lambda: services.deliver_emergency_plan(self.ticket, by=self.engineer, plan=plan),
        )
        if self.rng.random() < 0.3:
            revised = plan + "\n修订：已确认故障原因，根治方案待备件到货后当晚实施。"
            self.act(
                "deliver_emergency_plan",
                self.between(120, 480),
                lambda: services.deliver_emergency_plan(self.ticket, by=self.engineer, plan=revised),
            )

    def pause(self, reason: str, minutes: float) -> None:
        self.act("pause", minutes, lambda: services.pause(self.ticket, by=self.engineer, reason=reason))

    def resolve(self, resolution: str, cause: str = "") -> None:
        if self.visit_open:
            raise ValueError(f"demo plan for {self.spec}: resolve during a visit")
        low, high = FIX_MINUTES[self.spec.level if self.spec.kind == Kind.FAULT else None]
        self.act(
            "resolve",
            self.between(low, high),
            lambda: services.resolve(self.ticket, by=self.engineer, resolution=resolution, root_cause=cause),
        )

    def confirm(self) -> None:
        """The customer confirms in the portal, or tells the agent, who confirms on their word."""
        rng = self.rng
        gap = self.between(30, 4 * 24 * 60)
        if self.customer and rng.random() < 0.85:
            note = rng.choice(CUSTOMER_THANKS) if rng.random() < 0.5 else ""
            customer = self.customer
            # A customer confirms with a score (drawn from nothing new, so that the demo stays as it was).
            score = 5 if note else 4
            self.act(
                "confirm", gap, lambda: services.confirm(self.ticket, by=customer, note=note, score=score)
            )
        else:
            note = rng.choice(CONFIRM_NOTES)
            self.act("confirm", gap, lambda: services.confirm(self.ticket, by=self.agent, note=note))

    def reopen(self) -> None:
        by = self.customer if self.customer and self.rng.random() < 0.7 else self.agent
        reasons = COMPLAINT_REOPEN_REASONS if self.spec.kind == Kind.COMPLAINT else REOPEN_REASONS
        reason = self.rng.choice(reasons)
        self.act(
            "reopen",
            self.between(6 * 60, 5 * 24 * 60),
            lambda: services.reopen(self.ticket, by=by, reason=reason),
        )

    def cancel(self, reason: str, minutes: float) -> None:
        self.act("cancel", minutes, lambda: services.cancel(self.ticket, by=self.agent, reason=reason))

    # The stories --------------------------------------------------------------------------------

    def plan(self) -> "Story":
        self.story()
        self.margin = self.rng.uniform(3, 40)  # minutes between the last act and now
        return self

    def story(self) -> None:
        spec, rng = self.spec, self.rng
        self.log()
        if spec.on_spot or spec.status == S.NEW:
            if spec.status == S.NEW and spec.portal and rng.random() < 0.3:
                self.comment(self.customer, rng.choice(CUSTOMER_COMMENTS), self.between(5, 60))
            return
        if spec.kind == Kind.CHANGE:
            self.change_request()
            return
        if spec.status == S.CANCELLED:
            if rng.random() < 0.4:
                self.accept()
            self.cancel(rng.choice(CANCEL_REASONS), self.between(10, 24 * 60))
            return
        if spec.status == S.ASSIGNED:
            if rng.random() < 0.35:
                note = "已收到工单，正在联系客户了解情况。"
                self.act(
                    "respond",
                    self.between(3, 30),
                    lambda: services.respond(self.ticket, by=self.engineer, note=note),
                )
            elif rng.random() < 0.3:
                self.comment(self.agent, rng.choice(AGENT_NOTES), self.between(5, 60), internal=True)
            return
        if spec.kind == Kind.FAULT:
            self.fault()
        elif spec.kind == Kind.COMPLAINT:
            self.complaint()
        else:
            self.question()

    def fault(self) -> None:
        spec, fault, rng, target = self.spec, self.spec.content, self.rng, self.spec.status
        self.accept()
        # A Level I or II fault needing a visit: the engineer sets off at once.
        rush = spec.level <= 2 and bool(spec.on_site or fault.part or target == S.ON_SITE)
        if rush:
            self.travel(gap=self.between(5, 20))
            if fault.workaround and rng.random() < 0.85:
                self.give_workaround(fault.workaround)
            if spec.level == 1:
                self.emergency_plan()
            if target == S.ON_SITE:
                return
            self.leave(rng.choice(ON_SITE_WORK))
        else:
            method = rng.choice([WorkMethod.PHONE, WorkMethod.REMOTE])
            self.work(method, rng.randint(15, 60), rng.choice(DIAGNOSIS))
            if spec.level <= 2 and fault.workaround and rng.random() < 0.85:
                self.give_workaround(fault.workaround)
            if spec.level == 1:
                self.emergency_plan()
        self.chatter()
        operational = spec.level == 4 and target in (S.RESOLVED, S.CLOSED) and rng.random() < 0.2
        if operational or rng.random() < 0.45:
            kind = ProblemType.OPERATIONAL if operational else ProblemType.TECHNICAL
            note = (
                "经分析为操作问题，不是设备缺陷，按咨询类处理并指导客户正确操作。"
                if operational
                else f"分析结论：{fault.cause}"
            )
            self.act(
                "analyse",
                self.between(15, 120),
                lambda: services.analyse(self.ticket, by=self.engineer, problem_type=kind, note=note),
            )
        if target == S.ON_SITE:
            self.travel()
            return
        if target == S.IN_PROGRESS and not spec.risk and not fault.part and rng.random() < 0.5:
            return  # still being diagnosed
        if spec.risk and self.risky_action():
            return
        if target == S.WAITING_CUSTOMER:
            self.pause(rng.choice(PAUSE_REASONS), self.between(10, 120))
            return
        if not rush and (spec.on_site or fault.part):
            self.visit(rng.choice(ON_SITE_WORK))
        if fault.part:
            note = f"等待备件：{fault.part}。已向备件库申请，预计 1–2 天到货。"
            self.act(
                "wait_for_parts",
                self.between(10, 60),
                lambda: services.wait_for_parts(self.ticket, by=self.engineer, note=note),
            )
            if target == S.WAITING_PARTS:
                return
            self.visit(f"备件到货，上门更换{fault.part}，测试正常。", gap=self.between(12 * 60, 3 * 24 * 60))
        if target == S.IN_PROGRESS:
            return
        if rng.random() < 0.12:
            self.pause(rng.choice(PAUSE_REASONS), self.between(10, 60))
            note = rng.choice(RESUME_NOTES)
            self.act(
                "resume",
                self.between(4 * 60, 2 * 24 * 60),
                lambda: services.resume(self.ticket, by=self.engineer, note=note),
            )
        self.resolve(fault.resolution, fault.cause)
        if spec.report:
            loss = self.loss()
            self.act(
                "write_report",
                self.between(60, 20 * 60),
                lambda: services.write_fault_report(
                    self.ticket,
                    by=self.engineer,
                    fault_class=fault.fault_class,
                    cause=fault.cause,
                    method=fault.resolution,
                    loss=loss,
                ),
            )
        self.after_resolution(fault.resolution)

    def loss(self) -> str:
        hours = {1: self.rng.choice([1, 2, 3, 4]), 2: self.rng.choice([2, 4, 6, 8])}[self.spec.level]
        if self.spec.level == 1:
            return f"核心业务中断约 {hours} 小时，期间改为手工办理，无数据丢失。"
        return f"相关业务受影响约 {hours} 小时，处理效率下降，无数据丢失。"

    def risky_action(self) -> bool:
        """Approval for a restart, deletion or reinstall; True when the story ends waiting on it."""
        spec, fault, rng = self.spec, self.spec.content, self.rng
        risk, plan = fault.risk, fault.plan
        self.act(
            "request_approval",
            self.between(15, 90),
            lambda: self.keep_approval(
                services.request_approval(self.ticket, by=self.engineer, risk=risk, plan=plan)
            ),
        )
        if spec.risk == "pending":
            return True
        supervisor = self.team.supervisor
        if supervisor is None or supervisor == self.engineer or rng.random() < 0.3:
            decider = self.manager
        else:
            decider = supervisor
        approve = spec.risk != "refused"
        reason = rng.choice(APPROVE_REASONS if approve else REFUSE_REASONS)
        self.act(
            None,
            self.between(10, 120),
            lambda: services.decide_risk(self.approval, by=decider, approve=approve, reason=reason),
        )
        if spec.risk == "approved":
            self.pause("等待客户签署高风险操作书面同意书。", self.between(10, 60))
            return True
        if spec.risk == "consented":
            signer, note = self.signer, rng.choice(CONSENT_NOTES)
            self.act(
                "request_approval",
                self.between(30, 10 * 60),
                lambda: services.record_consent(self.approval, by=self.engineer, given_by=signer, note=note),
            )
            self.work(WorkMethod.REMOTE, rng.randint(20, 90), f"按审批方案执行：{plan}")
        else:
            self.work(
                WorkMethod.REMOTE,
                rng.randint(30, 120),
                "高风险操作未获批准，改为在线方式处理，逐项排查并调整配置。",
            )
        return False

    def after_resolution(self, resolution: str) -> None:
        """Waiting for confirmation, confirmed, or reopened (and perhaps solved for good after)."""
        spec, rng, target = self.spec, self.rng, self.spec.status
        if target == S.RESOLVED:
            return
        if target == S.REOPENED or spec.reopened:
            if rng.random() < 0.5:
                self.confirm()
            self.reopen()
            if target == S.REOPENED:
                return
            self.accept()
            self.work(
                rng.choice([WorkMethod.REMOTE, WorkMethod.ON_SITE]),
                rng.randint(30, 180),
                "复查故障复现情况，重新检查相关配置和硬件状态。",
            )
            self.resolve(f"复查后彻底处理：{resolution} 已持续观察 24 小时无异常。")
        self.confirm()
        if self.customer and rng.random() < 0.25:
            self.comment(self.customer, rng.choice(CUSTOMER_THANKS), self.between(5, 120))

    def question(self) -> None:
        """A consultation or a suggestion: looked into, answered, and the answer confirmed."""
        spec, topic, rng, target = self.spec, self.spec.content, self.rng, self.spec.status
        self.accept()
        if spec.kind == Kind.CONSULTATION and target == S.CLOSED and rng.random() < 0.35:
            # The engineer finds the answer; the agent calls back and closes the consultation.
            self.work(WorkMethod.PHONE, rng.randint(10, 40), "查阅产品资料并与客户电话沟通。")
            answer = topic.answer
            self.act(
                "answer",
                self.between(10, 120),
                lambda: services.answer(self.ticket, by=self.agent, answer=answer),
            )
            return
        note = "与客户电话沟通，了解具体需求和使用场景。"
        self.work(rng.choice([WorkMethod.PHONE, WorkMethod.REMOTE]), rng.randint(10, 60), note)
        if rng.random() < 0.3:
            self.comment(self.engineer, rng.choice(ENGINEER_COMMENTS[:2]), self.between(5, 60))
        if target == S.IN_PROGRESS:
            return
        if target == S.WAITING_CUSTOMER:
            self.pause("等待客户提供当前系统版本和配置信息。", self.between(10, 120))
            return
        self.resolve(topic.answer)
        self.after_resolution(topic.answer)

    def complaint(self) -> None:
        """The supervisor calls the customer back at once, looks into it and answers."""
        topic, rng, target = self.spec.content, self.rng, self.spec.status
        note = "已在 15 分钟内回电客户致歉，了解投诉详情，承诺当天给出处理意见。"
        self.act(
            "respond",
            self.between(3, 15),
            lambda: services.respond(self.ticket, by=self.engineer, note=note),
        )
        self.accept()
        self.comment(
            self.engineer,
            "已调阅相关工单和通话记录，核实投诉情况。",
            self.between(20, 120),
            internal=True,
        )
        self.work(WorkMethod.PHONE, rng.randint(20, 60), "与客户和相关工程师分别沟通，核实经过。")
        if target == S.IN_PROGRESS:
            return
        self.resolve(topic.answer)
        self.after_resolution(topic.answer)

    def change_request(self) -> None:
        """Assessed, submitted with its effort, decided, and carried out if approved."""
        spec, topic, rng, target = self.spec, self.spec.content, self.rng, self.spec.status
        low, high = topic.effort
        effort = max(0.5, round(self.between(low, high) * 2) / 2)
        impact = topic.impact
        if target == S.ASSIGNED:
            if rng.random() < 0.6:
                self.act(
                    "submit_change",
                    self.between(10, 120),
                    lambda: services.submit_change(
                        self.ticket, by=self.agent, effort_days=effort, impact=impact
                    ),
                )
            return
        if target == S.CANCELLED and spec.change != Decision.REFUSED:
            self.cancel(rng.choice(CANCEL_REASONS[3:]), self.between(60, 3 * 24 * 60))
            return
        self.accept()
        self.work(
            WorkMethod.PHONE,
            rng.randint(20, 60),
            "与客户沟通变更需求、实施窗口和回退方案。",
        )
        kind = rng.choice([ProblemType.TECHNICAL, ProblemType.BUSINESS])
        note = f"变更评估：预计 {effort} 个工作日，影响{IMPACT_WORDS[impact]}，已拟定实施和回退方案。"
        self.act(
            "analyse",
            self.between(60, 24 * 60),
            lambda: services.analyse(self.ticket, by=self.engineer, problem_type=kind, note=note),
        )
        self.act(
            "submit_change",
            self.between(10, 120),
            lambda: self.keep_change(
                services.submit_change(self.ticket, by=self.engineer, effort_days=effort, impact=impact)
            ),
        )
        if spec.change == Decision.PENDING:
            if target == S.WAITING_CUSTOMER:
                self.pause("等待客户确认变更实施窗口。", self.between(30, 240))
            return
        supervisor = self.team.supervisor
        if effort >= 10 or supervisor is None or supervisor == self.engineer:
            decider = self.manager  # ten working days or more: a company leader decides
        else:
            decider = supervisor
        approve = spec.change == Decision.APPROVED
        reason = (
            "方案完整，回退措施可行，同意实施。"
            if approve
            else "本年度预算和人力已排满，且变更影响范围较大，暂不同意，建议明年统一规划。"
        )
        self.act(
            None,
            self.between(2 * 60, 3 * 24 * 60),
            lambda: services.decide_change(self.change, by=decider, approve=approve, reason=reason),
        )
        if not approve:
            self.cancel("变更申请未获批准，按审批意见撤销。", self.between(30, 24 * 60))
            return
        if target == S.IN_PROGRESS:
            self.comment(
                self.engineer,
                "变更已批准，计划在本周末业务低峰期实施，实施前一天再次确认。",
                self.between(30, 240),
            )
            return
        if target == S.WAITING_CUSTOMER:
            self.pause("变更已批准，等待客户确认实施窗口。", self.between(30, 240))
            return
        if rng.random() < 0.5:
            self.visit(f"现场实施变更：{topic.description}", gap=self.between(24 * 60, 4 * 24 * 60))
        else:
            minutes = rng.randint(60, 480)
            self.work(
                WorkMethod.REMOTE,
                minutes,
                f"远程实施变更：{topic.description}",
                gap=minutes + self.between(24 * 60, 4 * 24 * 60),
            )
        self.resolve(topic.answer)
        if target != S.RESOLVED:
            self.confirm()


# The desk ---------------------------------------------------------------------------------------


class Replay(Exception):
    """The ticket would leave the desk with one lapsed promise too many: play it again, later."""


class Clock:
    """
    The demo's clock: while it runs, `timezone.now()` answers the moment of the act being played.

    The services, the deadline clock and `auto_now` fields then date everything as of that
    moment. Fields whose default is `timezone.now` itself were bound before the clock was put in,
    so they still read the real time; the real time just before each act is noted with its moment,
    and `map` moves such a timestamp to its act's moment afterwards.
    """

    def __init__(self):
        self.real_now = timezone.now
        self.real: list[datetime] = []
        self.moments: list[datetime] = []
        self.moment: datetime | None = None
        self.ticks = 0

    def now(self) -> datetime:
        if self.moment is None:
            return self.real_now()
        self.ticks += 1  # a microsecond per reading keeps the acts of one moment in order
        return self.moment + timedelta(microseconds=self.ticks)

    @contextmanager
    def running(self):
        with mock.patch.object(timezone, "now", self.now):
            try:
                yield self
            finally:
                self.moment = None

    def mark(self, moment: datetime) -> None:
        self.real.append(self.real_now())
        self.moments.append(moment)
        self.moment = moment

    def map(self, value: datetime | None) -> datetime | None:
        """A timestamp read from the real clock during an act, moved to that act's moment."""
        if value is None or not self.real or value < self.real[0]:
            return value
        index = bisect_right(self.real, value) - 1
        return self.moments[index] + (value - self.real[index])


class Desk:
    """The demo world as the tickets need it, loaded once, and the tickets built on it."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = timezone.now()
        self.clock = Clock()
        self.failed: list[str] = []
        self.lapses_left = LAPSED_TICKETS
        centres = list(SupportCentre.objects.select_related("manager").order_by("code"))
        self.managers = {centre.pk: centre.manager for centre in centres}
        self.any_manager = next((c.manager for c in centres if c.manager_id), None)
        self.agents: dict[int, User] = {}
        agents = list(User.objects.filter(role=Role.AGENT, is_active=True).order_by("username"))
        for agent in agents:
            self.agents.setdefault(agent.centre_id, agent)
        self.any_agent = agents[0] if agents else None
        members = Prefetch("members", queryset=User.objects.filter(is_active=True).order_by("username"))
        self.teams: dict[int, dict[int, Team]] = {}
        for team in Team.objects.select_related("supervisor").prefetch_related(members).order_by("name"):
            team.people = list(team.members.all())
            if team.people:
                self.teams.setdefault(team.centre_id, {}).setdefault(team.tier, team)
        self.equipment = [
            item
            for item in Equipment.objects.select_related(
                "site__organisation", "site__centre", "contract"
            ).order_by("serial_number")
            if 1 in self.teams.get(item.site.centre_id, {})
        ]
        today = timezone.localdate()
        self.covered = {
            contract.pk
            for contract in Contract.objects.all()
            if contract_state(contract, today) == Reason.COVERED
        }
        self.contacts: dict[int, list[Contact]] = {}
        for contact in Contact.objects.order_by("pk"):
            self.contacts.setdefault(contact.organisation_id, []).append(contact)
        self.customers: dict[int, User] = {}
        for user in (
            User.objects.filter(role=Role.CUSTOMER, is_active=True, contact__isnull=False)
            .select_related("contact")
            .order_by("username")
        ):
            self.customers.setdefault(user.contact.organisation_id, user)

    def build(self) -> None:
        if not self.equipment or self.any_agent is None:
            return
        specs = self.featured()
        quota = dict(STATUS_QUOTA)
        for spec in specs:
            quota[spec.status] -= 1
        statuses = [status for status, count in quota.items() for _ in range(max(count, 0))]
        specs += [self.drawn(status) for status in statuses]
        for spec in specs:
            self.dress(spec)
        stories = [Story(self, spec).plan() for spec in specs]
        # Oldest first, so that ticket numbers follow the order the calls came in. Planned before
        # sorting: whatever the time of day, each story draws the same numbers.
        stories.sort(key=lambda story: -story.spec.age)
        with self.clock.running():
            for story in stories:
                self.play(story)
        self.retime()

    # Which tickets ------------------------------------------------------------------------------

    def featured(self) -> list[Spec]:
        """The tickets the demo walk-through relies on: whatever the draw, these exist."""
        F = Kind.FAULT
        specs = []
        engineer = User.objects.filter(username="engineer", role=Role.ENGINEER).first()
        users = {user.username: user for user in self.customers.values()}
        customer, customer2 = users.get("customer"), users.get("customer2")
        mine = self.pool(
            lambda item: customer and item.site.organisation_id == customer.contact.organisation_id
        )
        if engineer is not None:
            home = self.pool(lambda item: item.site.centre_id == engineer.centre_id)
            # The demo engineer's "My work": urgent faults first.
            specs += [
                Spec(S.ON_SITE, F, hours(3), pool=mine or home, level=1, assignee=engineer, tier=1),
                Spec(
                    S.ASSIGNED,
                    F,
                    hours(0.4),
                    pool=home,
                    level=2,
                    assignee=engineer,
                    tier=1,
                    urgency=Urgency.VERY_URGENT,
                    team_only=False,
                ),
                Spec(
                    S.IN_PROGRESS,
                    F,
                    hours(20),
                    pool=home,
                    level=2,
                    assignee=engineer,
                    tier=1,
                    urgency=Urgency.URGENT,
                    risk="pending",
                ),
                Spec(S.WAITING_PARTS, F, days(3), pool=home, level=3, assignee=engineer, tier=1),
                Spec(S.WAITING_CUSTOMER, F, days(2), pool=home, level=3, assignee=engineer, tier=1, risk=""),
                Spec(S.REOPENED, F, days(9), pool=mine or home, level=3, assignee=engineer, tier=1),
            ]
        if customer is not None:
            specs += [
                Spec(S.RESOLVED, F, days(2), pool=mine, level=3, portal=True),
                Spec(S.NEW, Kind.CONSULTATION, hours(2), pool=mine, portal=True),
                Spec(S.CLOSED, F, days(12), pool=mine, level=2, portal=True, report=True),
                Spec(S.IN_PROGRESS, Kind.COMPLAINT, days(1), pool=mine),
            ]
        if customer2 is not None:
            theirs = self.pool(lambda item: item.site.organisation_id == customer2.contact.organisation_id)
            specs += [
                Spec(S.RESOLVED, F, days(1), pool=theirs, level=2, report=True),
                Spec(S.IN_PROGRESS, F, days(1), pool=theirs, level=3, portal=True),
                Spec(S.CLOSED, Kind.SUGGESTION, days(30), pool=theirs, portal=True),
                Spec(S.CLOSED, Kind.COMPLAINT, days(20), pool=theirs),
            ]
        # Every class, level and decision at least once, and one Level I fault that just came in.
        specs += [
            Spec(S.NEW, F, timedelta(minutes=4), level=1, channel=Channel.PHONE),
            Spec(S.CLOSED, Kind.CHANGE, days(40), change=Decision.APPROVED, big=False),
            Spec(S.CLOSED, Kind.CHANGE, days(70), change=Decision.APPROVED, big=True),
            Spec(S.IN_PROGRESS, Kind.CHANGE, days(6), change=Decision.PENDING, big=True),
            Spec(S.WAITING_CUSTOMER, Kind.CHANGE, days(8), change=Decision.APPROVED, big=False),
            Spec(S.CANCELLED, Kind.CHANGE, days(25), change=Decision.REFUSED, big=True),
            Spec(S.ASSIGNED, Kind.CHANGE, days(1), change=Decision.PENDING, big=False),
            Spec(S.CLOSED, F, days(33), level=1, report=True, risk="consented"),
            Spec(S.CLOSED, F, days(15), level=2, risk="refused"),
            Spec(S.WAITING_CUSTOMER, F, days(4), level=2, risk="approved"),
            Spec(S.RESOLVED, F, days(5), level=1, report=True),
            Spec(S.CLOSED, F, days(50), level=4),
            Spec(S.CLOSED, Kind.CONSULTATION, days(3), on_spot=True),
            Spec(S.CANCELLED, F, days(18), level=3),
        ]
        return specs

    def pool(self, test) -> list[Equipment]:
        return [item for item in self.equipment if test(item)]

    def drawn(self, status: str) -> Spec:
        rng = self.rng
        kinds = [kind for kind in KIND_WEIGHTS if status in KIND_STATUSES[kind]]
        kind = rng.choices(kinds, weights=[KIND_WEIGHTS[kind] for kind in kinds])[0]
        low, high = AGE_DAYS[status]
        age = timedelta(days=rng.uniform(low, high))
        if rng.random() < 0.8:
            # Most calls come in office hours; the hotline takes the rest day and night.
            minute = rng.randint(8 * 60 + 30, 17 * 60 + 45)
            logged = timezone.localtime(self.now - age).replace(
                hour=minute // 60, minute=minute % 60, second=rng.randint(0, 59), microsecond=0
            )
            if logged < self.now - timedelta(minutes=20):
                age = self.now - logged
        return Spec(status, kind, age)

    def dress(self, spec: Spec) -> None:
        """Draw whatever the spec leaves open, consistently with its class and status."""
        rng = self.rng
        pool = spec.pool or self.equipment
        status = spec.status
        if spec.kind == Kind.FAULT:
            self.dress_fault(spec, pool)
        else:
            if spec.kind == Kind.CHANGE:
                self.dress_change(spec, pool)
            else:
                spec.equipment = spec.equipment or rng.choice(pool)
                family = category(spec.equipment)
                topics = {
                    Kind.CONSULTATION: CONSULTATIONS[family],
                    Kind.SUGGESTION: SUGGESTIONS,
                    Kind.COMPLAINT: COMPLAINTS,
                }[spec.kind]
                spec.content = spec.content or rng.choice(topics)
        if spec.on_spot is None:
            spec.on_spot = spec.kind == Kind.CONSULTATION and status == S.CLOSED and rng.random() < 0.6
        customer = self.customers.get(spec.equipment.site.organisation_id)
        if customer is None or spec.on_spot or spec.level == 1:
            spec.portal = False
        elif spec.portal is None:
            # A change request is agreed with the desk, never filed on the portal.
            spec.portal = rng.random() < 0.4 and spec.kind != Kind.CHANGE
        if spec.channel is None:
            if spec.portal:
                spec.channel = Channel.PORTAL
            elif spec.level == 1 or spec.kind == Kind.COMPLAINT:
                spec.channel = Channel.PHONE
            else:
                channels = list(OTHER_CHANNELS)
                spec.channel = rng.choices(channels, weights=list(OTHER_CHANNELS.values()))[0]
        if spec.urgency is None:
            spec.urgency = self.urgency(spec)
        if spec.tier is None:
            spec.tier = self.tier(spec)
        teams = self.teams[spec.equipment.site.centre_id]
        if spec.tier not in teams:
            spec.tier = 1
        if spec.team_only is None:
            spec.team_only = spec.assignee is None and spec.kind != Kind.COMPLAINT and rng.random() < 0.15
        if spec.reopened is None:
            spec.reopened = (
                status == S.CLOSED and spec.kind in (Kind.FAULT, Kind.COMPLAINT) and rng.random() < 0.08
            )

    def dress_fault(self, spec: Spec, pool: list[Equipment]) -> None:
        rng = self.rng
        families = {category(item) for item in ([spec.equipment] if spec.equipment else pool)}
        level = spec.level or rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
        if level == 1 and not spec.level and spec.status in (S.NEW, S.ASSIGNED):
            level = 2  # a Level I is answered within minutes: the one unanswered is the featured fresh one

        def fits(fault, *, any_level=False):
            return (
                (any_level or level in fault.levels)
                and (spec.status != S.WAITING_PARTS or fault.part)
                and (not spec.risk or fault.risk)
            )

        choices = [(family, fault) for family in sorted(families) for fault in FAULTS[family] if fits(fault)]
        if not choices:  # no such fault on this equipment: take another level
            choices = [
                (family, fault)
                for family in sorted(families)
                for fault in FAULTS[family]
                if fits(fault, any_level=True)
            ]
        if not choices:  # nor on this pool: any equipment will do
            pool = self.equipment
            choices = [
                (family, fault) for family, faults in FAULTS.items() for fault in faults if fits(fault)
            ]
        family, fault = rng.choice(choices)
        spec.content = fault
        spec.level = level if level in fault.levels else rng.choice(fault.levels)
        if spec.equipment is None:
            spec.equipment = rng.choice([item for item in pool if category(item) == family])
        status = spec.status
        if spec.risk is None:
            spec.risk = ""
            if fault.risk:
                if status in (S.CLOSED, S.RESOLVED) and rng.random() < 0.3:
                    spec.risk = "consented" if rng.random() < 0.8 else "refused"
                elif status == S.IN_PROGRESS and rng.random() < 0.3:
                    spec.risk = "pending"
                elif status == S.WAITING_CUSTOMER and rng.random() < 0.3:
                    spec.risk = "approved"
        if spec.on_site is None:
            spec.on_site = status == S.ON_SITE or rng.random() < ON_SITE_CHANCE[spec.level]
        if spec.report is None:
            # A report is owed after resolution; every closed ticket's has been written by now.
            owed = spec.level <= 2 and status in (S.RESOLVED, S.CLOSED, S.REOPENED)
            spec.report = owed and (rng.random() < 0.7 or status == S.CLOSED)

    def dress_change(self, spec: Spec, pool: list[Equipment]) -> None:
        rng = self.rng
        if spec.big is None:
            spec.big = rng.random() < 0.35

        def fits(topic):
            return (topic.effort[0] >= 10) == spec.big

        items = [item for item in pool if any(fits(t) for t in CHANGES[category(item)])]
        if not items:
            items = [item for item in self.equipment if any(fits(t) for t in CHANGES[category(item)])]
        spec.equipment = spec.equipment or rng.choice(items)
        spec.content = rng.choice([t for t in CHANGES[category(spec.equipment)] if fits(t)])
        if spec.change is None:
            spec.change = {
                S.RESOLVED: Decision.APPROVED,
                S.CLOSED: Decision.APPROVED,
                S.CANCELLED: Decision.REFUSED if rng.random() < 0.7 else Decision.PENDING,
            }.get(spec.status) or rng.choice([Decision.PENDING, Decision.APPROVED])

    def urgency(self, spec: Spec) -> str:
        rng = self.rng
        if spec.kind == Kind.FAULT:
            if spec.level == 1:
                return Urgency.VERY_URGENT
            if spec.level == 2:
                return Urgency.URGENT if rng.random() < 0.7 else Urgency.VERY_URGENT
            if spec.level == 3:
                return Urgency.GENERAL if rng.random() < 0.7 else Urgency.URGENT
            return Urgency.GENERAL
        if spec.kind == Kind.COMPLAINT:
            return Urgency.URGENT
        return Urgency.URGENT if rng.random() < 0.15 else Urgency.GENERAL

    def tier(self, spec: Spec) -> int:
        rng = self.rng
        if spec.kind == Kind.COMPLAINT or spec.kind == Kind.CONSULTATION:
            return 1
        if spec.kind == Kind.CHANGE:
            weights = [40, 45, 15]
        elif spec.kind == Kind.SUGGESTION:
            weights = [60, 10, 30]
        elif spec.level == 1:
            weights = [60, 30, 10]
        elif spec.level == 2:
            weights = [70, 22, 8]
        else:
            weights = [82, 13, 5]
        return rng.choices([1, 2, 3], weights=weights)[0]

    # Playing and dating -------------------------------------------------------------------------

    def play(self, story: Story) -> None:
        """
        Perform the planned acts, each at its moment; a refused act drops that ticket only. A
        ticket that would be left with a lapsed deadline beyond the desk's few is played again,
        logged later (its acts closer together), up to REPLAYS times.
        """
        # Only the featured Level I fault is fresh: no other Level I is played again as recent.
        earliest = FRESH if story.spec.level == 1 else timedelta(minutes=5)
        for attempt in range(REPLAYS + 1):
            try:
                with transaction.atomic():
                    self.play_once(story)
                    if self.past_due(story.ticket):
                        # Only an open ticket may be left late, and only a few: the sweep escalates them.
                        allowed = story.ticket.status in OPEN_STATUSES and self.lapses_left > 0
                        if not allowed and attempt < REPLAYS and story.spec.age > earliest:
                            raise Replay
                        self.lapses_left -= 1
                return
            except Replay:
                story.spec.age = max(earliest, story.spec.age / 4)
            except (services.TicketError, PermissionDenied) as error:
                self.failed.append(story.spec.content.title)
                logger.warning("Demo ticket %r not built: %s", story.spec.content.title, error)
                return

    def play_once(self, story: Story) -> None:
        start = self.now - story.spec.age
        margin = min(story.margin, story.spec.age.total_seconds() / 60 * 0.2)
        room = (self.now - start).total_seconds() / 60 - margin
        total = sum(minutes for minutes, _ in story.steps)
        scale = max(0.0, min(1.0, room / total)) if total > 0 else 1.0
        moment = start
        for minutes, call in story.steps:
            moment += timedelta(minutes=minutes * scale)
            self.clock.mark(moment)
            call()

    def past_due(self, ticket: Ticket) -> bool:
        """Whether a deadline of the ticket is running and past due now."""
        running = Deadline.objects.for_object(ticket).open().filter(paused_at__isnull=True)
        return running.filter(due_at__lte=self.now).exists()

    def retime(self) -> None:
        """Move the timestamps read from the real clock to the moments of their acts."""
        clock = self.clock
        if not clock.real:
            return
        since = clock.real[0]
        read_before = self.now - timedelta(days=2)
        # Demo tickets are built only on an empty desk: every row of these belongs to them.
        for model, names in REAL_TIME_FIELDS:
            rows = []
            for row in model.objects.filter(**{f"{names[0]}__gte": since}).order_by("pk"):
                for name in names:
                    setattr(row, name, clock.map(getattr(row, name)))
                if model is Notification and row.channel == NotificationChannel.IN_APP:
                    # In-app messages older than two days have been read.
                    if row.created_at < read_before and row.read_at is None:
                        row.read_at = row.created_at + timedelta(minutes=45)
                rows.append(row)
            save_fields(model, rows, names + (["read_at"] if model is Notification else []))


def save_fields(model, rows: list, names: list[str]) -> None:
    """
    Write `names` of each row back, in one prepared UPDATE run for every row.

    `bulk_update` builds a CASE expression per field and row, which takes seconds for the few
    thousand rows of the demo; the values go through each field's own conversion all the same.
    """
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model's own metadata
    params = [
        [field.get_db_prep_value(getattr(row, field.attname), connection) for field in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def seed_tickets(rng: random.Random) -> int:
    """Build the demo tickets once, on an empty desk; return how many tickets there are."""
    if Ticket.objects.exists():
        return Ticket.objects.count()
    with translation.override(settings.LANGUAGE_CODE):
        Desk(rng).build()
    return Ticket.objects.count()
