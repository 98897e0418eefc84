"""Words for synthetic conferences: roles, agencies, fictional names, places and the sentences
records are made of.

Plain data, no logic. Sentences are ``str.format`` templates filled in by :mod:`bench.synthetic`
with the people of one conference. Every name, address and event here is invented.

Two kinds of sentence are kept apart on purpose. ``SHOWN`` sentences go in content every reader
may see. ``CONFIDENTIAL`` and ``DISCLOSURE`` sentences only ever go in withheld content, and each
carries a detail of its own (a third party's name, a crime reference, a refuge, a child's own
words), so the leak check has something distinctive to look for in every family copy.
"""

from __future__ import annotations

# -- people -----------------------------------------------------------------------------------

# The professionals who may be invited, most often first: (key, role, agency key, title).
PROFESSIONAL_ROLES = [
    ("sw", "Social worker", "social-care", ""),
    ("police", "Detective constable", "police", "DC "),
    ("hv", "Health visitor", "health-visiting", ""),
    ("dsl", "Designated safeguarding lead", "primary-school", ""),
    ("manager", "Team manager", "social-care", ""),
    ("gp", "General practitioner", "surgery", "Dr "),
    ("probation", "Probation officer", "probation", ""),
    ("advocate", "Family advocate", "advocacy", ""),
    ("support", "Family support worker", "social-care", ""),
    ("school-nurse", "School nurse", "school-nursing", ""),
    ("secondary-dsl", "Head of year and safeguarding lead", "secondary-school", ""),
    ("nursery", "Nursery key worker", "nursery", ""),
    ("camhs", "Clinical psychologist", "camhs", "Dr "),
    ("housing", "Housing officer", "housing", ""),
    ("recovery", "Recovery worker", "recovery", ""),
    ("idva", "Independent domestic violence adviser", "domestic-abuse", ""),
    ("paediatrician", "Consultant community paediatrician", "hospital", "Dr "),
]
AGENCIES = {
    "social-care": ("Northmoor Children's Social Care", "social_care"),
    "police": ("Northmoor Police Public Protection Unit", "police"),
    "health-visiting": ("Northmoor Community Health NHS Trust", "health"),
    "primary-school": ("St Aidan's Primary School", "education"),
    "surgery": ("Elm Tree Medical Practice", "health"),
    "probation": ("Probation Service North East", "probation"),
    "advocacy": ("Northmoor Family Advocacy", "advocacy"),
    "school-nursing": ("Northmoor School Nursing Service", "health"),
    "secondary-school": ("Northmoor Academy", "education"),
    "nursery": ("Little Acorns Nursery", "education"),
    "camhs": ("Northmoor Child and Adolescent Mental Health Service", "health"),
    "housing": ("Northmoor Homes", "housing"),
    "recovery": ("Northmoor Recovery Service", "other"),
    "domestic-abuse": ("Harbour Domestic Abuse Service", "other"),
    "hospital": ("Northmoor General Hospital", "health"),
    "legal": ("Northmoor Legal Services", "legal"),
}
# (key, relationship, parental responsibility, lives with the children)
FAMILY_ROLES = {
    "mother": ("mother", True, True),
    "father": ("father", True, False),
    "father-2": ("father", True, False),
    "partner": ("mother's partner", False, True),
    "grandmother": ("maternal grandmother", False, False),
    "aunt": ("maternal aunt", False, False),
}

GIRLS = ["Lena", "Amira", "Zofia", "Maisie", "Chloé", "Aoife", "Nadia", "Freya", "Ayşe", "Hana", "Ruby",
         "Oluwaseun", "Ines", "Kasia", "Leila", "Niamh", "Tàmsin", "Yasmin", "Eira", "Małgorzata"]
BOYS = ["Adam", "Kacper", "Mohammed", "Oisín", "Theo", "Jakub", "Emre", "Kwame", "Rhys", "Tomás", "Daniel",
        "Idris", "Luca", "Bartłomiej", "Noah", "Ciarán", "Yusuf", "Mateusz", "Finley", "Dávid"]
WOMEN = ["Zofia", "Agnieszka", "Siobhán", "Fatima", "Kerry", "Joanne", "Ngozi", "Gülsüm", "Leanne", "Marta",
         "Renée", "Bethan", "Samira", "Kirsty", "Oksana", "Dominika", "Hélène", "Precious", "Sinéad", "Ewa"]
MEN = ["Karim", "Łukasz", "Dean", "Tariq", "Jamie", "Piotr", "Chinedu", "Mehmet", "Craig", "Gareth",
       "Seán", "Andriy", "Rafał", "Liam", "Omar", "Jürgen", "Darren", "Kofi", "Mikołaj", "José"]
