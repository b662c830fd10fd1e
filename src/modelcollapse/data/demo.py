"""The built-in ``demo`` corpus: SYNTHETIC product reviews, generated, never downloaded.

The texts are not real reviews. They exist so ``modelcollapse`` runs offline and in
tests with data that behaves like the Amazon review polarity set: "Title: text"
reviews (as in the Kaggle fastText files), 20-120 words, a vocabulary that keeps
growing with corpus size, and a bag-of-words accuracy around 85%, not 100%.

Generative model, per review:

* a true sentiment ``y`` (exactly balanced) and a latent tone ``s ~ N(+-mu, sigma)``;
  reviews whose tone crosses zero read as the other class, and 3% of the published
  labels are flipped, as star ratings disagree with their text;
* a product noun and a made-up brand, then sentences until a log-normal word budget
  is spent; a review-level share of them carries sentiment, each sentiment sentence
  is positive with probability ``sigmoid(k * s)`` and the rest are neutral product
  talk (features, shipping, who it was for);
* sentiment words come from the real VADER lexicon shipped by ``vaderSentiment``
  (mean valence sign), sometimes intensified ("very"), sometimes negated ("not good",
  "never works", "don't like"), and a minority sentence in a review gets a contrast
  marker ("My only complaint is that ...");
* every word list is sampled Zipf-like by rank, brands from an open-ended list, so
  new words keep appearing as the corpus grows.

Only ``numpy.random.default_rng(seed)`` draws are used: same ``(n, seed)``, same bytes.
"""

from __future__ import annotations

import codecs
import functools
import importlib.resources
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import numpy as np

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError

T = TypeVar("T")


