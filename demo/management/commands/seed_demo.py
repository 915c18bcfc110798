"""
Load the demo data: three support centres, their teams and staff, a duty roster, and 30 customer
organisations with sites, contacts, contracts and about 200 pieces of equipment.

Idempotent: every record is found by its natural key and brought to the same state, so running
the command again changes nothing. The names are made up; any likeness to a real unit is chance.
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role, ShiftKind, Tier
from accounts.models import Province, Shift, SupportCentre, Team, User
from customers.choices import ContractStatus, Coverage, InspectionFrequency, Zone
from customers.models import Contact, Contract, Equipment, Organisation, Site
from demo.tickets import seed_tickets
from sla.models import Calendar, Policy, PolicyTarget, WorkingPeriod

DEMO_PASSWORD = "demo-2026"  # noqa: S105 - printed for the demo; the command refuses production.

CENTRES = [
    (
        "beijing",
        "北京技术支持中心",
        "北京",
        "010-6000-8000",
        [
            "北京",
            "天津",
            "河北",
            "山西",
            "内蒙古",
            "辽宁",
            "吉林",
            "黑龙江",
            "陕西",
            "甘肃",
            "青海",
            "宁夏",
            "新疆",
        ],
    ),
    (
        "nanjing",
        "南京技术支持中心",
        "南京",
        "025-8600-8000",
        ["江苏", "上海", "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南"],
    ),
    (
        "shenzhen",
        "深圳技术支持中心",
        "深圳",
        "0755-2600-8000",
        ["广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏"],
    ),
]
CITIES = {
    "beijing": [
        ("北京", "北京"),
        ("天津", "天津"),
        ("石家庄", "河北"),
        ("太原", "山西"),
        ("沈阳", "辽宁"),
        ("西安", "陕西"),
    ],
    "nanjing": [
        ("南京", "江苏"),
        ("苏州", "江苏"),
        ("上海", "上海"),
        ("杭州", "浙江"),
        ("合肥", "安徽"),
        ("武汉", "湖北"),
    ],
    "shenzhen": [
        ("深圳", "广东"),
        ("广州", "广东"),
        ("南宁", "广西"),
        ("成都", "四川"),
        ("重庆", "重庆"),
        ("昆明", "云南"),
    ],
}
UNIT_KINDS = [
    "人民医院",
    "税务局",
    "公积金管理中心",
    "轨道交通集团",
    "供电公司",
    "第一中学",
    "档案馆",
    "水务集团",
    "广播电视台",
    "城市商业银行",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂焦向柳邢骆岳齐沿梅莫庄辛管祝左涂谷时舒耿"  # noqa: E501
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "文博",
    "子涵",
    "雨萱",
    "浩然",
]
MODELS = [
    "PowerEdge R750 服务器",
    "OceanStor 5310 存储",
    "S5735 核心交换机",
    "USG6555 防火墙",
    "ThinkSystem SR650 服务器",
    "UPS-60kVA 不间断电源",
    "Oracle 19c 数据库系统",
    "业务应用系统 V3.2",
    "H3C S6520 交换机",
    "NetApp FAS2750 存储",
]


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print one demo login per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even with DEBUG off (demo passwords are public).",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production, and demo users have a published "
                "password. "
                "Pass --force to load the demo data anyway."
            )
        self.rng = random.Random(2026)  # noqa: S311 - made-up names, not secrets
        self.password = make_password(DEMO_PASSWORD)
        # Holidays first: the demo tickets' deadlines are counted in the working calendar.
        call_command("load_holidays", stdout=self.stdout)
        with transaction.atomic():
            centres = self.seed_centres()
            self.seed_roster(centres, timezone.localdate())
            self.seed_customers(centres)
            count = seed_tickets(self.rng)
        self.stdout.write(f"{count} demo tickets in place.")
        self.print_logins()

    # People -------------------------------------------------------------------------------------

    def person(self, username, role, centre=None, *, is_admin=False, name=None):
        name = name or self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "display_name": name,
                "role": role,
                "centre": centre,
                "password": self.password,
            },
        )
        if not created:
            name = user.display_name
        phone = f"13{self.rng.randrange(10**9):09d}"
        fields = {"role": role, "centre": centre, "is_staff": is_admin, "is_superuser": is_admin}
        if not user.phone:
            fields["phone"] = phone
        User.objects.filter(pk=user.pk).update(**fields)
        user.refresh_from_db()
        return user

    def seed_centres(self):
        centres = []
        for index, (code, name, city, hotline, provinces) in enumerate(CENTRES):
            centre, _ = SupportCentre.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "hotline": hotline,
                    "duty_phone": hotline.replace("8000", "8099"),
                },
            )
            for province in provinces:
                Province.objects.update_or_create(name=province, defaults={"centre": centre})
            manager = self.person("manager" if index == 0 else f"{code}-manager", Role.MANAGER, centre)
            SupportCentre.objects.filter(pk=centre.pk).update(manager=manager)
            centre.refresh_from_db()
            self.person("agent" if index == 0 else f"{code}-agent", Role.AGENT, centre)
            engineers = [
                self.person(
                    "engineer" if index == 0 and n == 1 else f"{code}-eng-{n:02d}",
                    Role.ENGINEER,
                    centre,
                )
                for n in range(1, 8)
            ]
            teams = [
                (f"{city}本地服务组", Tier.LOCAL, engineers[0:3]),
                (f"{city}专职维护团队", Tier.DEDICATED, engineers[3:5]),
                (f"{city}产品与技术专家组", Tier.EXPERT, engineers[5:7]),
            ]
            for team_name, tier, members in teams:
                team, _ = Team.objects.update_or_create(
                    name=team_name,
                    defaults={"centre": centre, "tier": tier, "supervisor": members[0]},
                )
                team.members.set(members)
            centres.append(centre)
        self.person("admin", Role.ADMIN, centres[0], is_admin=True, name="系统管理员")
        # The Beijing centre's manager doubles as the company leader told about Level I escalations.
        User.objects.filter(username="manager").update(is_company_leader=True)
        # Whatever warning would reach nobody (a call without site or team) reaches the admin.
        User.objects.filter(username="admin").update(is_desk_fallback=True)
        return centres

    def seed_roster(self, centres, today):
        """Nights on weekdays, whole days at weekends, for the four weeks around today."""
        zone = ZoneInfo(settings.TIME_ZONE)
        monday = today - timedelta(days=today.weekday() + 7)
        for centre in centres:
            engineers = list(
                User.objects.filter(role=Role.ENGINEER, centre=centre, teams__tier__lte=2)
                .distinct()
                .order_by("username")
            )
            for offset in range(28):
                day = monday + timedelta(days=offset)
                engineer = engineers[(day.toordinal()) % len(engineers)]
                if day.weekday() < 5:
                    starts = datetime.combine(day, time(18), zone)
                    kind = ShiftKind.HOLIDAY if _is_holiday(day) else ShiftKind.WEEKDAY_NIGHT
                    ends = datetime.combine(day + timedelta(days=1), time(9), zone)
                else:
                    starts = datetime.combine(day, time(9), zone)
                    kind = ShiftKind.HOLIDAY if _is_holiday(day) else ShiftKind.WEEKEND
                    ends = starts + timedelta(days=1)
                Shift.objects.update_or_create(
                    centre=centre,
                    starts_at=starts,
                    defaults={"user": engineer, "ends_at": ends, "kind": kind},
                )

    # Customers ----------------------------------------------------------------------------------

    def seed_customers(self, centres):
        by_code = {centre.code: centre for centre in centres}
        serial = 0
        for index in range(30):
            code = CENTRES[index % 3][0]
            city, province = CITIES[code][(index // 3) % len(CITIES[code])]
            unit = UNIT_KINDS[index % len(UNIT_KINDS)]
            organisation, _ = Organisation.objects.update_or_create(
                name=f"{city}市{unit}",
                defaults={
                    "short_name": f"{city}{unit[:2]}",
                    "address": f"{province}{city}市中山路{index + 1}号",
                },
            )
            sites = self.seed_sites(organisation, by_code[code], city, index)
            self.seed_contacts(organisation, index)
            contracts = self.seed_contracts(organisation, index)
            for site_index, site in enumerate(sites):
                for n in range(4 if site_index == 0 else 3):
                    serial += 1
                    model = MODELS[(index + n + site_index) % len(MODELS)]
                    contract = contracts[(n + site_index) % len(contracts)]
                    installed = contract.starts_on + timedelta(days=20)
                    # Every seventeenth device is out of contract: the hotline sells paid service.
                    if serial % 17 == 0:
                        contract = None
                    Equipment.objects.update_or_create(
                        serial_number=f"SN{2020 + index % 6}{serial:05d}",
                        defaults={
                            "model_name": model,
                            "site": site,
                            "contract": contract,
                            "software_version": f"V{1 + n}.{index % 10}",
                            "installed_on": installed,
                            # Two years on the hardware, one on the system software.
                            "hardware_warranty_ends_on": installed + timedelta(days=730),
                            "system_warranty_ends_on": installed + timedelta(days=365),
                        },
                    )

    def seed_sites(self, organisation, centre, city, index):
        sites = []
        plan = [("本部机房", Zone.CITY, 0), (f"{city}郊县分部", Zone.REMOTE, 90 + 15 * (index % 5))]
        for name, zone, minutes in plan:
            site, _ = Site.objects.update_or_create(
                organisation=organisation,
                name=name,
                defaults={
                    "address": f"{city}市{name}",
                    "city": city,
                    "centre": centre,
                    "zone": zone,
                    "travel_minutes": minutes,
                },
            )
            sites.append(site)
        return sites

    def seed_contacts(self, organisation, index):
        for n, title in enumerate(["信息中心主任", "系统管理员"]):
            name = SURNAMES[(index * 2 + n) % len(SURNAMES)] + GIVEN[(index + n * 7) % len(GIVEN)]
            contact, _ = Contact.objects.update_or_create(
                organisation=organisation,
                title=title,
                defaults={
                    "name": name,
                    "phone": f"139{index:04d}{n:04d}",
                    "email": f"it{n + 1}@unit{index + 1:02d}.example.cn",
                    "fax": f"025-8{index:03d}{n:04d}",
                },
            )
            if n == 1 and index < 2:
                user = self.person("customer" if index == 0 else "customer2", Role.CUSTOMER, name=name)
                Contact.objects.filter(pk=contact.pk).update(user=user)

    def seed_contracts(self, organisation, index):
        """Most run now; every seventh has expired; the sixth organisation's is suspended."""
        today = timezone.localdate()
        this_year = today.year
        contracts = []
        count = 2 if index % 4 == 0 else 1
        for n in range(count):
            expired = index % 7 == 3 and n == 0
            starts = date(this_year - 3 if expired else this_year - 1, 1 + index % 12, 1)
            ends = date(starts.year + (2 if expired else 3), starts.month, 1) - timedelta(days=1)
            status = ContractStatus.ACTIVE
            if expired:
                status = ContractStatus.EXPIRED
            elif index == 5:
                status = ContractStatus.SUSPENDED
            contract, _ = Contract.objects.update_or_create(
                number=f"HT-{starts.year}-{index + 1:03d}{n}",
                defaults={
                    "organisation": organisation,
                    "starts_on": starts,
                    "ends_on": ends,
                    "coverage": Coverage.FULL if index % 3 == 0 else Coverage.BUSINESS,
                    "hardware_warranty_ends_on": starts + timedelta(days=730),
                    "system_warranty_ends_on": starts + timedelta(days=365 * 5),
                    "trainings_per_year": 1 + index % 2,
                    "inspection_frequency": InspectionFrequency.MONTHLY
                    if n == 0
                    else InspectionFrequency.QUARTERLY,
                    "status": status,
                },
            )
            if index == 4 and n == 1:
                # A bank's own promises: Level I answered in 5 minutes, working hours 8:30–17:30.
                Contract.objects.filter(pk=contract.pk).update(policy=self.own_policy(), calendar=None)
            contracts.append(contract)
        return contracts

    def own_policy(self) -> Policy:
        """A policy of one customer's own, beside the two that come with the product."""
        hours, created = Calendar.objects.get_or_create(name="5x8 工作日 8:30–17:30")
        if created:
            for weekday in range(5):
                WorkingPeriod.objects.create(
                    calendar=hours, weekday=weekday, starts=time(8, 30), ends=time(17, 30)
                )
        policy, created = Policy.objects.get_or_create(
            name="金融专享 5 分钟响应", defaults={"calendar": hours}
        )
        if created:
            standard = Policy.objects.get(coverage=Coverage.BUSINESS)
            for target in standard.targets.all():
                minutes = 5 if (target.subject, target.target) == ("level_1", "response") else target.minutes
                PolicyTarget.objects.create(
                    policy=policy,
                    subject=target.subject,
                    target=target.target,
                    minutes=minutes,
                    adds_travel_time=target.adds_travel_time,
                )
        return policy

    def print_logins(self):
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Sign in with password {DEMO_PASSWORD} as:"))
        for username, role in [
            ("agent", Role.AGENT),
            ("engineer", Role.ENGINEER),
            ("manager", Role.MANAGER),
            ("admin", Role.ADMIN),
            ("customer", Role.CUSTOMER),
        ]:
            self.stdout.write(f"  {username:<10} {role.label}")


def _is_holiday(day: date) -> bool:
    """New Year's Day and the National Day week: enough to show holiday shifts in the demo."""
    return (day.month, day.day) == (1, 1) or (day.month == 10 and day.day <= 7)