FAMILY_SURNAMES = ["Wiśniewska", "Haddad", "Ó Briain", "Yılmaz", "Kowalczyk", "Okonkwo", "Brennan",
                   "Dąbrowski", "Hughes", "Mahmood", "Fernández", "Kovačević", "Lefèvre", "Pritchard",
                   "Nguyễn", "Øverland", "Ahmadi", "Szymańska", "Mensah", "Gallagher"]
PROFESSIONAL_FIRST = ["Hannah", "David", "Claire", "Sanjay", "Joanna", "Tom", "Rachel", "Priya", "Gwen", "Marcus",
                      "Aisha", "Simon", "Catriona", "Deepa", "Oliver", "Bronwen", "Ifeoma", "Stuart", "Magdalena",
                      "Rhiannon", "Patrick", "Émilie", "Farhan", "Louise", "Ravi", "Zainab", "Gordon", "Kateřina",
                      "Nicola", "Ade"]
PROFESSIONAL_SURNAMES = ["Okafor", "Pryce", "Dunn", "Mehta", "Baker", "Richardson", "Moore", "Raman", "Llewellyn",
                         "Whitfield", "Rahman", "Ashworth", "MacLeod", "Chaudhry", "Grant", "Parry", "Eze",
                         "Fairbairn", "Zielińska", "Holloway", "Quigley", "Durand", "Iqbal", "Sutcliffe", "Sharma",
                         "Bello", "Hendry", "Novotná", "Fenwick", "Adeyemi"]
OWN_SCRIPT = {"Haddad": "حداد", "Mahmood": "محمود", "Ahmadi": "احمدی"}
LANGUAGES = {"Wiśniewska": "Polish", "Dąbrowski": "Polish", "Szymańska": "Polish", "Kowalczyk": "Polish",
             "Yılmaz": "Turkish", "Haddad": "Arabic", "Mahmood": "Urdu", "Ahmadi": "Dari", "Nguyễn": "Vietnamese",
             "Kovačević": "Croatian", "Fernández": "Spanish", "Lefèvre": "French"}

STREETS = ["Linden Court", "Orchard Row", "Hawthorn Close", "Mill Lane", "Priory Walk", "Tannery Street",
           "Wesley Terrace", "Beacon View", "Alder Grove", "Sandpiper Way", "Foundry Road", "Rookery Gardens"]
# One word each: a town named in shown text and in a withheld address is then a plain word, not evidence.
TOWNS = ["Northmoor", "Eastfield", "Brackenside", "Holmbridge", "Fellside"]

# -- sentences every reader may see -------------------------------------------------------------
# Slots: {child} {he} {him} {his} {He} (the child's pronouns) {age} {mother} {father} {sw} {hv} {teacher} {school}
# {gp} {police} {town} {month} {day} {n} {pct}

