"""Synthetic, realistic conferences in three sizes, for the benchmark and for tests.

``conference("M", seed=0)`` returns a validated case (as ``validate_case`` returns it) for a
fictional initial or review child protection conference: children, family, professionals and
agencies with varied names (accents, Polish, Turkish, Vietnamese, Arabic script), invitations,
reports received, a record, decisions and an outline plan. Every size withholds something from the
family copies, so redaction and the leak check really work: a confidential police section and a
police report not shared with parents, legal advice, third-party information (a table row, a
record section, a plan action), a child's account withheld from a father, and the mother's and
children's address withheld from the fathers.

The same size and seed always give the same case. How many pages each size makes is a property of
the templates, so it is measured, not promised: see ``bench.run`` and docs/performance.md.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bench import synthetic_text as words
from docgen.adapters.casefile import validate_case


@dataclass(frozen=True)
class Size:
    """What one size of conference holds; the amounts of text are tuned to the page counts wanted."""

    name: str
    child_ages: tuple[int, ...]
    professionals: int  # invited, from the front of words.PROFESSIONAL_ROLES
    family: tuple[str, ...]  # invited family members, from words.FAMILY_ROLES
    child_invitees: int  # the oldest children are invited
    agency_reports: tuple[str, ...]  # role keys of the professionals whose agency reports were received
    paragraphs: int  # paragraphs in each section of the record
    child_sections: int  # record sections per child (health, education, emotional wellbeing, ...)
    report_paragraphs: int  # paragraphs in each section of the social worker's report
    agency_paragraphs: int  # paragraphs in each section of an agency report
    chronology_rows: int
    sentences: int  # sentences in a paragraph
    kind: str = "initial"
    short_record: bool = False  # the record leaves out family history, parenting and the chronology

    @property
    def invitees(self) -> int:
        return self.professionals + len(self.family) + self.child_invitees


SIZES = {
    "S": Size("S", child_ages=(8,), professionals=4, family=("mother", "father"), child_invitees=0,
              agency_reports=("police", "dsl"), paragraphs=1, child_sections=0, report_paragraphs=1,
              agency_paragraphs=1, chronology_rows=4, sentences=3, short_record=True),
    "M": Size("M", child_ages=(11, 3), professionals=8, family=("mother", "father", "grandmother"), child_invitees=1,
              agency_reports=("police", "hv", "dsl", "probation"), paragraphs=2, child_sections=3,
              report_paragraphs=5, agency_paragraphs=2, chronology_rows=8, sentences=4),
    "L": Size("L", child_ages=(14, 11, 6, 1), professionals=17,
              family=("mother", "father", "father-2", "partner", "grandmother", "aunt"), child_invitees=2,
              agency_reports=("police", "hv", "dsl", "gp", "probation", "secondary-dsl", "camhs", "recovery"),
              paragraphs=6, child_sections=4, report_paragraphs=4, agency_paragraphs=2, chronology_rows=24, sentences=5,
              kind="review"),
}

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
CATEGORIES = ["emotional", "neglect", "physical", "emotional"]
SHORT_RECORD_LEAVES_OUT = {"Family history and relationships", "Parenting and keeping the children safe", "Chronology"}
CHILD_TOPICS = [("health and development", "health"), ("education", "education"),
                ("views and wishes", "views"), ("emotional wellbeing", "analysis")]


def conference(size: str, seed: int = 0) -> dict[str, Any]:
    """A validated case for a conference of ``size`` (S, M or L); the same arguments give the same case."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; use one of {', '.join(SIZES)}")
    return validate_case(_Builder(SIZES[size], seed).case(), source=f"synthetic conference {size}, seed {seed}")


_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ı": "i", "đ": "d", "Đ": "D", "ß": "ss"})


