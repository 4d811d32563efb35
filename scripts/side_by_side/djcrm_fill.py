"""Fill django-crm with 100,000 companies and their contact persons, through its own models.

Run in django-crm's venv, from its source directory, after ``manage.py setupdata`` (which made
the superuser IamSUPER and the sales manager IamSALES in the groups managers, co-workers and
Global sales):

    DJANGO_SETTINGS_MODULE=djcrm_settings PYTHONPATH=<this folder>:<django-crm> \
        /tmp/djcrm-venv/bin/python djcrm_fill.py --companies 100000

The book has the shape of fincrm's demo book: 8 sales managers, each owning one company in 8
(IamSALES: 12,500), four in the department Global sales and four in Local sales (each company in
its owner's department, with that department's client types and industries); 1 to 3 contact
persons a company (2 on average), owned like their company; companies spread over 30 countries
(Local sales: its default country) and 300 cities. Rows go in with ``bulk_create`` (the tokens,
dates and defaults are the models' own), contacts and industry links likewise.
"""

import argparse
import random
import time

import django

django.setup()

from crm.models import City, ClientType, Company, Contact, Country, Industry  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import transaction  # noqa: E402

WORDS1 = [
    "Arbor",
    "Atlas",
    "Beacon",
    "Birch",
    "Cedar",
    "Cobalt",
    "Crest",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Helix",
    "Iron",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Meridian",
    "Nova",
    "Oak",
    "Orion",
    "Pioneer",
    "Quartz",
    "Raven",
    "Ridge",
    "Sierra",
    "Summit",
    "Titan",
    "Vertex",
    "Willow",
    "Zenith",
    "Aspen",
    "Blue",
    "Canyon",
    "Eagle",
    "Frontier",
    "Golden",
    "Horizon",
    "Liberty",
    "Northern",
    "Pacific",
    "Prairie",
    "Redwood",
    "Silver",
    "Stone",
    "Sun",
    "Union",
    "Valley",
    "Western",
]
WORDS2 = [
    "Logistics",
    "Foods",
    "Metals",
    "Energy",
    "Motors",
    "Systems",
    "Textiles",
    "Plastics",
    "Machinery",
    "Chemicals",
    "Electronics",
    "Freight",
    "Marine",
    "Rail",
    "Aviation",
    "Construction",
    "Mining",
    "Paper",
    "Glass",
    "Timber",
    "Pharma",
    "Robotics",
    "Optics",
    "Tools",
    "Fabrics",
    "Ceramics",
    "Cables",
    "Pumps",
    "Valves",
    "Polymers",
    "Solar",
    "Grain",
    "Dairy",
    "Coffee",
    "Steel",
    "Cement",
    "Printing",
    "Packaging",
    "Lighting",
    "Software",
    "Security",
    "Medical",
    "Water",
    "Wind",
    "Hydraulics",
    "Furniture",
    "Trading",
    "Supply",
    "Components",
    "Instruments",
]
WORDS3 = [
    "Group",
    "Holdings",
    "Partners",
    "Works",
    "Industries",
    "Solutions",
    "Company",
    "Enterprises",
    "Services",
    "Brothers",
    "International",
    "Trading",
    "Manufacturing",
    "Distribution",
    "Technologies",
    "Associates",
]
SUFFIX = ["Ltd", "LLC", "Inc", "GmbH", "S.A.", "B.V.", "Oy", "AB", "plc", "Corp"]
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Olena",
    "Andriy",
    "Iryna",
    "Taras",
    "Oksana",
    "Dmytro",
    "Anna",
    "Pieter",
    "Lotte",
    "Lars",
    "Ingrid",
    "Mateo",
    "Lucia",
    "Hans",
    "Greta",
    "Pierre",
    "Claire",
    "Marco",
    "Giulia",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Kovalenko",
    "Shevchenko",
    "Bondarenko",
    "Tkachenko",
    "Jansen",
    "de-Vries",
    "Andersen",
    "Nielsen",
    "Lopez",
    "Gonzalez",
    "Muller",
    "Schmidt",
    "Dubois",
    "Moreau",
    "Rossi",
    "Bianchi",
    "Novak",
    "Horvat",
    "Virtanen",
    "Lindqvist",
]
MANAGERS = 8