SHOWN: dict[str, list[str]] = {
    "facts": [
        "On {day} police were called to the family home after neighbours reported shouting and a door being slammed.",
        "{mother} told the social worker that arguments at home had become more frequent since the summer.",
        "The referral to children's social care was made by {school} after {child} arrived at school upset and tired.",
        "A strategy discussion was held and the local authority started enquiries under section 47 of the Children Act 1989.",
        "{child} has been known to children's social care before, when a child in need plan was in place for six months.",
        "{father} accepts that he has been drinking more heavily since losing his copy_spec in {month}.",
        "The family has moved house {n} times in the last three years, which has meant changes of school and doctor.",
        "{mother} has been open about the difficulties and has asked for help with routines and money.",
        "There have been {n} further calls to the police about the family since the referral, none of them leading to an arrest.",
        "The health visitor noted that appointments for {child} had been missed in the spring and early summer.",
    ],
    "health": [
        "{child} is registered with {gp} and is up to date with {his} immunisations.",
        "{hv} saw {child} at home in {month} and found {him} to be meeting most of {his} developmental milestones.",
        "{child} has mild asthma, which is managed with an inhaler; the school keeps a spare one in the office.",
        "There were two missed hospital appointments for {child}'s hearing test earlier this year; a new one has been booked.",
        "{child}'s weight has dropped from the 50th to the 25th centile over the past year, and the GP will review it.",
        "{mother} has registered with a dentist for the children after a gap of more than two years.",
        "{child} sometimes wets the bed, which {mother} says began after the incident in {month}.",
        "{hv} has offered a programme of support on sleep and routines, which {mother} has started.",
        "{child} has been seen by the school nurse, who noted that {he} seemed tired and hungry on two occasions.",
        "The GP has no concerns about {child}'s physical health but will refer {him} for help with anxiety if it continues.",
    ],
    "education": [
        "{child} attends {school}, where {his} attendance this year is {pct} per cent.",
        "{teacher} said that {child} is working at the expected level in reading but below it in writing and mathematics.",
        "Staff at {school} have noticed that {child} has become quieter and sometimes asks to stay inside at playtime.",
        "{child} has a good friendship group and enjoys art, football and the after-school science club.",
        "The school has offered {child} weekly sessions with a learning mentor, which {he} looks forward to.",
        "{child} was late to school {n} times last half term, usually when {mother} had been unwell.",
        "{teacher} has met {mother} every fortnight to review {child}'s progress and says the meetings have gone well.",
        "{child} told {his} teacher that {he} likes school because it is calm and {he} knows what will happen each day.",
        "The school has applied for extra funding to support {child}'s speech and language needs.",
        "{child}'s behaviour at school is good; {he} can become upset when routines change without warning.",
    ],
    "family": [
        "{mother} and {father} separated in {month} after a relationship of about nine years.",
        "{mother} grew up in {town} and has a close relationship with her own mother, who lives in the same town.",
        "{father} says he had a difficult childhood and spent some time in foster care as a teenager.",
        "Both parents love their children and want to stay involved in their lives.",
        "The family has debts of about {n} thousand pounds and has been helped by a money advice service.",
        "{mother} works part time in a supermarket and arranges her shifts around the school day.",
        "The children's grandmother helps with school collections twice a week and is an important person for them.",
        "{father} has a new partner and sees the children at weekends when contact is arranged.",
        "The home was clean and tidy when visited, with enough food and suitable beds for the children.",
        "The family's tenancy is secure, but the flat is damp and the landlord has been asked to repair it.",
    ],
    "parenting": [
        "{mother} meets {child}'s day-to-day needs well and has accepted support from the family support service.",
        "{mother} has shown that she can put the children's needs first, for example by keeping to the safety plan.",
        "When {father} has been drinking he is not able to care for the children safely on his own.",
        "{mother} has found it hard to set consistent routines for bedtime and meals, and has asked for help.",
        "Both parents find it difficult to talk to each other without arguing, which the children often witness.",
        "{father} has completed the first four sessions of a parenting course and says he has found it useful.",
        "{mother} has sometimes left {child} with friends whose suitability has not been checked.",
        "The parents have agreed a written safety plan, which sets out who may look after the children and where.",
        "{mother} recognises that {child} needs more help to manage {his} feelings and has asked school for advice.",
        "{father} has not always kept to the agreed contact arrangements, and the children were upset when he did not arrive.",
    ],
    "views": [
        "{child} told {sw} that {he} feels safe at home with {his} mum but worries when there is shouting.",
        "{child} said {he} would like to see {his} dad, but only if he is not angry.",
        "{child} drew a picture of {his} family and put the dog next to {him}; {he} said the dog makes {him} feel safe.",
        "{child} said that the best thing about home is watching films with {his} mum on Friday nights.",
        "{child} said {he} does not want to move school again because {he} would miss {his} friends.",
        "{mother} said she wants the children to be safe and will do whatever the conference asks of her.",
        "{father} said he wants to see his children and is willing to take part in a programme to change his behaviour.",
        "{mother} said that she felt listened to by {sw} and that the support had already made a difference.",
        "{father} does not agree with everything in the reports, but he agrees that the children have seen arguments.",
        "The children's grandmother said she is worried about them and would like to help more if she can.",
    ],
    "analysis": [
        "The main worry is the effect on the children of living with conflict and the risk of domestic abuse.",
        "There are real strengths: {mother}'s commitment to the children and her willingness to work with services.",
        "The children's needs are not always met when {mother} is unwell, and there is no reliable back-up plan.",
        "Without a clear plan, the conference believes the worries are likely to continue and the children could be harmed.",
        "The risk is increased by {father}'s drinking, which he has started to address but not yet overcome.",
        "The support offered so far has helped, but the changes are recent and have not yet lasted.",
        "The children would benefit from consistent routines, help with their feelings and a safe way to see their father.",
        "Professionals agreed that {child} is showing signs of anxiety that are likely to be linked to what {he} has seen at home.",
        "The family has shown that it can make changes when support is practical and offered early.",
        "The conference considered whether a child in need plan would be enough, and decided it would not be at this time.",
    ],
}

OPINIONS = [
    "In my opinion {mother} is a caring parent who puts the children's needs first when she has the right support.",
    "My view is that {child} is anxious and would benefit from regular time with a trusted adult in school.",
    "In my opinion the children are likely to suffer significant harm if the conflict at home continues.",
    "I think {father} would benefit from a domestic abuse perpetrator programme, and he has told me he is willing to take part.",
    "My professional opinion is that {child}'s health needs are being met, but appointments need to be kept.",
    "In my view the family needs practical help with routines as much as it needs monitoring.",
]