def _split(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Word lists are written as one string: shorter to read than a list literal."""
    return tuple(text.split(sep))


DEMO_SIZE = 20_000
"""Default number of reviews: enough for the demo preset (~12k train rows plus a test split)."""

# Knobs of the generative model, tuned so CountVectorizer+NB and TF-IDF bigrams+LR land
# at ~0.87 accuracy with 4k training rows (see tests/test_demo_corpus.py).
_TONE_MEAN = 1.3  # |mean| of the latent tone
_TONE_SD = 0.7  # spread of the tone; tone < 0 in a positive review reads as negative
_TONE_GAIN = 1.6  # sentence polarity = sigmoid(gain * tone)
_LABEL_NOISE = 0.03  # share of published labels flipped
_NEGATION_RATE = 0.2  # sentiment sentences phrased as a negated opposite
_INTENSIFIER_RATE = 0.3
_PHRASE_RATE = 0.12  # sentiment sentences that are stock phrases ("Save your money.")
_CONTRAST_RATE = 0.7  # against-the-tone sentences that get "But"/"To be fair," in front
_MIN_WORDS, _MAX_WORDS = 20, 120
_N_BRANDS = 50_000  # virtual brand list (< 38**3 names); large so it never saturates

# Lexicon entries unfit for review text: chat acronyms, and words that would make a
# product review corpus offensive or grim. Stems match anywhere in the word.
_SKIP_WORDS = frozenset(
    _split(
        "aas aayf afu alol aml ambw aok atab awol ayc ayor bfe bff bffn bsod btdt cwot doa "
        "ez fav fave fcol foaf ftw fud fwb fyi fysa gga gigo gla ha hagd hagn hago hak haha "
        "hahas hahaha hahahah heh hhoj hhok hugz ijs ilu iluaaf ily iou iyq jho jhomf jealz "
        "kewl kfy kia kmuf laoj lawl leet lmao lmbao lmfao lmso lol lolz lown lowe lulz ly "
        "lya lyb lyl lylab lylas lylb mia mofo muah mubar musm mwah nbif nimby nimjd nimq "
        "nimy nitl nme noob noyb ntmu pita pmbi pmfji pmji po ptl pu pukka rofl roflmao rotfl "
        "rotflmao rotflmfao rotflol rotgl sapfu sete sfete sgtm snafu sok sux swak tgif tia "
        "ty tyvm urw vbg vbs vip vwd vwp wilco woot xlnt xoxo xqzt yolo yoyo yvw yw ywia "
        "yeees bwahahah fubar effin fuked fuking gratz welly sexy sexier sexiest kissy"
    )
)
_GRIM_STEMS = _split(
    "abduct abuse assassin assault bomb cancer corpse crime criminal death drown "
    "enslave fascis felon genocid harass kill massacre molest murder nazi pervert "
    "poison prison racis riot slave stab strangl suicid terror tortur totalitarian "
    "treason tumor victim violat violen warmonger haha lmao lmfao rofl"
)
# rot13 so the file itself stays readable; decoded once at import.
_OFFENSIVE_STEMS = tuple(
    codecs.decode(s, "rot13")
    for s in _split(
        "shpx shpxr fuvg phag ovgpu avtt snt fyhg jubec gjng qvpx pbpx onfgneq qbhpur "
        "jnaxre ergneq cvff gvgf encr encvat qhzonff wnpxnff nffubyr nffshpx"
    )
)
_OFFENSIVE_WORDS = frozenset(
    codecs.decode(s, "rot13") for s in _split("nff nffrf gneq gneqf cevpx fuvgf phagf")
)

# Words every review site over-uses; they take the top Zipf ranks if VADER rates them.
_CORE_POSITIVE = _split(
    "great good love perfect excellent nice easy best happy awesome amazing fantastic "
    "wonderful comfortable beautiful glad pleased fun favorite helpful cool sweet "
    "recommend well perfectly impressed"
)
_CORE_NEGATIVE = _split(
    "bad poor disappointed terrible worst waste broken useless awful horrible defective "
    "disappointing wrong worse problem annoying frustrating cheap flimsy fail failed "
    "broke hate uncomfortable ugly boring crap junk"
)
_ADJ_SUFFIXES = _split(
    "ful ous ive able ible ic ical al less y ed ing ent ant est ish ile ure ite id ate"
)
_NOT_ADJ_SUFFIXES = _split("ness ment tion sion ty ism ist ly s")
_CORE_ADJ = frozenset(
    _split(
        "great good perfect excellent nice easy best happy awesome amazing fantastic "
        "wonderful comfortable beautiful glad fun cool sweet bad poor terrible worst broken "
        "useless awful horrible wrong worse cheap flimsy ugly boring fine solid"
    )
)

# Neutral product vocabulary (none of these words is in the VADER lexicon).
_NOUNS = _split(
    "blender|coffee maker|toaster|kettle|headphones|phone case|charger|usb cable|keyboard|"
    "mouse|monitor|router|speaker|camera|tripod|backpack|suitcase|wallet|watch|jacket|"
    "boots|sneakers|water bottle|desk lamp|vacuum|air fryer|rice cooker|knife set|"
    "frying pan|cutting board|office chair|standing desk|pillow|mattress topper|"
    "shower head|hair dryer|electric toothbrush|razor|yoga mat|dumbbells|bike lock|"
    "tent|sleeping bag|flashlight|power bank|smart plug|thermostat|doorbell camera|"
    "printer|tablet|ereader|microwave|dehumidifier|space heater|fan|humidifier|"
    "baby monitor|stroller|car seat|dog bed|cat tree|leash|litter box|aquarium filter|"
    "garden hose|lawn mower|drill|screwdriver set|tool box|ladder|paint roller|"
    "board game|puzzle|guitar strings|microphone|webcam|graphics card|hard drive|"
    "memory card|laptop stand|mouse pad|ink cartridge|shoe rack|laundry basket|"
    "curtains|bed sheets|towel set|shampoo|sunscreen|lip balm|candle|picture frame|"
    "wall clock|alarm clock|umbrella|rain jacket|gloves|scarf|socks|jeans|belt|"
    "sunglasses|earbuds|smartwatch band|screen protector|car charger|dash cam|"
    "tire gauge|jump starter|cooler|thermos|lunch box|food processor|stand mixer|"
    "pressure cooker|slow cooker|waffle maker|ice cube tray|spice rack|tea infuser",
    "|",
)
_FEATURES = _split(
    "battery|handle|lid|cord|screen|buttons|zipper|strap|sound|motor|blade|fabric|sole|"
    "stitching|instructions|packaging|app|remote|display|hinge|filter|charging port|"
    "power button|cable|base|cup|handle grip|wheels|cover|case|speaker grille|"
    "touch controls|settings|timer|dial|knob|switch|clip|buckle|laces|lining|pockets|"
    "seams|padding|frame|legs|feet|seal|valve|nozzle|spout|cap|latch|magnet|bracket|"
    "mount|stand|hook|tray|drawer|basket|bag|brush head|bristles|cushion|foam|"
    "backlight|bluetooth pairing|microphone|camera|lens|bezel|firmware|setup|manual|"
    "warranty card|box|label|finish|paint|coating|texture|weight|size|color",
    "|",
)
_PEOPLE = _split(
    "wife|husband|son|daughter|mom|dad|kids|grandmother|grandfather|sister|brother|"
    "roommate|boss|nephew|niece|girlfriend|boyfriend|coworker|neighbor|teenager|"
    "toddler|dog|cat|father in law|mother in law|cousin|students|team",
    "|",
)
_ACTIVITIES = _split(
    "cooking|travel|work|school|camping|hiking|the gym|running|gaming|reading|the office|"
    "the kitchen|road trips|commuting|gardening|cleaning|baking|fishing|the garage|"
    "the dorm|the beach|movie nights|meal prep|the car|video calls|studying|crafts",
    "|",
)
_COLORS = _split(
    "black|white|silver|red|blue|gray|green|pink|navy|beige|purple|teal|orange|"
    "rose gold|dark brown|olive|yellow|charcoal|cream|burgundy",
    "|",
)
_NEUTRAL_ADJ = _split(
    "plastic|metal|wooden|small|large|heavy|compact|standard|adjustable|removable|"
    "wireless|rechargeable|thin|thick|round|square|black|shorter than expected|"
    "longer than expected|about average|the same as my old one|bigger than it looks|"
    "lighter than it looks|made of steel|made of rubber|folding|stainless|matte|glossy",
    "|",
)
_SHIPPING = _split(
    "in two days|on time|a day early|a week after I ordered|on a sunday|in a plain box|"
    "in the original box|with the rest of my order|in three days|after ten days|"
    "by regular mail|at my front door|in a padded envelope|before the estimated date",
    "|",
)
_ACCESSORIES = _split(
    "a spare filter|two batteries|a usb cable|a carrying case|a wall adapter|a manual|"
    "extra screws|a cleaning brush|a second lid|mounting tape|a storage bag|a quick guide",
    "|",
)
_PLACES = _split(
    "kitchen|bedroom|garage|office|living room|car|basement|bathroom|closet|"
    "backyard|dorm room|camper",
    "|",
)
_NUMBERS = _split("two|three|four|five|six|a few|several|ten|twelve|eight", "|")
_PERIODS = _split("day|week|month|year", "|")
_PRICES = _split("twenty|fifteen|thirty|forty|fifty|sixty|eighty|twelve|ninety|a hundred", "|")
_INTENSIFIERS = _split(
    "very |really |so |super |extremely |pretty |quite |totally |absolutely |"
    "incredibly |truly |rather |remarkably |fairly |unbelievably ",
    "|",
)
_BRAND_SYLLABLES = _split(
    "zen tra vo lex ka ri no mi qua sol ter bel dor fin gra hex ion jet kor lum "
    "max neo orb pix quo ryn sta tek uni vex wav xen yor zor ark bri cal dex"
)

# Sentence templates. Slots: {a}/{w} sentiment adjective/word of the sentence's polarity,
# {o} adjective of the opposite polarity (after a negation), {i} optional intensifier.
_NEUTRAL = (
    "I bought this {noun} for my {person}.",
    "I bought it to replace my old {noun}.",
    "It arrived {ship}.",
    "I have been using it for {num} {period}s now.",
    "I use it mostly for {activity}.",
    "The {feature} is {nadj}.",
    "It comes with {acc} and {acc}.",
    "I ordered the {color} one.",
    "My {person} uses it for {activity}.",
    "The {feature} is {nadj} and the {feature} is {nadj}.",
    "We keep it in the {place}.",
    "I got it on sale for {price} dollars.",
    "It took {num} minutes to set up.",
    "I read the reviews before ordering the {brand} {noun}.",
    "This is my second {noun} from {brand}.",
    "It fits in my {place} drawer.",
    "The {noun} is about the size of my {noun2}.",
    "I also ordered the {noun2} at the same time.",
    "The {feature} and the {feature} are {nadj}.",
    "It is made by {brand}.",
    "I compared it with my old {noun}.",
    "It was delivered to my {place}.",
    "The {color} version is {nadj}.",
    "I checked the {feature} first.",
    "We use it for {activity} and {activity}.",
)
_DIRECT = (
    "The {noun} is {i}{a}.",
    "It is {i}{a}.",
    "The {feature} is {i}{a}.",
    "{i}{a} {noun}.",
    "It feels {i}{a} and {a}.",
    "I found the {feature} {i}{a}.",
    "Overall, {i}{a}.",
    "The {feature} turned out {i}{a}.",
    "My {person} thinks it is {i}{a}.",
    "For {activity} it is {i}{a}.",
    "After {num} {period}s it is still {i}{a}.",
    "{a} {feature}, {a} {feature}.",
    "Customer service was {i}{a}.",
    "The quality is {i}{a}.",
    "In a word: {w}.",
    "What comes to mind: {w} and {w}.",
    "Honestly, {i}{a}.",
    "The whole experience was {i}{a}.",
    "The {brand} {noun} is {i}{a}.",
)
_NEGATED = (
    "The {noun} is not {i}{o}.",
    "It is not {o} at all.",
    "I would not call it {o}.",
    "The {feature} is never {o}.",
    "Not {i}{o}, not {o}.",
    "Don't expect the {feature} to be {o}.",
    "It isn't {i}{o}.",
    "The {feature} was not {o} either.",
)
_PHRASES_POS = (
    "I would recommend it to anyone.",
    "Works as advertised.",
    "Would buy again.",
    "Worth every penny.",
    "I use it every day.",
    "Exactly what I needed.",
    "My {person} wants one too.",
    "It does everything I need for {activity}.",
)
_PHRASES_NEG = (
    "I want my money back.",
    "Returned it after {num} days.",
    "It stopped working after {num} {period}s.",
    "The {feature} broke after {num} {period}s.",
    "Save your money.",
    "Sent it back.",
    "Buyer beware.",
    "The {feature} came loose on day one.",
)
_NEGATED_PHRASES_POS = (
    "No complaints.",
    "I don't regret buying it.",
    "Never had a single problem.",
    "Can't complain.",
    "Not a single issue so far.",
    "No problems at all with the {feature}.",
    "It never lets me down.",
    "I don't know how I lived without it.",
)
_NEGATED_PHRASES_NEG = (
    "It never works.",
    "It never works right.",
    "I don't like the {feature}.",
    "I don't like it.",
    "Don't buy this {noun}.",
    "It does not work.",
    "I would not recommend it.",
    "Don't waste your money.",
    "Never again.",
    "Not worth the price.",
)
_CONTRAST = {  # marker for a sentence against the review's overall tone, by its polarity
    0: ("But", "However,", "My only complaint is that", "On the downside,", "Sadly,"),
    1: ("On the plus side,", "To be fair,", "That said,", "Admittedly,", "Still,"),
}
_TITLE_POLAR = (
    "{a} {noun}",
    "{a}!",
    "{i}{a}",
    "{a} and {a}",
    "{a} {noun} for {activity}",
    "{a} {feature}",
    "{w}",
    "{a} {brand} {noun}",
)
_TITLE_NEGATED = ("Not {o}", "Not {i}{o}", "Never {o}")
_TITLE_FIXED = {
    0: ("Don't buy", "Save your money", "Returned it", "Stopped working", "Not as described"),
    1: ("Does the job", "Love it", "Worth it", "Would buy again", "Exactly as described"),
}
_TITLE_NEUTRAL = (
    "{noun} review",
    "My new {noun}",
    "{noun} for my {person}",
    "{color} {noun}",
    "For {activity}",
    "{brand} {noun}",
)


def _zipf_weights(n: int, alpha: float = 1.05, offset: float = 1.7) -> np.ndarray:
    """Zipf-Mandelbrot probabilities by rank: few words dominate, the tail stays alive."""
    w = 1.0 / (np.arange(n, dtype=np.float64) + offset) ** alpha
    return w / w.sum()


def _usable(word: str) -> bool:
    """A lexicon entry fit for review text: a plain lowercase word, not slang or offensive."""
    if not re.fullmatch(r"[a-z]{2,}", word) or not re.search(r"[aeiouy]", word):
        return False
    if word in _SKIP_WORDS or word in _OFFENSIVE_WORDS:
        return False
    return not any(stem in word for stem in (*_GRIM_STEMS, *_OFFENSIVE_STEMS))


def _adjective_like(word: str) -> bool:
    """Suffix guess at adjectives, so "The lid is {a}" mostly reads as English."""
    if word in _CORE_ADJ:
        return True
    if any(word.endswith(s) for s in _NOT_ADJ_SUFFIXES):
        return False
    return any(word.endswith(s) for s in _ADJ_SUFFIXES)


@functools.cache
def _lexicon() -> dict[tuple[int, bool], tuple[str, ...]]:
    """VADER words by (polarity, adjective-like), ordered by an assumed frequency rank.

    Rank: core review words first, then shorter words before longer ones (short words
    are the frequent ones in real text), ties broken by a fixed-seed jitter.
    """
    try:
        text = (importlib.resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(
            encoding="utf-8"
        )
    except ModuleNotFoundError as err:  # pragma: no cover - it is a hard dependency
        raise UserError("the demo corpus needs vaderSentiment: pip install vaderSentiment") from err
    words: list[str] = []
    valence: list[float] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and _usable(parts[0]):
            words.append(parts[0])
            valence.append(float(parts[1]))
    jitter = np.random.default_rng(20_240_601).uniform(0.0, 4.0, len(words))
    pools: dict[tuple[int, bool], tuple[str, ...]] = {}
    for polarity, core in ((1, _CORE_POSITIVE), (0, _CORE_NEGATIVE)):
        sign = 1.0 if polarity else -1.0
        picked = [i for i, v in enumerate(valence) if sign * v >= 0.8]
        picked.sort(key=lambda i: (len(words[i]) + jitter[i], words[i]))
        lexset = {words[i] for i in picked}
        ranked = [w for w in core if w in lexset]
        seen = set(ranked)
        ranked += [words[i] for i in picked if words[i] not in seen]
        pools[(polarity, False)] = tuple(ranked)
        pools[(polarity, True)] = tuple(w for w in ranked if _adjective_like(w))
    return pools


@functools.cache
def _brand_names() -> tuple[str, ...]:
    """An open-ended brand list built from syllables (brand rank -> name)."""
    k = len(_BRAND_SYLLABLES)
    order = np.random.default_rng(7).permutation(_N_BRANDS)
    names = []
    for i in order.tolist():
        parts = [_BRAND_SYLLABLES[i % k], _BRAND_SYLLABLES[(i // k) % k]]
        if i >= k * k:
            parts.append(_BRAND_SYLLABLES[(i // (k * k)) % k])
        names.append("".join(parts).capitalize())
    return tuple(names)


def _stream(chunks: Iterator[list[T]]) -> Callable[[], T]:
    """Flatten buffered numpy draws into a C-level ``next``: one Python call per 8k items."""
    return itertools.chain.from_iterable(chunks).__next__


def _pool(rng: np.random.Generator, words: Sequence[str]) -> Callable[[], str]:
    """Zipf-by-rank word draws from ``words``."""
    p = _zipf_weights(len(words))

    def chunks() -> Iterator[list[str]]:
        while True:
            yield [words[i] for i in rng.choice(len(words), size=4096, p=p).tolist()]

    return _stream(chunks())


def _uniforms(rng: np.random.Generator) -> Callable[[], float]:
    """Uniform floats for the many small per-sentence decisions."""

    def chunks() -> Iterator[list[float]]:
        while True:
            yield rng.random(8192).tolist()

    return _stream(chunks())


class _Slots(dict):
    """Mapping for ``str.format_map`` that draws a fresh word on every slot lookup.

    Also carries the per-review state: product noun, brand, sentence polarity and the
    templates already used (people rarely repeat a sentence within one review).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.u = _uniforms(rng)
        self.polarity = 1
        self.noun = ""
        self.brand = ""
        self.used: set[str] = set()
        self.sentiment = {key: _pool(rng, words) for key, words in _lexicon().items()}
        self.intensifier = _pool(rng, _INTENSIFIERS)
        self.pools = {
            "noun2": _pool(rng, _NOUNS),
            "feature": _pool(rng, _FEATURES),
            "person": _pool(rng, _PEOPLE),
            "activity": _pool(rng, _ACTIVITIES),
            "color": _pool(rng, _COLORS),
            "nadj": _pool(rng, _NEUTRAL_ADJ),
            "ship": _pool(rng, _SHIPPING),
            "acc": _pool(rng, _ACCESSORIES),
            "place": _pool(rng, _PLACES),
            "num": _pool(rng, _NUMBERS),
            "period": _pool(rng, _PERIODS),
            "price": _pool(rng, _PRICES),
        }

    def __missing__(self, key: str) -> str:
        if key == "a":
            return self.sentiment[(self.polarity, True)]()
        if key == "o":
            return self.sentiment[(1 - self.polarity, True)]()
        if key == "w":
            return self.sentiment[(self.polarity, False)]()
        if key == "i":
            return self.intensifier() if self.u() < _INTENSIFIER_RATE else ""
        if key == "noun":
            return self.noun
        if key == "brand":
            return self.brand
        return self.pools[key]()

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.u() * len(options))]

    def pick_fresh(self, options: Sequence[str]) -> str:
        """A template this review has not used yet, if two tries find one."""
        choice = self.pick(options)
        if choice in self.used:
            choice = self.pick(options)
            if choice in self.used:
                choice = self.pick(options)
        self.used.add(choice)
        return choice


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(slots: _Slots, polarity: int, stance: int) -> str:
    """One sentiment sentence of ``polarity``; contrast-marked if it goes against ``stance``."""
    u = slots.u
    slots.polarity = polarity
    r = u()
    if r < _NEGATION_RATE:
        negated = _NEGATED_PHRASES_POS if polarity else _NEGATED_PHRASES_NEG
        template = slots.pick_fresh(negated if u() < 0.5 else _NEGATED)
    elif r < _NEGATION_RATE + _PHRASE_RATE:
        template = slots.pick_fresh(_PHRASES_POS if polarity else _PHRASES_NEG)
    else:
        template = slots.pick_fresh(_DIRECT)
    text = template.format_map(slots)
    if polarity != stance and u() < _CONTRAST_RATE:
        return f"{slots.pick(_CONTRAST[polarity])} {text[:1].lower()}{text[1:]}"
    return _cap(text)


