"""A seeded corpus of hackathon-project write-ups with planted near-duplicates.

Used by bench/similarity_eval.py and tests/submissions/test_similarity.py to measure duplicate
detection (issue 5, "Duplicates:" acceptance line). Everything is derived from one
`random.Random(seed)`, so the same seed gives byte-identical texts on every machine.

Why it is built this way:

- Originals are Devpost-style write-ups (title, Inspiration, What it does, How we built it, ...,
  Built with) assembled from many sentence templates and a vocabulary of 24 themes plus shared
  generic words (app, users, data, dashboard, real-time ...). Unrelated projects therefore share the
  headings, the template phrasing and the topic words, as real submissions to one hackathon do.
- Hard negatives: `SIBLING_PAIRS` pairs of *different* projects with the same theme, audience, city
  and tech stack (written independently), and about a third of all texts quote one of a few
  shared challenge statements word for word.
- Planted pairs: a copy of an original that is paraphrased (synonym substitutions and reworded
  stock phrases from a table the detector never sees), reordered (sentences shuffled within
  sections, sections shuffled) and token-edited (insert / delete / replace with words drawn from the
  corpus vocabulary): every copy gets all three. The edit level is drawn per pair so that the
  paraphrase substitutions plus the token edits change 10-20 % of the original's words
  (`Corpus.edit_rates` records the achieved fraction).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

SEED = 20_240_517
SIZE = 1_000
PLANTED = 50
SIBLING_PAIRS = 60


def _words(text: str) -> list[str]:
    return text.split()


# One theme per three lines: "name: nouns", "audiences ; data sources", "name stems".
_THEME_TABLE = """
health: patients symptoms clinics appointments medication prescriptions vitals diagnosis hospital
patients|nurses|caregivers|rural clinics ; wearable readings|hospital wait times|pharmacy stock
Med Care Pulse Vital Heal
mental: mood stress anxiety therapy journaling sleep counselors burnout mindfulness check-ins
students|remote workers|teenagers|veterans ; mood journals|sleep logs|survey answers
Calm Mind Haven Breathe Kind
education: lessons homework classrooms teachers quizzes tutoring courses grades exams curriculum
students|teachers|parents|tutors ; quiz results|attendance sheets|course catalogs
Learn Quiz Study Class Tutor
climate: emissions carbon footprint weather floods heatwaves trees pollution sensors temperature
citizens|city planners|farmers|schools ; air quality sensors|weather stations|satellite images
Green Carbon Climate Terra Leaf
energy: electricity solar panels batteries grid consumption meters tariffs appliances outages
households|landlords|utilities|small factories ; smart meter readings|solar forecasts|grid prices
Volt Watt Solar Grid Spark
agriculture: crops soil irrigation harvest pests livestock seeds fertilizer yields greenhouses
farmers|cooperatives|agronomists|gardeners ; soil moisture sensors|drone images|market prices
Crop Field Harvest Agro Seed
food: leftovers groceries restaurants donations expiry meals pantry surplus recipes shelters
restaurants|food banks|families|supermarkets ; expiry dates|donation logs|receipts
Meal Share Plate Pantry Feast
transport: buses trains routes commute bikes parking traffic stops tickets carpools
commuters|cyclists|drivers|transit agencies ; transit schedules|GPS traces|traffic counts
Route Transit Ride Commute Go
accessibility: captions ramps screen readers sign language wheelchairs navigation entrances contrast
blind users|deaf users|wheelchair users|older adults ; venue surveys|street imagery|building plans
Access Able Open Reach Ally
finance: budgets savings expenses loans invoices bills receipts subscriptions credit taxes
students|freelancers|small businesses|families ; bank transactions|receipts|invoices
Coin Budget Penny Ledger Cash
civic: petitions council meetings budgets elections permits complaints potholes neighborhoods
residents|city councils|journalists|activists ; council minutes|open data portals|311 requests
Civic Vote Town Voice Agora
disaster: evacuation shelters earthquakes wildfires supplies volunteers alerts rescue damage
first responders|volunteers|families|relief agencies ; emergency alerts|shelter beds|damage reports
Rescue Alert Safe Relief Beacon
water: wells leaks pipes rainfall reservoirs drinking water quality usage filters drought
villages|utilities|households|engineers ; flow meters|water quality tests|rainfall records
Aqua Drop Flow River Well
recycling: waste bins plastic sorting packaging compost landfill pickups materials containers
households|cafes|recyclers|municipalities ; bin fill levels|pickup routes|product barcodes
Cycle Bin Sort Reuse Loop
elderly: seniors loneliness falls reminders caregivers visits medication routines memory
seniors|caregivers|families|care homes ; motion sensors|visit logs|medication schedules
Silver Elder Companion Golden Nest
fitness: workouts running steps training injuries coaches stretching teams nutrition goals
runners|coaches|beginners|athletes ; step counts|heart rate data|training logs
Fit Run Stride Move Pace
music: songs playlists concerts musicians lyrics chords instruments rehearsals venues gigs
musicians|bands|music teachers|fans ; listening history|setlists|audio recordings
Tune Beat Chord Melody Jam
security: passwords phishing breaches permissions devices encryption scams logins vulnerabilities
small businesses|older adults|developers|schools ; phishing reports|login attempts|app permissions
Shield Guard Lock Secure Sentinel
retail: shops inventory customers orders deliveries loyalty prices products suppliers stock
shop owners|customers|market vendors|suppliers ; sales records|inventory counts|delivery times
Shop Market Stock Cart Store
housing: rent tenants landlords repairs apartments leases roommates neighborhoods deposits
tenants|students|landlords|housing nonprofits ; rental listings|repair requests|lease documents
Home Nest Rent Roof Dwell
wildlife: species birds habitats poaching forests animals sightings biodiversity migration reefs
rangers|researchers|hikers|volunteers ; camera traps|sighting reports|acoustic recordings
Wild Fauna Trail Habitat Roam
volunteering: volunteers shifts charities causes events donations skills hours nonprofits drives
volunteers|charities|students|companies ; shift sign-ups|donation records|event calendars
Help Hands Give Unite Kindly
careers: jobs resumes interviews skills internships mentors applications salaries hiring
graduates|job seekers|recruiters|mentors ; job postings|resumes|salary surveys
Career Hire Skill Path Launch
legal: contracts rights forms courts lawyers disputes documents visas benefits appeals
immigrants|tenants|workers|legal clinics ; court forms|case records|benefit rules
Legal Right Justice Law Clause
"""


def _themes(table: str) -> dict[str, tuple[str, str, str, str]]:
    """theme: (nouns, audiences, data sources, name stems); lists inside are "|"-separated."""
    rows = table.strip().splitlines()
    themes = {}
    for first, second, stems in zip(rows[::3], rows[1::3], rows[2::3], strict=True):
        name, nouns = first.split(": ")
        audiences, data = second.split(" ; ")
        themes[name] = (nouns, audiences, data, stems)
    return themes


THEMES = _themes(_THEME_TABLE)
VERBS = _words("""
track predict visualize match recommend summarize schedule detect map analyze monitor share
connect organize automate translate classify rank compare notify estimate verify collect
search filter simplify report plan book reward
""")
GENERIC = _words("""
dashboard app platform map chatbot model pipeline notification report profile feed score
alert workflow marketplace assistant widget extension API database interface prototype
leaderboard calendar timeline heatmap survey form queue badge
""")
ADJECTIVES = _words("""
real-time personalized local accessible open simple secure affordable automatic interactive
community-driven offline-first lightweight friendly transparent smart fast scalable
inclusive privacy-preserving daily weekly nearby verified anonymous collaborative visual
mobile voice-based low-cost
""")
TECHS = _words("""
Python FastAPI Django Flask React Vue Svelte Next.js TypeScript Node.js Express Go Rust
Kotlin Swift Flutter PostgreSQL MongoDB Redis Firebase Supabase SQLite Docker Kubernetes AWS
GCP Azure Vercel Heroku TensorFlow PyTorch scikit-learn pandas OpenCV Hugging Face OpenAI
Twilio Stripe Mapbox Leaflet D3.js Tailwind Figma Arduino Raspberry Pi LoRa MQTT GraphQL
WebSockets Three.js Unity Godot Streamlit Gradio LangChain Auth0 Cloudflare Netlify
Elasticsearch Kafka
""")
CITIES = _words("""
Lagos Lisbon Nairobi Pune Bogotá Manila Toronto Austin Leeds Accra Jakarta Porto Krakow
Dhaka Quito Recife Cebu Lyon Graz Tampere
""")

CHALLENGES = [
    "This project was built for the Open Data Challenge: use public datasets to make a measurable "
    "difference for people in your city within one weekend.",
    "Track prompt: build something that makes everyday services more accessible to people who are "
    "usually left out by technology.",
    "We entered the Sustainability track, which asked teams to reduce waste, emissions or resource "
    "use with software and cheap hardware.",
    "The sponsor challenge asked for the best use of a public API to help a local community "
    "organization do more with less.",
]

SECTIONS: list[tuple[str, list[str]]] = [
    ("Inspiration", [
        "Every year thousands of {A} struggle to find reliable information about {N}.",
        "One of our team members saw how hard it is for {A} in {C} to keep track of {N}.",
        "We noticed that most {A} still rely on paper notes and phone calls to manage {N}.",
        "During the pandemic {A} lost access to {N} and nobody had a {J} way to {V} {N2}.",
        "Existing tools for {N} are expensive, slow and not built for {A}.",
        "A friend who works with {A} told us that {D} is collected but almost never used.",
        "We wanted to give {A} a {J} way to {V} their {N} without another complicated tool.",
        "Studies show that {X} percent of {A} never {V} their {N} because it is confusing.",
        "We asked ourselves what would happen if {A} could {V} {N} as easily as sending a message.",
        "Our city, {C}, publishes {D} but the data sits in spreadsheets that nobody reads.",
        "Last winter a problem with {N} in {C} affected hundreds of {A} for weeks.",
        "Talking to {A} at a local meetup convinced us that {N} deserves better software.",
    ]),
    ("What it does", [
        "{P} is a {J} {G} that helps {A} {V} {N}.",
        "Users can {V} {N} and {V2} {N2} from a single {G}.",
        "The {G} shows a {J} {G2} of {N} based on {D}.",
        "It sends a {J} {G2} when {N} needs attention.",
        "{A} sign up with their phone number and get a {J} {G} in seconds.",
        "A {J} {G} lets {A} {V} {N2} and compare it with others nearby.",
        "Organizers and {A} can {V} {N} together and {V2} the results.",
        "The assistant answers questions about {N} in plain language.",
        "It works offline and syncs {D} when a connection is available.",
        "Every entry gets a score from 0 to {X} so that {A} know where to start.",
        "A weekly {G2} summarizes {N2} and suggests what to do next.",
        "Admins get a {J} {G} to {V} {N} across the whole region.",
    ]),
    ("How we built it", [
        "The frontend is built with {T} and the backend runs on {T2}.",
        "We store {D} in {T} and expose it through a small REST API written in {T2}.",
        "We trained a simple model with {T} on {X} thousand records of {D}.",
        "Maps are rendered with {T} and the {G} updates in real time over websockets.",
        "Authentication uses {T}, and everything is deployed on {T2} with a single command.",
        "We scraped public {D} and cleaned it with a pipeline in {T}.",
        "Design started with paper sketches of the {G} and moved to {T} on Saturday morning.",
        "A background worker in {T} processes {D} every few minutes.",
        "Notifications go through {T} and the data lives in {T2}.",
        "The hardware prototype uses {T} to read {D} and push it to {T2}.",
    ]),
    ("Challenges we ran into", [
        "Getting clean {D} was much harder than we expected.",
        "None of us had used {T} before, so the first night was spent reading documentation.",
        "Syncing {N} between devices without losing data took several attempts.",
        "We had to cut the {G} feature to finish on time.",
        "Matching {N} to {A} fairly turned out to be a tricky problem.",
        "The free tier of {T} limited how many requests we could make.",
        "Our first {G} was too slow, so we rewrote the core logic in {T}.",
        "Explaining {N} to {A} without jargon took many iterations of the interface.",
    ]),
    ("Accomplishments that we're proud of", [
        "We shipped a working prototype that real {A} tested during the weekend.",
        "Our {G} can {V} {N} in under {X} seconds.",
        "We are proud that the app is usable with a screen reader and on old phones.",
        "We built the whole {G} in {X} hours with a team of four.",
        "Three {A} from {C} asked us when they can start using it.",
        "The model predicts {N2} correctly in {X} percent of our test cases.",
    ]),
    ("What we learned", [
        "We learned how to use {T} and how much {A} care about {N}.",
        "Talking to {A} early changed our whole design.",
        "We learned that {D} is messy and needs careful validation.",
        "Shipping a small {G} that works beats a big one that does not.",
        "We learned to split the work so that nobody was blocked on the {G}.",
    ]),
    ("What's next for {P}", [
        "Next we want to partner with local {A} groups in {C}.",
        "We plan to add support for {N2} and more languages.",
        "We want to open source {P} and publish the {D} we collected.",
        "A pilot with {A} in {C} is planned for next month.",
        "We will add a {J} {G2} and better ways to {V} {N}.",
    ]),
]  # fmt: skip

# Paraphrase table of the *copier*: the detector never sees it.
SYNONYMS: dict[str, list[str]] = {
    "build": ["create", "make"], "built": ["created", "made", "developed"],
    "helps": ["assists", "enables"], "users": ["people", "customers"],
    "app": ["application", "tool"], "shows": ["displays", "presents"],
    "lets": ["allows", "enables"], "uses": ["leverages", "employs"],
    "simple": ["basic", "straightforward"], "hard": ["difficult", "tough"],
    "fast": ["quick", "rapid"], "problem": ["issue", "challenge"],
    "data": ["information", "datasets"], "get": ["receive", "obtain"],
    "find": ["locate", "discover"], "want": ["wish", "aim"], "small": ["little", "tiny"],
    "learned": ["discovered", "realized"], "expected": ["anticipated", "planned"],
    "started": ["began", "kicked off"], "proud": ["happy", "glad"],
    "next": ["upcoming", "following"], "weekend": ["hackathon", "event"],
    "cut": ["drop", "remove"], "rewrote": ["rebuilt", "reimplemented"],
    "messy": ["noisy", "dirty"], "careful": ["thorough", "strict"], "real": ["actual", "genuine"],
    "many": ["numerous", "lots of"], "plan": ["intend", "aim"], "nobody": ["no one", "none of us"],
    "convinced": ["persuaded", "showed"], "tricky": ["difficult", "subtle"],
    "slow": ["sluggish", "laggy"], "expensive": ["costly", "pricey"],
    "reliable": ["trustworthy", "dependable"],
}  # fmt: skip
REWORDINGS: list[tuple[str, str]] = [
    ("We wanted to", "Our goal was to"), ("We learned", "Our team learned"),
    ("None of us had used", "Nobody on the team knew"), ("We are proud that", "We are happy"),
    ("Next we want to", "Going forward we hope to"), ("is built with", "uses"),
    ("took several attempts", "needed a few tries"), ("in plain language", "in simple words"),
    ("What it does", "Features"), ("How we built it", "Implementation"),
    ("Challenges we ran into", "Challenges"), ("What we learned", "Lessons"),
]  # fmt: skip


@dataclass
class Corpus:
    """Texts plus the ground truth: planted pairs are (original, copy) with original < copy."""

    texts: list[str]
    planted: set[tuple[int, int]] = field(default_factory=set)
    siblings: set[tuple[int, int]] = field(default_factory=set)
    edit_rates: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass
class _Project:
    name: str
    theme: str
    audiences: list[str]
    city: str
    techs: list[str]


def _project(rng: random.Random, theme: str | None = None) -> _Project:
    theme = theme or rng.choice(sorted(THEMES))
    stems = THEMES[theme][3].split()
    suffix = rng.choice(["ly", "io", "Hub", "Link", "Mate", "Wise", "Now", "Up", "Go", "Lab"])
    return _Project(
        name=f"{rng.choice(stems)}{rng.choice(['', ' '])}{suffix}",
        theme=theme,
        audiences=rng.sample(THEMES[theme][1].split("|"), 2),
        city=rng.choice(CITIES),
        techs=rng.sample(TECHS, rng.randint(3, 7)),
    )


def _sentence(rng: random.Random, template: str, project: _Project) -> str:
    nouns = THEMES[project.theme][0].split()
    data = THEMES[project.theme][2].split("|")
    slots = {
        "A": lambda: rng.choice(project.audiences),
        "N": lambda: rng.choice(nouns),
        "N2": lambda: f"{rng.choice(nouns)} and {rng.choice(nouns)}",
        "D": lambda: rng.choice(data),
        "V": lambda: rng.choice(VERBS),
        "V2": lambda: rng.choice(VERBS),
        "G": lambda: rng.choice(GENERIC),
        "G2": lambda: rng.choice(GENERIC),
        "J": lambda: rng.choice(ADJECTIVES),
        "T": lambda: rng.choice(project.techs),
        "T2": lambda: rng.choice(project.techs),
        "C": lambda: project.city,
        "P": lambda: project.name,
        "X": lambda: str(rng.randint(2, 95)),
    }
    text = re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)](), template)
    return text[0].upper() + text[1:]


def _write(rng: random.Random, project: _Project) -> list[tuple[str, list[str]]]:
    """Sections as (heading, sentences) so that a copier can shuffle them."""
    tagline = f"{rng.choice(ADJECTIVES)} {rng.choice(GENERIC)} to {rng.choice(VERBS)} "
    tagline += rng.choice(THEMES[project.theme][0].split())
    sections: list[tuple[str, list[str]]] = [(f"# {project.name}: {tagline}", [])]
    if rng.random() < 0.35:
        sections.append(("## Challenge", [rng.choice(CHALLENGES)]))
    chosen = [SECTIONS[i] for i in sorted(rng.sample(range(len(SECTIONS)), rng.randint(4, 7)))]
    for heading, templates in chosen:
        count = rng.randint(3, 7) if heading == "What it does" else rng.randint(2, 5)
        sentences = [_sentence(rng, t, project) for t in rng.sample(templates, count)]
        if heading == "What it does" and rng.random() < 0.5:
            sentences += [
                f"- {rng.choice(VERBS).capitalize()} {rng.choice(ADJECTIVES)} "
                f"{rng.choice(THEMES[project.theme][0].split())}"
                for _ in range(rng.randint(2, 5))
            ]
        sections.append((f"## {heading.replace('{P}', project.name)}", sentences))
    slug = project.name.lower().replace(" ", "-")
    built = ", ".join(f"**{t}**" for t in project.techs)
    sections.append(
        ("## Built with", [built, f"Source: [GitHub](https://github.com/team-{slug}/{slug})"])
    )
    return sections


def _render(sections: list[tuple[str, list[str]]]) -> str:
    parts = []
    for heading, sentences in sections:
        lines = [s for s in sentences if s.startswith("- ")]
        prose = " ".join(s for s in sentences if not s.startswith("- "))
        parts.append("\n\n".join(p for p in [heading, prose, "\n".join(lines)] if p))
    return "\n\n".join(parts) + "\n"


def _paraphrase(rng: random.Random, text: str, budget: int) -> tuple[str, int]:
    """Reword stock phrases and substitute synonyms until `budget` words changed."""
    changed = 0
    for old, new in rng.sample(REWORDINGS, len(REWORDINGS)):
        if changed < budget and old in text and rng.random() < 0.5:
            text = text.replace(old, new, 1)
            changed += max(len(old.split()), len(new.split()))
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.lower().strip(".,") in SYNONYMS]
    for i in rng.sample(spots, len(spots)):
        if changed >= budget:
            break
        core = words[i].strip(".,")
        new = rng.choice(SYNONYMS[core.lower()])
        words[i] = words[i].replace(core, new.capitalize() if core[0].isupper() else new)
        changed += 1
    return " ".join(words), changed


def _reorder(rng: random.Random, sections: list[tuple[str, list[str]]]) -> None:
    for _, sentences in sections:
        if rng.random() < 0.7:
            rng.shuffle(sentences)
    if rng.random() < 0.6:
        middle = sections[1:-1]
        rng.shuffle(middle)
        sections[1:-1] = middle


def _edit_tokens(rng: random.Random, text: str, edits: int, pool: list[str]) -> str:
    """Insert, delete or replace `edits` words (line structure kept)."""
    lines = [line.split(" ") for line in text.split("\n")]
    spots = [(li, wi) for li, words in enumerate(lines) for wi in range(len(words)) if words[wi]]
    for li, wi in sorted(rng.sample(spots, min(edits, len(spots))), reverse=True):
        op = rng.random()
        if op < 1 / 3:
            del lines[li][wi]
        elif op < 2 / 3:
            lines[li].insert(wi, rng.choice(pool))
        else:
            lines[li][wi] = rng.choice(pool)
    return "\n".join(" ".join(words) for words in lines)


def _word_pool() -> list[str]:
    words: set[str] = set(VERBS) | set(GENERIC) | set(ADJECTIVES)
    for nouns, audiences, data, _ in THEMES.values():
        words |= set(nouns.split()) | set(audiences.replace("|", " ").split())
        words |= set(data.replace("|", " ").split())
    for _, templates in SECTIONS:
        for template in templates:
            words |= {w.strip(".,") for w in re.sub(r"\{\w+\}", " ", template).split()}
    return sorted(w for w in words if w)


def planted_copy(rng: random.Random, sections: list[tuple[str, list[str]]]) -> tuple[str, float]:
    """A near-duplicate of `sections`: paraphrased, reordered and 10-20 % edited.

    Returns the copy and the fraction of the original's words that were changed.
    """
    sections = [(heading, list(sentences)) for heading, sentences in sections]
    n_words = len(_render(sections).split())
    rate = rng.uniform(0.10, 0.20)
    budget = round(rate * n_words)
    _reorder(rng, sections)
    text, changed = _paraphrase(rng, _render(sections), rng.randint(budget // 4, budget // 2))
    text = _edit_tokens(rng, text, max(0, budget - changed), _word_pool())
    return text, budget / n_words


def generate_corpus(seed: int = SEED, size: int = SIZE, planted: int = PLANTED) -> Corpus:
    """`size` texts: originals (`SIBLING_PAIRS` same-theme pairs among them), `planted` copies."""
    rng = random.Random(seed)
    originals: list[list[tuple[str, list[str]]]] = []
    sibling_slots: list[tuple[int, int]] = []
    while len(originals) < size - planted:
        if len(sibling_slots) < SIBLING_PAIRS and len(originals) + 2 <= size - planted:
            first = _project(rng)
            second = _project(rng, first.theme)
            second.audiences, second.city, second.techs = first.audiences, first.city, first.techs
            sibling_slots.append((len(originals), len(originals) + 1))
            originals += [_write(rng, first), _write(rng, second)]
        else:
            originals.append(_write(rng, _project(rng)))
    texts = [_render(sections) for sections in originals]
    order = list(range(size))
    rng.shuffle(order)  # where each text lands, so copies are not next to their originals
    placed: list[str] = [""] * size
    for source, target in zip(range(len(texts)), order, strict=False):
        placed[target] = texts[source]
    corpus = Corpus(placed)
    corpus.siblings = {(min(order[a], order[b]), max(order[a], order[b])) for a, b in sibling_slots}
    for source, target in zip(
        rng.sample(range(len(texts)), planted), order[len(texts) :], strict=True
    ):
        copy, rate = planted_copy(rng, originals[source])
        placed[target] = copy
        pair = (min(order[source], target), max(order[source], target))
        corpus.planted.add(pair)
        corpus.edit_rates[pair] = rate
    return corpus