CHRONOLOGY_EVENTS = [
    ("Police called to the family home after a report of shouting", "Police", "Referral to children's social care"),
    ("{child} arrived at school upset and said {he} had not slept", "School", "Designated safeguarding lead informed"),
    ("Missed health appointment for {child}", "Health", "Appointment rebooked"),
    ("Strategy discussion", "Social care", "Section 47 enquiry started"),
    ("{child} seen alone at school by the social worker", "Social care", "{child}'s views recorded"),
    ("Home visit; home clean and tidy, food in the cupboards", "Social care", "No immediate concerns"),
    ("{mother} asked the GP for help with low mood", "Health", "Referred to talking therapies"),
    ("Contact with {father} did not take place as planned", "Social care", "Arrangements reviewed with both parents"),
    ("Family moved to a new address", "Housing", "School and GP told of the move"),
    ("Parenting course started", "Family support", "Attendance to be reported to the core group"),
]

STRENGTHS = [
    "{mother} protects the children and works with services",
    "{child} is doing well at school",
    "The children have a loving relationship with their grandmother",
    "{father} says he wants to change and has started a course",
    "The home is warm, clean and has enough food",
    "{child} has friends and enjoys after-school clubs",
]
WORRIES = [
    "The children have seen domestic abuse at home",
    "{child} has become anxious and quiet",
    "{father}'s drinking makes contact unsafe at times",
    "Health appointments have been missed",
    "Routines at home are not consistent",
    "There is no agreed back-up plan when {mother} is unwell",
]

# People and places only ever named in withheld content.
THIRD_PARTIES = ["Gareth Pollard", "Shannon Whitlock", "Krzysztof Banaś", "Tyrone Ellery", "Marguerite Olsson",
                 "Declan Furness", "Roxanne Tibbs", "Vytautas Petrauskas"]
REFUGES = ["Larkspur House", "The Willows refuge", "Meadowsweet House"]
KEYWORKERS = ["Sam Ortiz", "Jess Kilbride", "Noor Farouk"]

# -- sentences that only go in withheld content --------------------------------------------------
# Extra slots: {third} a third party's full name, {crime} a crime reference, {refuge} a refuge,
# {keyworker} a refuge keyworker, {phone} a phone number.

CONFIDENTIAL_POLICE = [
    "{police} told the conference that officers are investigating an assault on {third}, a neighbour, on {day}, "
    "in which {father} is a suspect; crime reference {crime}. No charging decision has been made.",
    "Bail conditions prevent {father} from contacting {mother} or going within two hundred metres of her street "
    "until the investigation under crime reference {crime} is complete.",
    "Intelligence held by the police links {father} to {third}, who has previous convictions for supplying "
    "controlled drugs; this is being assessed under crime reference {crime}.",
    "Officers executed a search warrant at an address used by {third} on {day} and found items that are "
    "being examined as part of investigation {crime}.",
]
CONFIDENTIAL_THIRD_PARTY = [
    "The refuge keyworker is {keyworker} at {refuge}, telephone {phone}; her details must stay confidential.",
    "{third}, who sometimes stays at the home, was convicted in Scotland of an offence against a child; "
    "the disclosure was made under the Child Sex Offender Disclosure Scheme, reference {crime}.",
    "{third}, a former partner, has told the police that {father} also assaulted her; she has asked that "
    "her account is not shared with the family (reference {crime}).",
]
CONFIDENTIAL_LEGAL = [
    "Legal advice from Northmoor Legal Services is that the threshold for pre-proceedings is not met at this time, "
    "but a legal planning meeting should be held again if {father} breaches the safety plan (advice {crime}).",
    # Not "by {mother}" either: the check also matches without spaces, and "nearby. Ms X" would match it.
    "The local authority solicitor advised that {mother}'s request for a non-molestation order would be "
    "supported; counsel's opinion was obtained on {day} under reference {crime}.",
]
DISCLOSURE = [
    "{child} told {sw} that {he} hid in the airing cupboard when {his} dad was shouting and covered {his} ears "
    "with a pillow. {He} asked that {his} dad is not told what {he} said.",
    "{child} said that {his} dad once locked {him} in the bathroom until {his} mum came home, and that "
    "{he} was frightened of the dark. {He} asked for this to stay secret.",
    "{child} told {his} teacher that {he} saw {his} dad throw a mug that broke the kitchen window on {day}, "
    "and that {he} tried to ring nanna on the old phone.",
]