def _title(slots: _Slots, p_pos: float) -> str:
    u = slots.u
    r = u()
    if r < 0.15:
        return _cap(slots.pick(_TITLE_NEUTRAL).format_map(slots))
    slots.polarity = int(u() < p_pos)
    if r < 0.25:
        return slots.pick(_TITLE_FIXED[slots.polarity])
    if r < 0.32:
        return _cap(slots.pick(_TITLE_NEGATED).format_map(slots))
    return _cap(slots.pick(_TITLE_POLAR).format_map(slots))


def make_demo_corpus(n: int = DEMO_SIZE, seed: int = 0) -> Corpus:
    """Generate ``n`` synthetic "Title: text" reviews; deterministic in ``(n, seed)``."""
    if n < 1:
        raise UserError(f"the demo corpus needs at least 1 review, got n={n}", where="demo")
    rng = np.random.default_rng(seed)
    # Review-level draws, vectorised.
    sentiment = rng.permutation(np.arange(n) % 2).astype(np.int8)
    tone = np.where(sentiment == 1, _TONE_MEAN, -_TONE_MEAN) + rng.normal(0.0, _TONE_SD, n)
    p_pos = 1.0 / (1.0 + np.exp(-_TONE_GAIN * tone))
    density = 0.25 + 0.5 * rng.beta(2.0, 2.0, n)  # share of sentences that carry sentiment
    budget = np.clip(np.round(rng.lognormal(np.log(55.0), 0.45, n)), _MIN_WORDS, _MAX_WORDS).astype(
        int
    )
    nouns = rng.choice(len(_NOUNS), size=n, p=_zipf_weights(len(_NOUNS), alpha=1.0, offset=8.0))
    brands = rng.choice(_N_BRANDS, size=n, p=_zipf_weights(_N_BRANDS, alpha=1.0, offset=3.0))
    flip = rng.random(n) < _LABEL_NOISE
    labels = np.where(flip, 1 - sentiment, sentiment).astype(np.int8)

    slots = _Slots(rng)
    uniform = slots.u
    brand_names = _brand_names()
    texts: list[str] = []
    for noun, brand, t, p, dens, limit in zip(
        nouns.tolist(),
        brands.tolist(),
        tone.tolist(),
        p_pos.tolist(),
        density.tolist(),
        budget.tolist(),
        strict=True,
    ):
        slots.noun = _NOUNS[noun]
        slots.brand = brand_names[brand]
        slots.used.clear()
        stance = int(t > 0)
        title = _title(slots, p)
        words = len(title.split())
        body: list[str] = []
        while words < limit:
            if uniform() < dens:
                text = _sentence(slots, int(uniform() < p), stance)
            else:
                text = _cap(slots.pick_fresh(_NEUTRAL).format_map(slots))
            k = len(text.split())
            if words + k > _MAX_WORDS and words >= _MIN_WORDS:  # keep within 20-120
                break
            body.append(text)
            words += k
        texts.append(f"{title}: {' '.join(body)}")
    meta: dict[str, object] = {
        "synthetic": True,
        "generator": "modelcollapse.data.demo",
        "seed": seed,
        "n": n,
    }
    return Corpus(texts, labels, "demo", ("negative", "positive"), meta)