def managers() -> list[tuple[User, Group]]:
    """IamSALES and seven more sales managers in the same groups as setupdata gives it."""
    global_sales = Group.objects.get(name="Global sales")
    local_sales = Group.objects.get(name="Local sales")
    common = list(Group.objects.filter(name__in=["managers", "co-workers"]))
    result = [(User.objects.get(username="IamSALES"), global_sales)]
    for i in range(2, MANAGERS + 1):
        department = global_sales if i <= MANAGERS // 2 else local_sales
        user, created = User.objects.get_or_create(
            username=f"sales{i}",
            defaults={"email": f"sales{i}@example.com", "is_staff": True},
        )
        if created:
            user.set_password(f"sales{i}-password")
            user.save()
            user.groups.add(*common, department)
        result.append((user, department))
    return result


def phone(rng: random.Random) -> str:
    return f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"


def unique_names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add(
            f"{rng.choice(WORDS1)} {rng.choice(WORDS2)} {rng.choice(WORDS3)} {rng.choice(SUFFIX)}"
        )
    result = sorted(names)
    rng.shuffle(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if Company.objects.exists():
        print(f"already filled: {Company.objects.count():,} companies")
        return
    rng = random.Random(args.seed)
    started = time.perf_counter()
    staff = managers()
    countries = list(Country.objects.order_by("pk")[:30])
    local_default = Country.objects.get(pk=190)
    cities = City.objects.bulk_create(
        [City(name=f"City {i:03d}", country=rng.choice(countries)) for i in range(300)]
    )
    types = {d: list(ClientType.objects.filter(department=d)) for _u, d in staff}
    industries = {d: list(Industry.objects.filter(department=d)) for _u, d in staff}
    names = unique_names(rng, args.companies)
    batch = 10_000
    total_contacts = 0
    for start in range(0, args.companies, batch):
        companies = []
        for i in range(start, min(start + batch, args.companies)):
            owner, department = staff[i % MANAGERS]
            city = rng.choice(cities)
            local = department.name == "Local sales"
            name = names[i]
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
            companies.append(
                Company(
                    full_name=name,
                    website=f"https://www.{slug}.example.com",
                    phone=phone(rng),
                    city_name=city.name,
                    city=city,
                    country=local_default if local else city.country,
                    registration_number=f"{rng.randint(10**9, 10**10 - 1)}",
                    type=rng.choice(types[department]),
                    email=f"info@{slug}.example.com",
                    address=f"{rng.randint(1, 400)} {rng.choice(WORDS1)} Street",
                    description=f"{rng.choice(WORDS2)} customer since {rng.randint(2005, 2026)}",
                    owner=owner,
                    modified_by=owner,
                    department=department,
                )
            )
        with transaction.atomic():
            Company.objects.bulk_create(companies, batch_size=2000)
            links = [
                Company.industry.through(
                    company_id=c.pk, industry_id=rng.choice(industries[c.department]).pk
                )
                for c in companies
            ]
            Company.industry.through.objects.bulk_create(links, batch_size=5000)
            contacts = []
            for c in companies:
                for _k in range(rng.randint(1, 3)):
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    contacts.append(
                        Contact(
                            company=c,
                            first_name=first,
                            last_name=last,
                            title=rng.choice(["CEO", "CFO", "buyer", "engineer", "manager"]),
                            email=f"{first.lower()}.{last.lower()}@{c.email.split('@')[1]}",
                            phone=phone(rng),
                            country=c.country,
                            city=c.city,
                            owner=c.owner,
                            modified_by=c.owner,
                            department=c.department,
                        )
                    )
            Contact.objects.bulk_create(contacts, batch_size=2000)
            total_contacts += len(contacts)
        print(
            f"{start + len(companies):,} companies, {total_contacts:,} contacts, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    own = Company.objects.filter(owner=staff[0][0]).count()
    print(f"done: {args.companies:,} companies, {total_contacts:,} contacts; IamSALES owns {own:,}")


if __name__ == "__main__":
    main()