def _slug(name: str) -> str:
    """An id from a name: ASCII letters and digits in lower case, joined by hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSABLE))
    ascii_name = ascii_name.encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name).split())


class _Builder:
    """Builds one case; every random choice comes from one generator seeded by size and seed."""

    def __init__(self, size: Size, seed: int) -> None:
        self.size = size
        self.rng = random.Random(f"{size.name}-{seed}")
        self.seed = seed
        self.on = date(2026, 11, 16) + timedelta(days=self.rng.randrange(4))
        self.crime_numbers = iter(self.rng.sample(range(10000, 99999), 200))
        self.third_parties = iter(self.rng.sample(words.THIRD_PARTIES, len(words.THIRD_PARTIES)))

    # -- people ------------------------------------------------------------------------------------

    def people(self) -> None:
        rng, size = self.rng, self.size
        surname, mother_surname, gran_surname = rng.sample(words.FAMILY_SURNAMES, 3)
        firsts = {"women": rng.sample(words.WOMEN, 4), "men": rng.sample(words.MEN, 3)}
        names = {"mother": (firsts["women"][0], mother_surname), "father": (firsts["men"][0], surname),
                 "father-2": (firsts["men"][1], rng.choice(words.FAMILY_SURNAMES)),
                 "partner": (firsts["men"][2], rng.choice(words.FAMILY_SURNAMES)),
                 "grandmother": (firsts["women"][1], gran_surname), "aunt": (firsts["women"][2], mother_surname)}
        streets = rng.sample(words.STREETS, 8)
        towns = [rng.choice(words.TOWNS) for _ in range(8)]
        fathers = [_slug(" ".join(names[key])) for key in ("father", "father-2") if key in size.family]
        self.fathers = fathers
        home = {"lines": [f"Flat {rng.randint(1, 9)}", f"{rng.randint(2, 90)} {streets[0]}", towns[0]],
                "postcode": f"NM{rng.randint(2, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRTUWXY')}"
                            f"{rng.choice('ABDEFGHJLNPQRTUWXY')}",
                "withheld_from": list(fathers), "reason": "victim_whereabouts"}

        self.family: list[dict[str, Any]] = []
        all_family = [*size.family, *(["grandmother"] if "grandmother" not in size.family else [])]
        for index, key in enumerate(all_family):
            relationship, responsibility, lives = words.FAMILY_ROLES[key]
            first, last = names[key]
            member: dict[str, Any] = {"id": _slug(f"{first} {last}"), "name": f"{first} {last}",
                                      "relationship": relationship, "parental_responsibility": responsibility,
                                      "lives_with_child": lives}
            if last in words.OWN_SCRIPT and key.startswith("father"):
                member["name_in_own_script"] = words.OWN_SCRIPT[last]
            language = words.LANGUAGES.get(last)
            member["preferred_language"] = language or "English"
            if language and key == "mother":
                member["interpreter_needed"] = True
                member["communication_needs"] = f"Prefers written information in {language} as well as English."
            member["email"] = f"{_slug(first)}.{_slug(last)[:6]}@example.org"
            member["phone"] = f"07700 900{rng.randint(100, 999)}"
            if lives:
                member["address"] = dict(home, lines=list(home["lines"]), withheld_from=list(fathers))
            else:
                member["address"] = {"lines": [f"{rng.randint(2, 120)} {streets[index + 1]}", towns[index + 1]],
                                     "postcode": f"NM{rng.randint(2, 9)} {rng.randint(1, 9)}"
                                                 f"{rng.choice('ABDEFGHJLNPQRTUWXY')}{rng.choice('ABDEFGHJLNPQRTUWXY')}"}
            self.family.append(member)
        self.family_by_role = dict(zip(all_family, self.family))

        girls = rng.sample(words.GIRLS, 4)
        boys = rng.sample(words.BOYS, 4)
        self.children: list[dict[str, Any]] = []
        for index, age in enumerate(size.child_ages):
            gender = "female" if (index + self.seed) % 2 == 0 else "male"
            first = (girls if gender == "female" else boys)[index]
            child_surname = surname if index < 2 or "father-2" not in size.family else names["father-2"][1]
            born = self.on - timedelta(days=365 * age + rng.randint(20, 340))
            child: dict[str, Any] = {
                "id": _slug(first), "name": f"{first} {child_surname}", "date_of_birth": born.isoformat(),
                "gender": gender, "subject": True, "first_language": "English",
                "address": dict(home, lines=list(home["lines"]), withheld_from=list(fathers))}
            school = self._school_for(age)
            if school:
                child["school"] = school
            self.children.append(child)

        used_first = rng.sample(words.PROFESSIONAL_FIRST, len(words.PROFESSIONAL_ROLES) + 2)
        used_last = rng.sample(words.PROFESSIONAL_SURNAMES, len(words.PROFESSIONAL_ROLES) + 2)
        self.professionals: dict[str, dict[str, Any]] = {}
        roles = [*words.PROFESSIONAL_ROLES[:size.professionals],
                 ("chair", "Independent reviewing officer (chair)", "social-care", "")]
        for (key, role, agency, title), first, last in zip(roles, used_first, used_last):
            domain = {"police": "police.example.uk", "social-care": "northmoor.gov.uk"}.get(agency, "partners.example.org")
            self.professionals[key] = {"id": _slug(f"{first} {last}"), "name": f"{title}{first} {last}", "role": role,
                                       "agency": agency, "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                                       "phone": f"01632 960{rng.randint(100, 999)}"}

        for child, age in zip(self.children, size.child_ages):
            child["views"] = self.child_views(child, age)

    def child_views(self, child: dict[str, Any], age: int) -> str:
        if age < 4:
            return self.fill("{child} is too young to give {his} views in words. {hv} saw {him} play happily and go to "
                             "{his} mother for comfort.", child)
        child_centred = words.SHOWN["views"][:5]
        return " ".join(self.fill(t, child) for t in self.rng.sample(child_centred, 2))

    def _school_for(self, age: int) -> str | None:
        wanted = "secondary-school" if age >= 12 else "primary-school" if age >= 5 else "nursery" if age >= 3 else None
        present = {agency for _, _, agency, _ in words.PROFESSIONAL_ROLES[:self.size.professionals]}
        return wanted if wanted in present else None

    # -- text --------------------------------------------------------------------------------------

    def slots(self, child: dict[str, Any]) -> dict[str, Any]:
        pros = self.professionals
        mother, father = self.family_by_role["mother"], self.family_by_role["father"]
        pronouns = ("she", "her", "her", "She") if child["gender"] == "female" else ("he", "him", "his", "He")
        first = child["name"].split()[0]
        school = child.get("school", "primary-school" if "dsl" in pros else "social-care")
        return {
            "child": first, "he": pronouns[0], "him": pronouns[1], "his": pronouns[2], "He": pronouns[3],
            "age": self.size.child_ages[self.children.index(child)],
            "mother": f"Ms {mother['name'].split(' ', 1)[1]}", "father": f"Mr {father['name'].split(' ', 1)[1]}",
            "sw": pros["sw"]["name"], "hv": pros["hv"]["name"], "police": pros["police"]["name"],
            "teacher": pros["dsl"]["name"], "school": words.AGENCIES[school][0],
            "gp": pros["gp"]["name"] if "gp" in pros else "the family's GP",
            "town": self.rng.choice(words.TOWNS),
        }

    def fill(self, template: str, child: dict[str, Any], **extra: str) -> str:
        rng = self.rng
        day = date(2026, rng.randint(1, 10), rng.randint(1, 28))
        values = {**self.slots(child), "month": rng.choice(MONTHS), "day": f"{day.day} {day:%B %Y}",
                  "n": rng.randint(2, 6), "pct": rng.randint(82, 97), **extra}
        return template.format(**values)

    def paragraph(self, theme: str, child: dict[str, Any], extra: int = 0) -> str:
        pool = words.SHOWN[theme]
        sentences = min(self.size.sentences + extra, len(pool))
        return " ".join(self.fill(t, child) for t in self.rng.sample(pool, sentences))

    def secret(self) -> dict[str, str]:
        """Details only withheld content carries: each withheld item gets its own."""
        rng = self.rng
        return {"third": next(self.third_parties, "Tamsin Oakes"), "crime": f"NM/26/{next(self.crime_numbers)}",
                "refuge": rng.choice(words.REFUGES), "keyworker": rng.choice(words.KEYWORKERS),
                "phone": f"07700 901{rng.randint(100, 999)}"}

    def confidential(self, pool: list[str], child: dict[str, Any]) -> str:
        return self.fill(self.rng.choice(pool), child, **self.secret())

    def opinion(self, key: str, child: dict[str, Any]) -> dict[str, Any]:
        return {"opinion": {"by": self.professionals[key]["id"], "text": self.fill(self.rng.choice(words.OPINIONS), child)}}

    def chronology(self, rows: int) -> dict[str, Any]:
        rng, table_rows = self.rng, list[dict[str, Any]]()
        days = sorted(rng.sample(range(300), rows))
        for index, offset in enumerate(days):
            when = date(2026, 1, 5) + timedelta(days=offset)
            child = self.children[index % len(self.children)]
            event, source, outcome = rng.choice(words.CHRONOLOGY_EVENTS)
            table_rows.append({"cells": [f"{when:%d/%m/%y}", self.fill(event, child), source, self.fill(outcome, child)]})
        secret = self.secret()
        table_rows.insert(rows // 2, {"cells": [
            f"{date(2026, 10, 31):%d/%m/%y}", f"Disclosure about {secret['third']} received from the police",
            "Police", f"Information logged under crime reference {secret['crime']}"],
            "confidentiality": "confidential", "reason": "third_party"})
        return {"table": {"columns": ["Date", "Significant event", "Source", "Outcome"], "rows": table_rows}}

    def strengths_and_worries(self) -> dict[str, Any]:
        child = self.children[0]
        rows: list[dict[str, Any]] = [{"cells": [self.fill(s, child), self.fill(w, child)]}
                                      for s, w in zip(words.STRENGTHS, words.WORRIES)]
        secret = self.secret()
        rows.append({"cells": ["The family has a place in a refuge if it is needed",
                               f"The refuge keyworker is {secret['keyworker']}, {secret['phone']}"],
                     "confidentiality": "confidential", "reason": "third_party"})
        return {"table": {"columns": ["Strengths", "Worries"], "rows": rows}}

    # -- the case ----------------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        size, first = self.size, self.children[0]
        n = size.paragraphs
        invited_agency_roles = [key for key, *_ in words.PROFESSIONAL_ROLES[1:size.professionals]]
        sections: list[dict[str, Any]] = [
            {"title": "Essential facts", "items": [{"text": self.paragraph("facts", first, 1)} for _ in range(n + 1)]},
            {"title": "Information from the police", "confidentiality": "confidential", "reason": "police_investigation",
             "items": [{"text": self.confidential(words.CONFIDENTIAL_POLICE, first)} for _ in range(max(1, n // 2 + 1))]},
        ]
        for child in self.children:
            for title, theme in CHILD_TOPICS[:size.child_sections]:
                name = child["name"].split()[0]
                sections.append({"title": f"{name}: {title}",
                                 "items": [{"text": self.paragraph(theme, child)} for _ in range(n)]})
            if self.size.child_ages[self.children.index(child)] >= 6:
                sections.append({"title": f"{child['name'].split()[0]}'s account", "withheld_from": list(self.fathers),
                                 "reason": "child_disclosure",
                                 "items": [{"text": self.fill(self.rng.choice(words.DISCLOSURE), child, day="the Sunday before")}]})
        sections += [
            {"title": "Family history and relationships",
             "items": [{"text": self.paragraph("family", first, 1)} for _ in range(n + 1)]},
            {"title": "Parenting and keeping the children safe",
             "items": [{"text": self.paragraph("parenting", child)} for child in self.children for _ in range(n)]},
            {"title": "Information from agencies",
             "items": [self.opinion(key, self.children[i % len(self.children)])
                       for i, key in enumerate(invited_agency_roles)]},
            {"title": "Views of the parents and family",
             "items": [{"text": self.paragraph("views", first, 1)} for _ in range(n + 1)]},
            {"title": "Legal advice", "confidentiality": "confidential", "reason": "legal_advice",
             "items": [{"text": self.confidential(words.CONFIDENTIAL_LEGAL, first)}]},
            {"title": "Strengths and worries", "items": [self.strengths_and_worries()]},
            {"title": "Chronology", "items": [self.chronology(size.chronology_rows)]},
            {"title": "Summary of discussion",
             "items": [{"text": self.paragraph("analysis", child, 1)} for child in self.children for _ in range(n)]},
        ]
        if size.short_record:
            sections = [s for s in sections if s["title"] not in SHORT_RECORD_LEAVES_OUT]
        else:
            sections.insert(2, {"title": "Information about other adults", "confidentiality": "confidential",
                                "reason": "third_party",
                                "items": [{"text": self.confidential(words.CONFIDENTIAL_THIRD_PARTY, first)}]})
        return {"sections": sections}

    def social_worker_report(self) -> dict[str, Any]:
        size, n = self.size, self.size.report_paragraphs
        first = self.children[0]
        sections: list[dict[str, Any]] = [{"title": "Chronology of significant events",
                                           "items": [self.chronology(size.chronology_rows + 4)]}]
        for child in self.children:
            name = child["name"].split()[0]
            sections.append({"title": f"{name}'s health and development",
                             "items": [{"text": self.paragraph(theme, child)} for theme in ("health", "education")
                                       for _ in range(n)]})
        sections += [
            {"title": "When the children were seen", "items": [{"text": self.seen(c)} for c in self.children]},
            {"title": "Family history and functioning",
             "items": [{"text": self.paragraph("family", first, 1)} for _ in range(n)]
                      + [{"text": self.confidential(words.CONFIDENTIAL_THIRD_PARTY, first),
                          "confidentiality": "confidential", "reason": "third_party"}]},
            {"title": "Parenting capacity", "items": [{"text": self.paragraph("parenting", c)} for c in self.children
                                                      for _ in range(n)]},
            {"title": "Views of the child, parents and family",
             "items": [{"text": self.paragraph("views", c)} for c in self.children for _ in range(max(1, n // 2))]
                      + [{"text": self.fill(self.rng.choice(words.DISCLOSURE), first, day="a school day in October"),
                          "withheld_from": list(self.fathers), "reason": "child_disclosure"}]},
            {"title": "Analysis", "items": [{"text": self.paragraph("analysis", c, 1)} for c in self.children
                                            for _ in range(n)] + [self.opinion("sw", first)]},
        ]
        return {"id": "sw-report", "kind": "social_worker",
                "title": "Social worker's report to the child protection conference",
                "author": self.professionals["sw"]["id"], "agency": "social-care",
                "received_on": (self.on - timedelta(days=4)).isoformat(), "shared_with_parents": "yes",
                "sections": sections}

    def seen(self, child: dict[str, Any]) -> str:
        where = self.rng.choice(["alone at school", "at home with the family", "alone at home"])
        return (f"{child['name'].split()[0]} was seen {where} on {self.rng.randint(2, 27)} October and "
                f"{self.rng.randint(2, 12)} November 2026.")

    def agency_report(self, key: str, index: int) -> dict[str, Any]:
        person, n = self.professionals[key], self.size.agency_paragraphs
        child = self.children[index % len(self.children)]
        agency = words.AGENCIES[person["agency"]][0]
        report: dict[str, Any] = {"id": f"{key}-report", "kind": "agency", "title": f"Report from {agency}",
                                  "author": person["id"], "agency": person["agency"],
                                  "received_on": (self.on - timedelta(days=3)).isoformat()}
        if key == "police":
            report.update(shared_with_parents="no",
                          sharing_note="Not shared because it could prejudice an ongoing police investigation.",
                          sections=[{"title": "Police involvement", "items": [
                              {"text": self.confidential(words.CONFIDENTIAL_POLICE, child),
                               "confidentiality": "confidential", "reason": "police_investigation"}
                              for _ in range(n + 1)]}])
            return report
        theme = {"hv": "health", "gp": "health", "camhs": "health", "dsl": "education",
                 "secondary-dsl": "education"}.get(key, "parenting")
        report["shared_with_parents"] = ("yes", "chair_decides")[index % 2]
        report["sections"] = [
            {"title": "Involvement with the family", "items": [{"text": self.paragraph("facts", child)} for _ in range(n)]},
            {"title": "What we know about the children", "items": [{"text": self.paragraph(theme, c)}
                                                                   for c in self.children for _ in range(n)]},
            {"title": "Worries and strengths", "items": [{"text": self.paragraph("analysis", child)} for _ in range(n)]
                                                          + [self.opinion(key, child)]},
        ]
        return report

    def case(self) -> dict[str, Any]:
        self.people()
        size, on = self.size, self.on
        starts = datetime.combine(on, datetime.min.time()).replace(hour=10)
        pros = self.professionals
        conference: dict[str, Any] = {
            "kind": size.kind, "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2, minutes=30)).isoformat(),
            "venue": "Meeting Room 2, Northmoor Family Centre, 8 Chapel Street, Northmoor NM1 2AB",
            "virtual_link": f"https://meet.northmoor.gov.uk/cpc-{size.name.lower()}{self.seed:03d}",
            "chair": pros["chair"]["id"], "minute_taker": "Aisha Rahman", "quorate": True,
            "purpose": "To share information about the children, decide whether they are likely to suffer significant "
                       "harm, and if so agree an outline child protection plan to keep them safe.",
            "next_conference_on": (on + timedelta(weeks=12)).isoformat()}
        if size.kind == "review":
            conference["previous_conference_on"] = (on - timedelta(weeks=26)).isoformat()
        else:
            conference["strategy_discussion_on"] = (on - timedelta(days=15)).isoformat()
        invitations = self.invitations()
        case: dict[str, Any] = {
            "format": "docgen.case/1",
            "reference": f"NM-{'RCPC' if size.kind == 'review' else 'ICPC'}-2026-{size.name}{self.seed:03d}",
            "conference": conference, "children": self.children, "family": self.family,
            "agencies": [{"id": key, "name": name, "kind": kind} for key, (name, kind) in words.AGENCIES.items()],
            "professionals": list(pros.values()), "invitations": invitations,
            "reports": [self.social_worker_report(),
                        *(self.agency_report(key, i) for i, key in enumerate(size.agency_reports))],
            "record": self.record(), "decisions": self.decisions(), "plan": self.plan()}
        return case

    def invitations(self) -> list[dict[str, Any]]:
        size, pros = self.size, self.professionals
        due = (self.on - timedelta(days=3)).isoformat()
        invitations: list[dict[str, Any]] = []
        for key in size.family:
            member = self.family_by_role[key]
            invitation: dict[str, Any] = {"invitee": member["id"], "attendance": "attended"}
            if key.startswith("father"):
                invitation["invited_separately"] = True
                if key == "father-2":
                    invitation.update(attendance="excluded", exclusion_reason=(
                        "The chair decided that he should not attend because there is a risk of violence towards the "
                        "children's mother, who will be at the conference. His views were asked for in writing and "
                        "were read out in full."))
                elif size.name == "S":
                    invitation["attendance"] = "apologies"
            if key == "mother" and "advocate" in pros:
                invitation["supporter"] = f"{pros['advocate']['name']} (Northmoor Family Advocacy)"
            invitations.append(invitation)
        for child in self.children[:size.child_invitees]:
            invitations.append({"invitee": child["id"], "attendance": "part_attended" if size.name == "L" else "did_not_attend",
                                "note": "Their views were shared by their social worker and in their own words."})
        report_keys = {key for key, *_ in words.PROFESSIONAL_ROLES[:size.professionals]} - {"sw", "manager", "support", "advocate"}
        for key, person in pros.items():
            if key == "chair":
                continue
            invitation = {"invitee": person["id"], "attendance": self.rng.choice(["attended"] * 4 + ["apologies"])}
            if key in report_keys:
                invitation["report_due_on"] = due
            invitations.append(invitation)
        return invitations

    def decisions(self) -> list[dict[str, Any]]:
        decisions = []
        for index, child in enumerate(self.children):
            category = CATEGORIES[index % len(CATEGORIES)]
            decision: dict[str, Any] = {
                "child": child["id"], "plan": True, "category": category,
                "reasons": f"{child['name'].split()[0]} has lived with conflict at home and the conference agreed "
                           f"{'she' if child['gender'] == 'female' else 'he'} is likely to suffer significant harm "
                           f"({category} abuse) without a plan."}
            if index == 0 and self.size.name != "S":
                decision["dissent"] = [{"by": self.family_by_role["father"]["id"],
                                        "view": "He does not agree that a plan is needed and says the children were never at risk."}]
            decisions.append(decision)
        return decisions

    def plan(self) -> dict[str, Any]:
        pros, on = self.professionals, self.on
        actions: list[dict[str, Any]] = [
            {"what": "Visit the children at home at least every 10 working days and see each child alone.",
             "who": f"{pros['sw']['name']}, social worker", "by_when": (on + timedelta(weeks=12)).isoformat(),
             "progress_check": "Visits recorded and reported to the core group."}]
        for index, child in enumerate(self.children):
            name = child["name"].split()[0]
            helper = pros["dsl"] if "school" in child else pros["hv"]
            actions += [
                {"what": f"Offer {name} weekly time with a trusted adult and review {name}'s wellbeing each half term.",
                 "who": f"{helper['name']}, {helper['role'].lower()}", "by_when": (on + timedelta(days=14 + index)).isoformat(),
                 "progress_check": "Reported to each core group.", "child": child["id"]},
                {"what": f"Make sure {name}'s health appointments are kept and booked again if missed.",
                 "who": f"{pros['hv']['name']}, health visitor", "by_when": (on + timedelta(days=30 + index)).isoformat(),
                 "progress_check": "Health visitor reports to the core group.", "child": child["id"]}]
        secret = self.secret()
        actions.append({"what": f"Tell the social worker of the charging decision under crime reference {secret['crime']} "
                                "and review the bail conditions with the Crown Prosecution Service.",
                        "who": f"{pros['police']['name']}, Public Protection Unit", "by_when": (on + timedelta(days=19)).isoformat(),
                        "progress_check": f"Outcome of investigation {secret['crime']} reported to the lead social worker.",
                        "confidentiality": "confidential", "reason": "police_investigation"})
        members = [self.family_by_role["mother"]["id"], pros["sw"]["id"], pros["hv"]["id"], pros["dsl"]["id"]]
        return {"lead_social_worker": pros["sw"]["id"],
                "outcomes": ["The children live free from domestic abuse.",
                             "The children's health and development needs are met, and appointments are kept.",
                             "The children feel less anxious and keep doing well at school or nursery.",
                             "Contact between the children and their father happens only when it is safe."],
                "actions": actions,
                "contingency": "If the safety plan is broken, or the children's safety cannot be assured, the social "
                               "worker will hold a strategy discussion and legal advice will be sought.",
                "core_group": {"members": members, "first_meeting_on": (on + timedelta(days=10)).isoformat()}}
