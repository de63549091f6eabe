#!/usr/bin/env python3
"""Generate mtbert's bundled demo dataset (data/demo/).

Run from the project root:

    python3 data/demo/make_demo.py

It writes, next to this script:

    sst-train.csv  sst-dev.csv    sentiment, 5 classes   (400 + 100 rows)
    para-train.csv para-dev.csv   question paraphrase    (400 + 100 rows)
    sts-train.csv  sts-dev.csv    sentence similarity    (400 + 100 rows)
    vocab.txt                     WordPiece vocabulary covering all of the above

All text is original, written for mtbert: hand-written sentences plus templates
and word lists in this file, combined by a seeded pseudo-random generator.  The
generator uses only the Python 3 standard library and its own PRNG
(splitmix64), so the output is byte-identical on every run and every Python 3
version.  At the end the files are read back and checked (format, ids, labels,
train/dev overlap, vocabulary coverage).
"""

import hashlib
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240611


# ----------------------------------------------------------------------------
# deterministic PRNG (independent of the Python version's random module)
# ----------------------------------------------------------------------------

class Rng:
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n)."""
        if n <= 0:
            raise ValueError("below(0)")
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next64()
            if x < limit:
                return x % n

    def random(self):
        return (self.next64() >> 11) / float(1 << 53)

    def chance(self, p):
        return self.random() < p

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, seq):
        for i in range(len(seq) - 1, 0, -1):
            j = self.below(i + 1)
            seq[i], seq[j] = seq[j], seq[i]

    def sample(self, seq, k):
        pool = list(seq)
        self.shuffle(pool)
        return pool[:k]

    def weighted(self, items):
        """items: list of (weight, value)."""
        total = sum(w for w, _ in items)
        x = self.random() * total
        for w, v in items:
            x -= w
            if x < 0:
                return v
        return items[-1][1]


def cap(s):
    return s[:1].upper() + s[1:]


def art(word):
    """Indefinite article for the following word."""
    return "an" if word[:1].lower() in "aeiou" else "a"


# ============================================================================
# SST: five-class movie-review sentiment
# ============================================================================

GENRES = [
    "film", "movie", "comedy", "drama", "thriller", "documentary", "romance",
    "sequel", "remake", "horror film", "musical", "western", "mystery",
    "war film", "fantasy", "animated feature", "family film", "crime story",
    "road movie", "period piece", "biopic", "satire", "melodrama",
    "action picture", "ghost story", "heist movie", "love story",
    "science fiction film", "spy thriller", "sports drama",
    "coming-of-age story", "courtroom drama", "disaster movie",
    "detective story", "space adventure", "romantic comedy", "adaptation",
    "debut",
]

DIRECTORS = [
    "Marlow", "Okafor", "Lindqvist", "Tavares", "Brennan", "Hollis", "Varga",
    "Castellano", "Moreau", "Delgado", "Whitcombe", "Kowalski", "Ashby",
    "Fenwick", "Sorensen", "Adeyemi", "Quill", "Halvorsen", "Pereira",
    "Dunmore",
]

ACTORS = [
    "Dana Reyes", "Tom Abernathy", "Lena Okoro", "Sam Whitfield",
    "Maya Lindgren", "Jonah Pryce", "Iris Kemper", "Theo Marchetti",
    "Nora Blake", "Felix Arden", "Ruth Castillo", "Owen Tanaka", "Clara Voss",
    "Milo Grant", "Hazel Dunne",
]

# whole-film predicates by score -2..2: noun phrases and adjective phrases
PRED_NP = {
    -2: ["a dull , lifeless mess", "a complete waste of time",
         "an insufferable bore", "a joyless , clumsy slog",
         "one of the worst films of the year", "an ugly and cynical exercise",
         "a total disaster", "a tedious , empty spectacle",
         "a shapeless , boring mess", "an embarrassment for everyone involved",
         "a dreadful misfire", "an incoherent jumble",
         "a lazy , charmless cash grab", "a chore to sit through",
         "a miserable experience"],
    -1: ["a forgettable effort", "a missed opportunity", "a bit of a letdown",
         "a flat and uneven affair", "a disappointing follow-up",
         "a thin , predictable story", "a muddled affair", "a sluggish ride",
         "a tired copy of better films", "a weak imitation",
         "a mediocre piece of work", "a clumsy attempt at humor",
         "a minor disappointment", "a half-hearted effort"],
    0: ["a mixed bag", "an ordinary genre exercise", "a middling effort",
        "neither a triumph nor a disaster", "a modest entertainment",
        "a routine piece of work", "a standard , by-the-numbers entry",
        "a passable way to spend an afternoon", "a perfectly average outing",
        "an unremarkable but harmless diversion",
        "a film of small pleasures and small problems"],
    1: ["a solid piece of entertainment", "a pleasant surprise",
        "a likable little film", "an enjoyable ride", "a charming diversion",
        "a good-natured romp", "a welcome change of pace",
        "a clever and engaging story", "a handsome production",
        "a satisfying watch", "a smart , well-made entertainment",
        "a sweet and thoughtful piece of work", "a sturdy crowd-pleaser"],
    2: ["a warm and funny triumph", "an absolute delight", "a masterpiece",
        "one of the best films of the year", "a stunning achievement",
        "a gorgeous , moving experience", "a small miracle", "a rare gem",
        "a brilliant piece of filmmaking",
        "a joyous , heartfelt celebration", "an unforgettable experience",
        "a wonderful surprise", "a towering achievement",
        "a thrilling , beautifully made adventure", "a modern classic"],
}

PRED_ADJ = {
    -2: ["painfully dull", "utterly lifeless", "unwatchable", "truly awful",
         "dreadful from start to finish", "hopelessly boring",
         "insufferably smug", "downright terrible", "completely incoherent",
         "mind-numbingly stupid", "awful in every way", "shockingly bad",
         "tedious and ugly", "a total mess"],
    -1: ["a little too long", "mostly forgettable", "rather flat",
         "more tiresome than thrilling", "somewhat clumsy",
         "too predictable to care about", "oddly lifeless", "disappointing",
         "uneven and overlong", "never quite convincing",
         "slow and a bit dull", "too familiar", "underwhelming",
         "rather bland"],
    0: ["neither great nor terrible", "about what you would expect",
        "serviceable", "watchable enough", "competent but unremarkable",
        "fine , if a little plain", "ordinary", "perfectly average",
        "not bad , not great", "harmless", "easy to watch and easy to forget",
        "exactly as good as it needs to be"],
    1: ["often charming", "well acted and nicely paced", "worth a look",
        "quite enjoyable", "funny in places", "surprisingly engaging",
        "smart and likable", "solid", "entertaining",
        "warm , if a little slight", "refreshingly honest", "easy to like",
        "pretty good", "nicely made"],
    2: ["brilliant", "simply wonderful", "utterly captivating",
        "beautifully made", "deeply moving", "a joy from start to finish",
        "hilarious and heartfelt", "stunning", "extraordinary",
        "gorgeous and wise", "superb in every way", "thrilling",
        "magnificent", "a must-see"],
}

# (noun, plural?)
ASPECTS = [
    ("acting", False), ("script", False), ("score", False),
    ("camera work", False), ("dialogue", False), ("pacing", False),
    ("ending", False), ("lead performance", False), ("plot", False),
    ("direction", False), ("editing", False), ("humor", False),
    ("story", False), ("photography", False), ("music", False),
    ("screenplay", False), ("final act", False), ("premise", False),
    ("cast", False), ("jokes", True), ("visual effects", True),
    ("performances", True), ("characters", True), ("action scenes", True),
    ("songs", True), ("costumes", True), ("twists", True),
    ("set pieces", True),
]

ASPECT_ADJ = {
    -2: ["awful", "dreadful", "terrible", "painful", "embarrassing",
         "atrocious", "abysmal"],
    -1: ["weak", "flat", "clumsy", "sloppy", "bland", "stale", "uneven",
         "tired", "lackluster"],
    0: ["fine", "adequate", "passable", "competent", "serviceable", "okay",
        "acceptable"],
    1: ["good", "strong", "sharp", "effective", "solid", "lively", "clever",
        "engaging", "appealing"],
    2: ["superb", "wonderful", "brilliant", "terrific", "magnificent",
        "outstanding", "excellent", "dazzling"],
}

PERF_ADJ = {
    -2: ["wooden , embarrassing", "truly awful", "painfully stiff",
         "laughably bad", "dreadful"],
    -1: ["stiff", "flat", "forgettable", "rather lifeless", "strained"],
    0: ["decent", "perfectly adequate", "reasonable", "steady",
        "workmanlike"],
    1: ["likable", "solid", "warm", "engaging", "winning", "charming"],
    2: ["dazzling", "brilliant", "career-best", "extraordinary",
        "heartbreaking , brilliant", "fearless , superb"],
}

LEAD_ADJ = {
    -2: ["dreary", "witless", "ugly", "shoddy", "miserable", "grim , stupid"],
    -1: ["clumsy", "overlong", "muddled", "tepid", "thin", "sluggish"],
    0: ["modest", "familiar", "straightforward", "low-key", "conventional",
        "quiet"],
    1: ["likable", "smart", "sweet", "sturdy", "clever", "engaging"],
    2: ["glorious", "dazzling", "wonderful", "radiant", "brilliant",
        "superb"],
}

THAT_VP = {
    -2: ["never stops being tedious", "wastes every minute of its running time",
         "makes you want to walk out", "insults the intelligence of its audience",
         "feels twice as long as it is", "gets everything wrong",
         "has nothing to say and says it badly"],
    -1: ["runs out of ideas halfway through", "never quite comes together",
         "can not decide what it wants to be", "promises more than it delivers",
         "loses its way in the second half", "fails to build any real tension",
         "leans too hard on tired jokes"],
    0: ["does what it sets out to do and little more",
        "passes the time well enough", "has its moments but little else",
        "sticks closely to the usual formula", "neither helps nor hurts the genre",
        "plays it safe from beginning to end"],
    1: ["keeps you smiling most of the way", "earns its quiet emotional moments",
        "has more heart than you might expect",
        "mostly works , thanks to a strong cast",
        "holds your interest to the end", "finds fresh life in an old story",
        "wins you over in the end"],
    2: ["will leave you breathless", "stays with you long after the credits roll",
        "reminds you why you love the movies", "gets everything right",
        "deserves every award it gets", "will make you laugh and cry in equal measure",
        "feels like a gift"],
}

PREFIX = {
    "neg": ["Sadly , ", "Unfortunately , "],
    "pos": ["Happily , ", "Thankfully , "],
    "any": ["In the end , ", "Frankly , ", "On the whole , ", "All told , ",
            "Make no mistake , "],
}

RECOMMEND = {
    -2: ["Skip this {g} at all costs .",
         "Do yourself a favor and avoid this {g} .",
         "Save your money and stay far away from this {g} .",
         "Nobody should have to sit through this {g} ."],
    -1: ["Unless you are a big fan of {d} , you can skip this {g} .",
         "Wait for this {g} to show up on television , if you must see it at all .",
         "This {g} is hard to recommend , even to fans of {d} ."],
    0: ["If you liked {d} 's last film , you will know what to expect from this {g} .",
        "Whether you enjoy this {g} will depend mostly on your taste .",
        "This {g} is fine for a quiet night at home , and not much more ."],
    1: ["This {g} is worth seeing , especially for fans of {d} .",
        "Give this {g} a chance ; it may surprise you .",
        "Fans of {d} will find plenty to enjoy in this {g} ."],
    2: ["Run , do not walk , to see this {g} .",
        "Do not miss this {g} under any circumstances .",
        "See this {g} on the biggest screen you can find .",
        "Everyone should see this {g} at least once ."],
}

SST_HAND = {
    0: [
        "Two hours of my life I will never get back .",
        "The jokes land with a thud , and the story goes nowhere .",
        "Nothing in this picture works , not the plot , not the cast , not even the music .",
        "I kept checking my watch , and then I kept checking it again .",
        "A loud , ugly and thoroughly stupid movie that treats its audience like fools .",
        "Even the most patient viewer will be begging for the end credits .",
        "It is hard to imagine a more boring way to tell such a simple story .",
        "The cast seems embarrassed to be there , and who could blame them ?",
        "Every scene drags , every line falls flat , and every twist is obvious .",
        "This is the kind of film that makes you angry at the people who made it .",
        "Bad acting , bad writing and bad music add up to one terrible film .",
        "There is not a single honest moment in the whole thing .",
        "The worst sequel in years , and that is saying something .",
    ],
    1: [
        "It starts well enough but falls apart long before the end .",
        "The cast tries hard , but the script gives them very little to do .",
        "There are a few nice moments , though not nearly enough of them .",
        "A handsome film with nothing much going on beneath the surface .",
        "You will probably forget it by the time you reach the parking lot .",
        "The second half drags , and the ending feels rushed .",
        "Too many subplots and too little focus keep it from working .",
        "It wants to be a sharp satire but settles for cheap laughs .",
        "Not terrible , but hard to recommend .",
        "The director has made better films , and this one feels tired .",
        "A promising idea buried under clumsy writing .",
        "Fans of the first movie will be disappointed .",
        "Some good actors are wasted in thin , underwritten roles .",
    ],
    2: [
        "It is a perfectly ordinary film , for better and for worse .",
        "Some of it works and some of it does not .",
        "You could do worse on a rainy afternoon , and you could do better .",
        "The movie is about two friends who open a bakery in a small town .",
        "It runs a little under two hours and covers familiar ground .",
        "Neither the best nor the worst film of its kind .",
        "Fans of the genre will know exactly what to expect .",
        "The film follows a young teacher during her first year in the city .",
        "It is the sort of movie you watch once and rarely think about again .",
        "A few scenes are funny , a few are dull , and most are simply fine .",
        "The story is told in three parts , each from a different point of view .",
        "The film is shot mostly at night , in and around an old hotel .",
        "Half of the jokes work , which is about average for this kind of comedy .",
    ],
    3: [
        "A likable cast and a few clever twists make this worth your time .",
        "It is not perfect , but it has real heart .",
        "The two leads have an easy charm that carries the slower scenes .",
        "A pleasant , good-natured comedy that should please most families .",
        "The story is simple , but it is told with care and warmth .",
        "You will leave the theater in a better mood than when you came in .",
        "A smart little thriller that keeps you guessing until the last act .",
        "The film has a few rough edges , yet it wins you over .",
        "The script is sharper than you might expect from a film like this .",
        "Good performances lift a fairly familiar story .",
        "It takes a while to get going , but the payoff is worth it .",
        "There is a lot to enjoy here , especially the music .",
        "An entertaining ride with a surprisingly thoughtful ending .",
    ],
    4: [
        "One of the most beautiful films I have seen in years .",
        "A funny , moving and wise film that deserves a huge audience .",
        "Every performance is perfect , and the ending will break your heart .",
        "This is filmmaking at its very best .",
        "I laughed , I cried , and I wanted to see it again right away .",
        "A brilliant , joyful celebration of friendship and family .",
        "It is the rare film that is both thrilling and deeply human .",
        "The cast is superb , the script is sharp , and the music is gorgeous .",
        "Simply put , this is a masterpiece .",
        "From the first scene to the last , it never puts a foot wrong .",
        "A dazzling , big-hearted adventure for viewers of all ages .",
        "An extraordinary film , full of life , humor and grace .",
        "The best comedy of the year by a wide margin .",
    ],
}


def sst_subject(rng):
    """Returns (capitalized subject, lowercase subject, genre)."""
    g = rng.choice(GENRES)
    d = rng.choice(DIRECTORS)
    if g == "debut":
        forms = ["{d} 's debut", "The debut from {d}", "This debut"]
    else:
        forms = ["The {g}", "This {g}", "The new {g} from {d}",
                 "{d} 's latest {g}", "The latest {g} from {d}",
                 "{d} 's new {g}", "This {g}", "The {g}"]
    s = rng.choice(forms).format(g=g, d=d)
    low = s if s.startswith(d) else s[0].lower() + s[1:]
    return s, low, g


def sst_pred(rng, s):
    """A whole-film predicate with its copula, e.g. 'is a dull , lifeless mess'."""
    if rng.chance(0.5):
        np_ = rng.choice(PRED_NP[s])
        cop = rng.choice(["is", "is", "feels like", "turns out to be",
                          "ends up being"])
        return cop + " " + np_, np_
    adj = rng.choice(PRED_ADJ[s])
    if adj.startswith(("a ", "not ", "about ", "exactly ", "neither ")):
        cop = "is"  # reads well only after a plain copula
    else:
        cop = rng.choice(["is", "is", "is", "feels", "turns out to be",
                          "seems"])
    return cop + " " + adj, adj


def aspect_clause(rng, s, exclude=None):
    while True:
        noun, pl = rng.choice(ASPECTS)
        if noun != exclude:
            break
    adj = rng.choice(ASPECT_ADJ[s])
    return "the {} {} {}".format(noun, "are" if pl else "is", adj), noun


def sign(x):
    return (x > 0) - (x < 0)


def sst_sentence(rng, label):
    s = label - 2
    kinds = ["plain", "plain", "and", "thanks", "but", "evenif", "perf",
             "that", "that", "its", "rec"]
    if s < 0:
        kinds += ["noteven", "nothing"]
    if s == 0:
        kinds += ["mixed", "mixed", "mixed", "notbad"]
    if s == 1:
        kinds += ["alone", "notperfect"]
    if s == -1:
        kinds += ["notas"]
    if s == 2:
        kinds += ["both"]
    k = rng.choice(kinds)
    subj, subj_lc, g = sst_subject(rng)

    if k == "plain":
        pred, _ = sst_pred(rng, s)
        out = "{} {} .".format(subj, pred)
        if rng.chance(0.3):
            pool = PREFIX["any"] + (PREFIX["neg"] if s < 0 else
                                    PREFIX["pos"] if s > 0 else [])
            out = rng.choice(pool) + subj_lc + " " + pred + " ."
        return out
    if k == "its":
        pred, _ = sst_pred(rng, s)
        if pred.startswith("is "):
            return "It 's {} .".format(pred[3:])
        return "It {} .".format(pred)
    if k == "and":
        pred, _ = sst_pred(rng, s)
        s2 = s if s == 0 else rng.choice([s, sign(s)])
        clause, _ = aspect_clause(rng, s2)
        joiner = ", and" if s == 0 else rng.choice([", and", ", and", ", and even"])
        if joiner.endswith("even"):
            clause, _ = aspect_clause(rng, s)
        return "{} {} {} {} .".format(subj, pred, joiner, clause)
    if k == "thanks":
        if s == 0:
            pred, _ = sst_pred(rng, 0)
            noun, _ = rng.choice(ASPECTS)
            return "{} {} , thanks to its {} {} .".format(
                subj, pred, rng.choice(ASPECT_ADJ[0]), noun)
        pred, _ = sst_pred(rng, s)
        noun, _ = rng.choice(ASPECTS)
        lead = "thanks largely to" if s > 0 else rng.choice(
            ["thanks largely to", "mostly because of"])
        return "{} {} , {} its {} {} .".format(
            subj, pred, lead, rng.choice(ASPECT_ADJ[rng.choice([s, sign(s)])]), noun)
    if k in ("but", "evenif"):
        # final verdict b decides, opposite-signed aspect a softens it
        if s == 0:
            return sst_sentence(rng, label)
        b = rng.choice([sign(s), 2 * sign(s)])
        a = -sign(s) * rng.choice([1, 2])
        clause, _ = aspect_clause(rng, a)
        pred, _ = sst_pred(rng, b)
        # a mixed review lands one step from the middle ...
        if abs(s) == 2:
            # ... so strong labels come from same-signed aspect + verdict
            clause, _ = aspect_clause(rng, s)
            pred, _ = sst_pred(rng, s)
            if k == "but":
                return "{} {} , and {} .".format(subj, pred, clause)
            return "{} , and {} {} .".format(cap(clause), subj_lc, pred)
        if k == "but":
            form = rng.choice(["{c} , but {s} {p} .", "Although {c} , {s} {p} .",
                               "While {c} , {s} {p} ."])
            return cap(form.format(c=clause, s=subj_lc, p=pred))
        return "{} {} , even if {} .".format(subj, pred, clause)
    if k == "perf":
        actor = rng.choice(ACTORS)
        adj = rng.choice(PERF_ADJ[s])
        out = "{} gives {} {} performance in {}".format(actor, art(adj), adj, subj_lc)
        if rng.chance(0.4):
            out += " , and the rest of the cast is {}".format(
                rng.choice(ASPECT_ADJ[s if s == 0 else rng.choice([s, sign(s)])]))
        return out + " ."
    if k == "that":
        a1 = rng.choice(LEAD_ADJ[s])
        if rng.chance(0.35):
            a2 = rng.choice(LEAD_ADJ[s])
            if a2 != a1 and "," not in a1 + a2:
                a1 = a1 + " , " + a2
        vp = rng.choice(THAT_VP[s])
        return "{} {} {} that {} .".format(cap(art(a1)), a1, g, vp)
    if k == "rec":
        return rng.choice(RECOMMEND[s]).format(g=g, d=rng.choice(DIRECTORS))
    if k == "noteven":
        adj = rng.choice(ASPECT_ADJ[rng.choice([1, 2])])
        noun, _ = rng.choice(ASPECTS)
        pred = rng.choice(PRED_NP[s] + PRED_ADJ[s])
        return "Not even the {} {} can save {} from being {} .".format(
            adj, noun, subj_lc, pred)
    if k == "nothing":
        q = rng.choice(["funny", "clever", "fresh", "moving", "exciting",
                        "charming", "original", "surprising"])
        if s == -2:
            return "There is nothing remotely {} about {} .".format(q, subj_lc)
        return "There is not much that is {} about {} , and {} .".format(
            q, subj_lc, aspect_clause(rng, -1)[0])
    if k == "mixed":
        c1, n1 = aspect_clause(rng, rng.choice([1, 2]))
        c2, _ = aspect_clause(rng, rng.choice([-1, -2]), exclude=n1)
        if rng.chance(0.5):
            c1, c2 = c2, c1
        form = rng.choice(["{a} , but {b} .", "{a} , while {b} .",
                           "In {s} , {a} and {b} .",
                           "{a} , although {b} ."])
        return cap(form.format(a=c1, b=c2, s=subj_lc))
    if k == "notbad":
        adj = rng.choice(LEAD_ADJ[0])
        return rng.choice([
            "It 's not a bad {g} , just {a} {adj} one .",
            "{S} is not bad , just {adj} .",
            "{S} is neither very good nor very bad .",
        ]).format(g=g, a=art(adj), adj=adj, S=subj)
    if k == "alone":
        noun, pl = rng.choice(ASPECTS)
        adj = rng.choice(ASPECT_ADJ[rng.choice([1, 2])])
        return "The {} {} alone {} {} worth seeing .".format(
            adj, noun, "make" if pl else "makes", subj_lc)
    if k == "notperfect":
        adj = rng.choice(PRED_ADJ[1])
        return "{} is not perfect , but it is {} .".format(subj, adj)
    if k == "notas":
        q = rng.choice(["funny", "clever", "scary", "exciting", "smart",
                        "moving", "original", "deep"])
        return "{} is not nearly as {} as it thinks it is .".format(subj, q)
    if k == "both":
        n1, p1 = rng.choice(ASPECTS)
        while True:
            n2, p2 = rng.choice(ASPECTS)
            if n2 != n1:
                break
        return "The {} and the {} are both {} , making {} {} .".format(
            n1, n2, rng.choice(ASPECT_ADJ[2]), subj_lc,
            rng.choice(["one of the year 's best films", "a real treat",
                        "an easy film to love", "a triumph"]))
    raise AssertionError(k)


def make_sst(rng, n_total):
    per = n_total // 5
    rows = []
    seen = set()
    for label in range(5):
        items = list(SST_HAND[label])
        for t in items:
            seen.add(t.lower())
        while len(items) < per:
            t = sst_sentence(rng, label)
            if t.lower() in seen:
                continue
            seen.add(t.lower())
            items.append(t)
        rows += [(" " + t, label) for t in items]
    return rows


# ============================================================================
# Quora-style question pairs (paraphrase detection)
# ============================================================================

SKILLS = [
    "Spanish", "French", "German", "Japanese", "Mandarin", "Italian",
    "Python", "JavaScript", "calculus", "statistics", "chess", "the piano",
    "the guitar", "the violin", "photography", "drawing", "painting",
    "public speaking", "machine learning", "web design", "economics",
    "sign language", "touch typing", "knitting", "cooking",
]

LEARN_INTENTS = {
    "learn": ["How do I learn {x}?", "What is the best way to learn {x}?",
              "How can I teach myself {x}?",
              "How should a beginner start learning {x}?",
              "Where should I start if I want to learn {x}?",
              "What is the most effective way to learn {x}?"],
    "online": ["What are the best websites for learning {x}?",
               "Which online courses are good for learning {x}?",
               "Where can I learn {x} online?",
               "What are some good online resources to learn {x}?"],
    "hard": ["Is {x} hard to learn?", "How difficult is it to learn {x}?",
             "Is learning {x} difficult for beginners?",
             "How hard is it to pick up {x}?"],
    "time": ["How long does it take to learn {x}?",
             "How much time do I need to learn {x}?",
             "How many months does it take to get good at {x}?",
             "How long will it take me to learn {x}?"],
    "worth": ["Is it worth learning {x}?", "Why should I learn {x}?",
              "What are the benefits of learning {x}?",
              "Is learning {x} worth the effort?"],
    "age": ["Is it too late to learn {x} at {n}?",
            "Can I still learn {x} if I am {n} years old?",
            "Am I too old to start learning {x} at {n}?"],
}

CITIES = [
    "Paris", "Tokyo", "Rome", "London", "Berlin", "Lisbon", "Istanbul",
    "Cairo", "Mumbai", "Sydney", "Toronto", "Chicago", "Seoul", "Prague",
    "Vienna", "Barcelona", "Bangkok", "Amsterdam", "Dublin", "Nairobi",
    "Lima", "Montreal", "Singapore", "Boston",
]

CITY_INTENTS = {
    "visit": ["What are the best places to visit in {x}?",
              "What should I see when I visit {x}?",
              "Which places in {x} are worth visiting?",
              "What are the top tourist attractions in {x}?",
              "What are the must-see sights in {x}?"],
    "cost": ["What is the cost of living in {x}?",
             "How expensive is it to live in {x}?",
             "How much money do I need to live comfortably in {x}?",
             "Is {x} an expensive city to live in?"],
    "when": ["When is the best time to visit {x}?",
             "What is the best month to travel to {x}?",
             "Which time of year is best for a trip to {x}?",
             "What season is best for visiting {x}?"],
    "food": ["What food should I try in {x}?",
             "What are the best local dishes to eat in {x}?",
             "Which dishes is {x} famous for?",
             "What should I eat when I am in {x}?"],
    "safe": ["Is {x} safe for tourists?", "How safe is {x} for travelers?",
             "Is it dangerous for tourists to visit {x}?",
             "Do tourists need to worry about safety in {x}?"],
    "job": ["How can I find a job in {x}?",
            "What is the best way to get a job in {x}?",
            "How do I go about finding work in {x}?",
            "What are some tips for finding a job in {x}?"],
    "move": ["What is the best way to get around {x}?",
             "How do people usually get around in {x}?",
             "What is the easiest way to travel around {x}?"],
}

JOBS = [
    "doctor", "lawyer", "pilot", "nurse", "data scientist",
    "software engineer", "teacher", "architect", "chef", "journalist",
    "photographer", "accountant", "firefighter", "veterinarian",
    "electrician", "dentist", "game developer", "actor", "novelist",
    "translator", "pharmacist", "police officer", "flight attendant",
    "product manager",
]

JOB_INTENTS = {
    "become": ["How do I become {a} {x}?",
               "What steps should I take to become {a} {x}?",
               "What does it take to become {a} {x}?",
               "How can I start a career as {a} {x}?",
               "What is the path to becoming {a} {x}?"],
    "salary": ["How much does {a} {x} earn?",
               "What is the average salary of {a} {x}?",
               "How much money does {a} {x} make in a year?",
               "What do {x}s usually earn?"],
    "day": ["What is a typical day like for {a} {x}?",
            "What does {a} {x} do on a normal day?",
            "What is it like to work as {a} {x}?",
            "What does the daily routine of {a} {x} look like?"],
    "hard": ["What is the hardest part of being {a} {x}?",
             "What are the biggest challenges of working as {a} {x}?",
             "What do {x}s find most difficult about their job?"],
}

# (name, plural?, verb)
FOODS = [
    ("coffee", False, "drink"), ("green tea", False, "drink"),
    ("eggs", True, "eat"), ("red meat", False, "eat"),
    ("chocolate", False, "eat"), ("milk", False, "drink"),
    ("sugar", False, "eat"), ("olive oil", False, "use"),
    ("oatmeal", False, "eat"), ("nuts", True, "eat"),
    ("spinach", False, "eat"), ("salmon", False, "eat"),
    ("honey", False, "eat"), ("white rice", False, "eat"),
    ("cheese", False, "eat"), ("yogurt", False, "eat"),
    ("bananas", True, "eat"), ("avocados", True, "eat"),
    ("garlic", False, "eat"), ("orange juice", False, "drink"),
    ("soda", False, "drink"), ("peanut butter", False, "eat"),
]

FOOD_INTENTS = {
    "good": ["What are the health benefits of {x}?",
             "What are the benefits of {ving} {x}?",
             "Why {be} {x} good for you?",
             "How {do} {x} help your health?"],
    "bad": ["What are the side effects of {ving} too {much} {x}?",
            "Is it bad to {v} too {much} {x}?",
            "What happens if you {v} too {much} {x}?",
            "Can {ving} too {much} {x} be harmful?"],
    "daily": ["How {much} {x} is it safe to {v} every day?",
              "How {much} {x} should I {v} in a day?",
              "What is a healthy daily amount of {x}?"],
    "store": ["How should I store {x}?",
              "What is the best way to keep {x} fresh?",
              "How do I keep {x} from going bad?"],
}

DISHES = [
    ("rice", False), ("pasta", False), ("eggs", True), ("salmon", False),
    ("chicken", False), ("steak", False), ("potatoes", True),
    ("lentils", True), ("tofu", False), ("broccoli", False),
    ("mushrooms", True), ("shrimp", False), ("quinoa", False),
    ("beans", True), ("pork chops", True), ("carrots", True),
]

COOK_INTENTS = {
    "cook": ["How do I cook {x} properly?", "What is the best way to cook {x}?",
             "How should I cook {x}?",
             "What is the right way to cook {x} at home?"],
    "fridge": ["How long can cooked {x} stay in the fridge?",
               "How long {be} cooked {x} safe to eat after keeping {it} in the fridge?",
               "How many days {do} cooked {x} last in the fridge?"],
    "reheat": ["Is it safe to reheat {x}?", "Can I safely reheat cooked {x}?",
               "Is reheating {x} dangerous?"],
    "taste": ["How can I make {x} taste better?",
              "What can I add to {x} to give {it} more flavor?",
              "How do I make {x} less bland?"],
}

# (name, has battery?, uses wifi?)
DEVICES = [
    ("laptop", True, True), ("phone", True, True), ("tablet", True, True),
    ("printer", False, True), ("router", False, False),
    ("smart TV", False, True), ("desktop computer", False, True),
    ("smartwatch", True, True), ("game console", False, True),
    ("camera", True, False), ("e-reader", True, True),
]

TECH_INTENTS = {
    "slow": ["Why is my {x} so slow?", "How can I make my {x} faster?",
             "What can I do to speed up my {x}?", "How do I fix a slow {x}?"],
    "battery": ["How can I make my {x} battery last longer?",
                "How do I improve the battery life of my {x}?",
                "What can I do to save battery on my {x}?"],
    "buy": ["Which {x} should I buy this year?",
            "What is the best {x} to buy right now?",
            "What {x} would you recommend buying this year?"],
    "reset": ["How do I reset my {x} to factory settings?",
              "How can I restore my {x} to its factory settings?",
              "How do I do a factory reset on my {x}?"],
    "wifi": ["Why does my {x} keep disconnecting from the Wi-Fi?",
             "How do I stop my {x} from dropping its Wi-Fi connection?",
             "Why does my {x} lose its Wi-Fi connection all the time?"],
}

# (A, A plural?, B, B plural?)
COMPARE = [
    ("cats", True, "dogs", True), ("tea", False, "coffee", False),
    ("renting", False, "buying a home", False),
    ("running", False, "swimming", False),
    ("Python", False, "Java", False),
    ("living in a city", False, "living in the countryside", False),
    ("public schools", True, "private schools", True),
    ("e-books", True, "paper books", True), ("trains", True, "planes", True),
    ("Android", False, "iOS", False),
    ("working from home", False, "working in an office", False),
    ("a laptop", False, "a desktop", False), ("yoga", False, "pilates", False),
    ("gas stoves", True, "electric stoves", True),
    ("walking", False, "cycling", False),
    ("a gap year", False, "going straight to college", False),
    ("electric cars", True, "hybrid cars", True),
    ("credit cards", True, "debit cards", True),
]

COMPARE_INTENTS = {
    "better": ["Which is better, {a} or {b}?",
               "Is it better to choose {a} or {b}?",
               "{A} or {b}: which one is better?",
               "Which should I choose, {a} or {b}?"],
    "diff": ["What is the difference between {a} and {b}?",
             "How {be} {a} different from {b}?",
             "How do {a} and {b} differ?"],
}

# hand-written groups: (paraphrases, related questions that are NOT the same)
QUESTION_GROUPS = [
    (["How can I lose weight without going to the gym?",
      "What is the best way to lose weight without a gym membership?",
      "How do I lose weight if I can't go to a gym?"],
     ["How can I gain weight without going to the gym?",
      "How much weight can I safely lose in a month?",
      "Is it healthy to lose weight very quickly?"]),
    (["How do I stop procrastinating?",
      "What can I do to stop putting things off?",
      "How can I overcome procrastination?"],
     ["Why do people procrastinate?",
      "Is procrastination a sign of laziness?"]),
    (["What is the meaning of life?", "What is the purpose of life?",
      "What gives life its meaning?"],
     ["What is the meaning of my name?",
      "What is the purpose of a cover letter?"]),
    (["How can I improve my English speaking skills?",
      "What should I do to speak English more fluently?",
      "How do I become more fluent in spoken English?"],
     ["How can I improve my English writing skills?",
      "Which English accent is the easiest to understand?"]),
    (["How do I fall asleep faster?",
      "What can I do to fall asleep quickly at night?",
      "What are some tricks to get to sleep faster?"],
     ["How many hours of sleep does an adult need?",
      "Why do I wake up tired after sleeping eight hours?"]),
    (["How do I make friends in a new city?",
      "What is the best way to meet new people after moving?",
      "How can I make new friends after moving to another city?"],
     ["How do I keep in touch with old friends after moving?",
      "Is it hard to move to a new city alone?"]),
    (["How can I save money on groceries?",
      "What are some ways to spend less on food shopping?",
      "How do I cut my grocery bill?"],
     ["How can I save money for a house?",
      "What groceries should I buy for a healthy week?"]),
    (["What are good books for beginners in philosophy?",
      "Which philosophy books should a beginner read first?",
      "What is a good first book on philosophy?"],
     ["What are good books for beginners in economics?",
      "Who is the most important philosopher in history?"]),
    (["Why do cats purr?", "What makes a cat purr?",
      "What is the reason cats purr?"],
     ["Why do cats sleep so much?",
      "Do cats purr when they are in pain?"]),
    (["How do airplanes stay in the air?", "What keeps a plane up in the sky?",
      "How does an airplane fly?"],
     ["How do helicopters stay in the air?",
      "Why are airplane windows round?"]),
    (["What should I do if I fail an exam?",
      "How do I deal with failing an exam?",
      "How can I recover after failing a test?"],
     ["How should I prepare for an exam in one week?",
      "Do grades matter after college?"]),
    (["How can I become more confident?",
      "What are some ways to build self confidence?",
      "How do I gain more confidence in myself?"],
     ["How can I become more patient?",
      "Is confidence something you are born with?"]),
    (["Is it possible to travel faster than light?",
      "Can anything move faster than the speed of light?",
      "Could a spaceship ever go faster than light?"],
     ["How fast does light travel?",
      "How long does light from the sun take to reach us?"]),
    (["What is the best way to start investing with little money?",
      "How can I start investing if I only have a small amount of money?",
      "How should a beginner with little money start investing?"],
     ["What is the best way to save money as a student?",
      "Is investing in gold a good idea?"]),
    (["Why is the sky blue?", "What makes the sky look blue?",
      "Why does the sky appear blue during the day?"],
     ["Why is the sky red at sunset?", "Why is the sea blue?"]),
    (["How do I write a good cover letter?",
      "What makes a strong cover letter?",
      "How can I make my cover letter stand out?"],
     ["How long should a cover letter be?",
      "How do I write a good resume?"]),
    (["What are some good habits to start in the morning?",
      "Which morning habits are worth building?",
      "What good habits should I add to my morning routine?"],
     ["What are some good habits to start before bed?",
      "Why do I feel tired every morning?"]),
    (["How do I get rid of a headache without medicine?",
      "What are natural ways to cure a headache?",
      "How can I stop a headache without taking pills?"],
     ["What causes headaches every day?",
      "Is it safe to take medicine for a headache every day?"]),
    (["How can I focus better while studying?",
      "What can I do to concentrate when I study?",
      "How do I stay focused while studying?"],
     ["How many hours a day should I study?",
      "Is it better to study at night or in the morning?"]),
    (["How do I know if someone likes me?",
      "What are the signs that a person likes you?",
      "How can you tell if someone is interested in you?"],
     ["How do I tell someone that I like them?",
      "How do I know if my friend is angry with me?"]),
    (["Why do we dream?", "What is the purpose of dreaming?",
      "Why do people have dreams when they sleep?"],
     ["Why do we forget our dreams?", "Do animals dream?"]),
    (["How do I deal with stress at work?",
      "What are good ways to handle stress at work?",
      "How can I stay calm when work is stressful?"],
     ["How do I ask my boss for a raise?",
      "Is it normal to feel stressed before exams?"]),
    (["What happens to your body when you stop eating sugar?",
      "What are the effects of quitting sugar?",
      "How does giving up sugar change your body?"],
     ["What happens to your body when you stop drinking coffee?",
      "How much sugar is too much in a day?"]),
    (["Who would win in a fight between a lion and a tiger?",
      "Which is stronger, a lion or a tiger?",
      "Could a tiger beat a lion in a fight?"],
     ["Where do lions and tigers live in the wild?",
      "How fast can a tiger run?"]),
    (["How do I start a small business with no experience?",
      "How can someone with no experience start a small business?",
      "How can a beginner start a small business?"],
     ["How do I get a loan for a small business?",
      "Why do most small businesses fail?"]),
    (["Is it bad to drink water right after eating?",
      "Should I avoid drinking water right after a meal?",
      "Is drinking water after meals harmful?"],
     ["How much water should I drink every day?",
      "Is it bad to eat right before sleeping?"]),
    (["How do I avoid awkward silences in a conversation?",
      "How can I keep a conversation from going quiet?",
      "What can I do to keep a conversation going?"],
     ["How do I end a conversation politely?",
      "What should I talk about on a first date?"]),
    (["Why do leaves change color in autumn?",
      "What makes leaves turn red and yellow in the fall?",
      "Why do tree leaves change colors in the fall?"],
     ["Why do trees lose their leaves in winter?",
      "Which trees keep their leaves all year?"]),
    (["How do I stop my dog from barking at night?",
      "What can I do about my dog barking all night?",
      "How can I train my dog not to bark at night?"],
     ["How do I stop my dog from pulling on the leash?",
      "Why does my dog bark at strangers?"]),
    (["What is the best way to remember what I read?",
      "How can I remember more of the books I read?",
      "How do I retain more information from reading?"],
     ["How many books should I read in a year?",
      "What is the best way to read faster?"]),
]


def para_family(rng):
    return rng.weighted([(18, "learn"), (18, "city"), (14, "job"),
                         (11, "food"), (10, "cook"), (10, "tech"),
                         (8, "compare"), (11, "hand")])


def fam_intents(fam):
    return {"learn": LEARN_INTENTS, "city": CITY_INTENTS, "job": JOB_INTENTS,
            "food": FOOD_INTENTS, "cook": COOK_INTENTS, "tech": TECH_INTENTS,
            "compare": COMPARE_INTENTS}[fam]


def fam_slots(fam, intent):
    if fam == "learn":
        return SKILLS
    if fam == "city":
        return CITIES
    if fam == "job":
        return JOBS
    if fam == "food":
        return FOODS
    if fam == "cook":
        return DISHES
    if fam == "tech":
        if intent == "battery":
            return [d for d in DEVICES if d[1]]
        if intent == "wifi":
            return [d for d in DEVICES if d[2]]
        return DEVICES
    if fam == "compare":
        return COMPARE
    raise AssertionError(fam)


def fill(fam, template, slot, rng, swap=False, extra=None):
    if fam == "learn":
        return template.format(x=slot, n=extra)
    if fam == "city":
        return template.format(x=slot)
    if fam == "job":
        return template.format(x=slot, a=art(slot))
    if fam == "food":
        name, pl, v = slot
        ving = {"drink": "drinking", "eat": "eating", "use": "using"}[v]
        return template.format(x=name, v=v, ving=ving, be="are" if pl else "is",
                               do="do" if pl else "does",
                               much="many" if pl else "much")
    if fam == "cook":
        name, pl = slot
        return template.format(x=name, be="are" if pl else "is",
                               do="do" if pl else "does",
                               it="them" if pl else "it")
    if fam == "tech":
        return template.format(x=slot[0])
    if fam == "compare":
        a, pl, b, bpl = slot
        if swap:
            a, pl, b = b, bpl, a
        return template.format(a=a, b=b, A=cap(a), be="are" if pl else "is")
    raise AssertionError(fam)


def quora_noise(rng, q):
    """Small surface variation of the kind real forum questions have."""
    if q.startswith("What is ") and rng.chance(0.15):
        q = "What's " + q[len("What is "):]
    if rng.chance(0.04):
        q = q[:-1]  # forgot the question mark
    return q


def para_pair(rng, dup):
    fam = para_family(rng)
    if fam == "hand":
        paras, others = rng.choice(QUESTION_GROUPS)
        if dup:
            q1, q2 = rng.sample(paras, 2)
        else:
            q1, q2 = rng.choice(paras), rng.choice(others)
            if rng.chance(0.5):
                q1, q2 = q2, q1
        return quora_noise(rng, q1), quora_noise(rng, q2)
    intents = fam_intents(fam)
    names = sorted(intents)
    extra1 = extra2 = rng.choice([30, 40, 50, 60])
    if dup:
        it = rng.choice(names)
        slot = rng.choice(fam_slots(fam, it))
        t1, t2 = rng.sample(intents[it], 2)
        q1 = fill(fam, t1, slot, rng, extra=extra1)
        q2 = fill(fam, t2, slot, rng, swap=(fam == "compare" and it == "better"
                                            and rng.chance(0.4)), extra=extra1)
    elif rng.chance(0.7):
        # same topic, different question
        i1, i2 = rng.sample(names, 2)
        s1 = fam_slots(fam, i1)
        s2 = fam_slots(fam, i2)
        common = [s for s in s1 if s in s2]
        slot = rng.choice(common)
        q1 = fill(fam, rng.choice(intents[i1]), slot, rng, extra=extra1)
        q2 = fill(fam, rng.choice(intents[i2]), slot, rng, extra=extra1)
    else:
        # same kind of question about a different thing
        it = rng.choice(names)
        a, b = rng.sample(fam_slots(fam, it), 2)
        if it == "age" and rng.chance(0.3):
            b = a
            while extra2 == extra1:
                extra2 = rng.choice([30, 40, 50, 60])
            return (fill(fam, rng.choice(intents[it]), a, rng, extra=extra1),
                    fill(fam, rng.choice(intents[it]), b, rng, extra=extra2))
        q1 = fill(fam, rng.choice(intents[it]), a, rng, extra=extra1)
        q2 = fill(fam, rng.choice(intents[it]), b, rng, extra=extra1)
    return quora_noise(rng, q1), quora_noise(rng, q2)


def make_para(rng, n_total, n_dup):
    labels = [1] * n_dup + [0] * (n_total - n_dup)
    rng.shuffle(labels)
    rows = []
    seen = set()
    for lab in labels:
        while True:
            q1, q2 = para_pair(rng, lab == 1)
            key = tuple(sorted((q1.lower().rstrip("?"), q2.lower().rstrip("?"))))
            if q1 == q2 or key[0] == key[1] or key in seen:
                continue
            seen.add(key)
            break
        rows.append((q1, q2, lab))
    return rows


# ============================================================================
# STS: graded sentence similarity
# ============================================================================

STS_SCORES = [0.0, 0.8, 1.6, 2.4, 3.2, 4.0, 4.6, 5.0]

# agent key -> (surfaces, plural?, kind)
PEOPLE = {
    "man": (["A man", "A guy"], False),
    "woman": (["A woman", "A lady"], False),
    "boy": (["A boy", "A young boy"], False),
    "girl": (["A girl", "A young girl"], False),
    "chef": (["A chef", "A cook"], False),
    "oldman": (["An old man", "An elderly man"], False),
    "oldwoman": (["An old woman", "An elderly woman"], False),
    "twomen": (["Two men", "Two guys"], True),
    "twowomen": (["Two women", "Two ladies"], True),
    "kids": (["Some children", "A few kids"], True),
}
ANIMALS = {
    "dog": (["A dog"], False),
    "cat": (["A cat"], False),
    "puppy": (["A puppy", "A young dog"], False),
    "kitten": (["A kitten", "A small cat"], False),
    "twodogs": (["Two dogs"], True),
    "twocats": (["Two cats"], True),
}
SOMEONE = ["Someone", "A person"]
# agent pairs too alike for the "different person, same action" grade
CLOSE_AGENTS = {frozenset(p) for p in [
    ("man", "oldman"), ("woman", "oldwoman"), ("man", "twomen"),
    ("woman", "twowomen"), ("dog", "puppy"), ("cat", "kitten"),
    ("dog", "twodogs"), ("puppy", "twodogs"), ("cat", "twocats"),
    ("kitten", "twocats")]}
# agents left out of some actions (children do not drive)
NOT_FOR = {"drive": {"boy", "girl", "kids"}}

# action key -> dict(verbs=[(ving, vs, vpl, ven)], objs={key: ([surfaces], plural)},
#                    locs=[...], who='people'|'animals')
ACTIONS = {
    "play": dict(who="people",
                 verbs=[("playing", "plays", "play", "played")],
                 objs={"guitar": (["a guitar", "the guitar"], False),
                       "piano": (["a piano", "the piano"], False),
                       "violin": (["a violin", "the violin"], False),
                       "drums": (["the drums", "some drums"], True),
                       "flute": (["a flute", "the flute"], False),
                       "trumpet": (["a trumpet", "the trumpet"], False),
                       "cello": (["a cello", "the cello"], False),
                       "harp": (["a harp", "the harp"], False)},
                 locs=["on a stage", "in the street", "in a park", "at home",
                       "in a small room"]),
    "cut": dict(who="people",
                verbs=[("slicing", "slices", "slice", "sliced"),
                       ("cutting", "cuts", "cut", "cut"),
                       ("chopping", "chops", "chop", "chopped")],
                objs={"onion": (["an onion"], False),
                      "tomato": (["a tomato"], False),
                      "carrot": (["a carrot"], False),
                      "potato": (["a potato"], False),
                      "cucumber": (["a cucumber"], False),
                      "pepper": (["a pepper", "a bell pepper"], False),
                      "lemon": (["a lemon"], False),
                      "mushrooms": (["some mushrooms"], True)},
                locs=["in a kitchen", "on a cutting board", "with a large knife"]),
    "peel": dict(who="people",
                 verbs=[("peeling", "peels", "peel", "peeled")],
                 objs={"potato": (["a potato"], False),
                       "carrot": (["a carrot"], False),
                       "orange": (["an orange"], False),
                       "banana": (["a banana"], False),
                       "apple": (["an apple"], False),
                       "onion": (["an onion"], False),
                       "cucumber": (["a cucumber"], False)},
                 locs=["in a kitchen", "over a sink", "at a table"]),
    "ride": dict(who="people",
                 verbs=[("riding", "rides", "ride", "ridden")],
                 objs={"horse": (["a horse"], False),
                       "bike": (["a bike", "a bicycle"], False),
                       "motorcycle": (["a motorcycle", "a motorbike"], False),
                       "skateboard": (["a skateboard"], False),
                       "scooter": (["a scooter"], False),
                       "camel": (["a camel"], False),
                       "elephant": (["an elephant"], False)},
                 locs=["down a road", "on a beach", "through a field",
                       "along a path"]),
    "read": dict(who="people",
                 verbs=[("reading", "reads", "read", "read")],
                 objs={"book": (["a book"], False),
                       "newspaper": (["a newspaper", "the newspaper"], False),
                       "letter": (["a letter"], False),
                       "magazine": (["a magazine"], False),
                       "map": (["a map"], False)},
                 locs=["on a bench", "in a library", "on a train",
                       "at a table"]),
    "write": dict(who="people",
                  verbs=[("writing", "writes", "write", "written")],
                  objs={"letter": (["a letter"], False),
                        "note": (["a note", "a short note"], False),
                        "poem": (["a poem"], False),
                        "list": (["a list", "a shopping list"], False)},
                  locs=["at a desk", "at a table", "in a notebook"]),
    "eat": dict(who="people",
                verbs=[("eating", "eats", "eat", "eaten")],
                objs={"apple": (["an apple"], False),
                      "sandwich": (["a sandwich"], False),
                      "soup": (["a bowl of soup", "some soup"], False),
                      "pizza": (["a slice of pizza", "a piece of pizza"], False),
                      "banana": (["a banana"], False),
                      "orange": (["an orange"], False),
                      "noodles": (["some noodles", "a bowl of noodles"], True)},
                locs=["at a table", "on a bench", "in a restaurant",
                      "outside"]),
    "drive": dict(who="people",
                  verbs=[("driving", "drives", "drive", "driven")],
                  objs={"car": (["a car"], False),
                        "truck": (["a truck"], False),
                        "bus": (["a bus"], False),
                        "tractor": (["a tractor"], False),
                        "van": (["a van"], False)},
                  locs=["down a highway", "through a city", "on a dirt road",
                        "in the rain"]),
    "throw": dict(who="people",
                  verbs=[("throwing", "throws", "throw", "thrown"),
                         ("tossing", "tosses", "toss", "tossed")],
                  objs={"ball": (["a ball"], False),
                        "frisbee": (["a frisbee"], False),
                        "stick": (["a stick"], False),
                        "rock": (["a rock", "a stone"], False)},
                  locs=["in a park", "on a beach", "in a yard"]),
    "paint": dict(who="people",
                  verbs=[("painting", "paints", "paint", "painted")],
                  objs={"wall": (["a wall"], False),
                        "fence": (["a fence"], False),
                        "picture": (["a picture"], False),
                        "door": (["a door"], False),
                        "chair": (["a chair"], False),
                        "car": (["a car"], False)},
                  locs=["outside", "in a garage", "in the sun"]),
    "wash": dict(who="people",
                 verbs=[("washing", "washes", "wash", "washed"),
                        ("cleaning", "cleans", "clean", "cleaned")],
                 objs={"car": (["a car"], False),
                       "window": (["a window"], False),
                       "dishes": (["the dishes", "some dishes"], True),
                       "floor": (["the floor"], False),
                       "bowl": (["a bowl"], False)},
                 locs=["with a sponge", "with soap and water", "outside"]),
    "feed": dict(who="people",
                 verbs=[("feeding", "feeds", "feed", "fed")],
                 objs={"cat": (["a cat"], False),
                       "dog": (["a dog"], False),
                       "horse": (["a horse"], False),
                       "baby": (["a baby"], False),
                       "ducks": (["some ducks"], True),
                       "bird": (["a bird"], False)},
                 locs=["in a park", "in a yard", "by a lake"]),
    "swim": dict(who="people",
                 verbs=[("swimming", "swims", "swim", None)],
                 objs={"pool": (["in a pool", "in a swimming pool"], False),
                       "lake": (["in a lake"], False),
                       "sea": (["in the sea", "in the ocean"], False),
                       "river": (["in a river"], False)},
                 locs=[]),
    "dance": dict(who="people",
                  verbs=[("dancing", "dances", "dance", None)],
                  objs={"stage": (["on a stage"], False),
                        "street": (["in the street"], False),
                        "rain": (["in the rain"], False),
                        "kitchen": (["in a kitchen", "in the kitchen"], False),
                        "party": (["at a party"], False)},
                  locs=[]),
    "run": dict(who="people",
                verbs=[("running", "runs", "run", None),
                       ("jogging", "jogs", "jog", None)],
                objs={"beach": (["on the beach", "along the beach"], False),
                      "road": (["down a road", "along a road"], False),
                      "park": (["through a park"], False),
                      "track": (["around a track"], False)},
                locs=[]),
    "sing": dict(who="people",
                 verbs=[("singing", "sings", "sing", None)],
                 objs={"stage": (["on a stage"], False),
                       "mic": (["into a microphone"], False),
                       "shower": (["in the shower"], False),
                       "choir": (["in a choir"], False)},
                 locs=[]),
    # animals
    "arun": dict(who="animals",
                 verbs=[("running", "runs", "run", None)],
                 objs={"field": (["across a field", "through a field"], False),
                       "beach": (["along the beach", "on the beach"], False),
                       "snow": (["through the snow", "through deep snow"], False),
                       "yard": (["around a yard", "across the yard"], False)},
                 locs=[]),
    "chase": dict(who="animals",
                  verbs=[("chasing", "chases", "chase", "chased"),
                         ("running after", "runs after", "run after", None)],
                  objs={"ball": (["a ball", "a red ball"], False),
                        "stick": (["a stick"], False),
                        "bird": (["a bird"], False),
                        "squirrel": (["a squirrel"], False),
                        "toy": (["a toy"], False)},
                  locs=["in a yard", "on the grass", "in a park"]),
    "drink": dict(who="animals",
                  verbs=[("drinking", "drinks", "drink", None)],
                  objs={"water": (["water", "some water"], False),
                        "milk": (["milk", "some milk"], False)},
                  locs=["from a bowl", "from a puddle"]),
    "sleep": dict(who="animals",
                  verbs=[("sleeping", "sleeps", "sleep", None)],
                  objs={"couch": (["on a couch", "on the sofa"], False),
                        "sun": (["in the sun"], False),
                        "bed": (["on a bed"], False),
                        "rug": (["on a rug"], False)},
                  locs=[]),
    "jump": dict(who="animals",
                 verbs=[("jumping", "jumps", "jump", None)],
                 objs={"fence": (["over a fence"], False),
                       "pool": (["into a pool"], False),
                       "wall": (["onto a wall"], False),
                       "box": (["into a box"], False)},
                 locs=[]),
    "aplay": dict(who="animals",
                  verbs=[("playing with", "plays with", "play with", None)],
                  objs={"ball": (["a ball"], False),
                        "toy": (["a toy"], False),
                        "rope": (["a rope", "a piece of rope"], False),
                        "yarn": (["a ball of yarn"], False)},
                  locs=["on the floor", "in a yard"]),
}


def agent_pool(who):
    return PEOPLE if who == "people" else ANIMALS


def realize(rng, agent, action, obj, loc, agent_surface=None, avoid=None):
    """One sentence for a frame; tries to differ from `avoid`."""
    act = ACTIONS[action]
    if agent == "someone":
        surfaces, plural = SOMEONE, False
    else:
        surfaces, plural = agent_pool(act["who"])[agent]
    osurf, opl = act["objs"][obj]
    for _ in range(60):
        a = agent_surface or rng.choice(surfaces)
        ving, vs, vpl, ven = rng.choice(act["verbs"])
        o = rng.choice(osurf)
        tail = (" " + loc) if loc else ""
        forms = ["prog", "prog", "simple", "there"]
        if ven:
            forms.append("passive")
        form = rng.choice(forms)
        if form == "prog":
            s = "{} {} {} {}{}.".format(a, "are" if plural else "is", ving, o, tail)
        elif form == "simple":
            s = "{} {} {}{}.".format(a, vpl if plural else vs, o, tail)
        elif form == "there":
            s = "There {} {} {} {}{}.".format("are" if plural else "is",
                                              a[0].lower() + a[1:], ving, o, tail)
        else:
            s = "{} {} being {} by {}{}.".format(cap(o), "are" if opl else "is",
                                                 ven, a[0].lower() + a[1:], tail)
        if s != avoid:
            return s
    return None


def pick_action(rng, who=None):
    names = sorted(ACTIONS)
    if who:
        names = [n for n in names if ACTIONS[n]["who"] == who]
    return rng.choice(names)


def sts_frames(rng, score):
    """Returns (frame1, frame2) = (agent, action, obj, loc) pairs."""
    while True:
        who = "people" if rng.chance(0.72) else "animals"
        v1 = pick_action(rng, who)
        act = ACTIONS[v1]
        pool = sorted(a for a in agent_pool(who)
                      if a not in NOT_FOR.get(v1, ()))
        a1 = rng.choice(pool)
        o1 = rng.choice(sorted(act["objs"]))
        if score == 5.0:
            loc = rng.choice(act["locs"]) if act["locs"] and rng.chance(0.3) else None
            return (a1, v1, o1, loc), (a1, v1, o1, loc)
        if score == 4.6:
            if not act["locs"]:
                continue
            loc = rng.choice(act["locs"])
            f1, f2 = (a1, v1, o1, None), (a1, v1, o1, loc)
            return (f1, f2) if rng.chance(0.5) else (f2, f1)
        if score == 4.0:
            if who != "people" or PEOPLE[a1][1]:
                continue
            f1, f2 = (a1, v1, o1, None), ("someone", v1, o1, None)
            return (f1, f2) if rng.chance(0.5) else (f2, f1)
        if score == 3.2:
            a2 = rng.choice([p for p in pool if p != a1
                             and frozenset((a1, p)) not in CLOSE_AGENTS])
            return (a1, v1, o1, None), (a2, v1, o1, None)
        if score == 2.4:
            if rng.chance(0.6):
                o2 = rng.choice([o for o in sorted(act["objs"]) if o != o1])
                return (a1, v1, o1, None), (a1, v1, o2, None)
            # same agent and object, different action on it
            others = [n for n in sorted(ACTIONS) if n != v1
                      and a1 not in NOT_FOR.get(n, ())
                      and ACTIONS[n]["who"] == who and o1 in ACTIONS[n]["objs"]
                      and ACTIONS[n]["locs"] and act["locs"]]
            if not others:
                continue
            return (a1, v1, o1, None), (a1, rng.choice(others), o1, None)
        if score == 1.6:
            a2 = rng.choice([p for p in pool if p != a1])
            o2 = rng.choice([o for o in sorted(act["objs"]) if o != o1])
            return (a1, v1, o1, None), (a2, v1, o2, None)
        if score == 0.8:
            v2 = pick_action(rng, who)
            if v2 == v1 or a1 in NOT_FOR.get(v2, ()):
                continue
            o2 = rng.choice(sorted(ACTIONS[v2]["objs"]))
            if o2 == o1:
                continue
            return (a1, v1, o1, None), (a1, v2, o2, None)
        if score == 0.0:
            who2 = "people" if rng.chance(0.6) else "animals"
            v2 = pick_action(rng, who2)
            if v2 == v1 or (who == who2 and ACTIONS[v2]["verbs"][0][0] ==
                            ACTIONS[v1]["verbs"][0][0]):
                continue
            o2 = rng.choice(sorted(ACTIONS[v2]["objs"]))
            a2 = rng.choice(sorted(a for a in agent_pool(who2)
                                   if a not in NOT_FOR.get(v2, ())))
            if o2 == o1 or a2 == a1:
                continue
            return (a1, v1, o1, None), (a2, v2, o2, None)
        raise AssertionError(score)


def sts_pair_scene(rng, score):
    while True:
        f1, f2 = sts_frames(rng, score)
        s1 = realize(rng, *f1)
        s2 = realize(rng, *f2, avoid=s1)
        if s1 and s2 and s1 != s2:
            return s1, s2


TOWNS = [
    "Riverton", "Millbrook", "Ashford", "Lakeside", "Northfield", "Oakridge",
    "Port Allen", "Greenville", "Westbury", "Cedar Falls", "Bridgeport",
    "Elm Valley", "Stonehaven", "Fairview", "Marston", "Redcliff",
    "Hollowell", "Kingsbury",
]

# event -> (category, variants)
EVENTS = {
    "flood": ("weather", ["Heavy rain floods streets in {p}",
                          "Flooding hits {p} after heavy rain",
                          "Streets in {p} flooded by heavy rain",
                          "Heavy rain leaves parts of {p} under water"]),
    "snow": ("weather", ["Snow closes schools in {p}",
                         "Schools in {p} shut because of heavy snow",
                         "Heavy snow forces {p} schools to close",
                         "{p} schools closed as snow piles up"]),
    "storm": ("weather", ["Storm knocks down trees across {p}",
                          "Strong winds bring down trees in {p}",
                          "Trees toppled as storm sweeps through {p}"]),
    "heat": ("weather", ["Heat wave grips {p}", "{p} swelters in record heat",
                         "Record temperatures hit {p}"]),
    "fire": ("disaster", ["Fire destroys warehouse in {p}",
                          "Warehouse in {p} burns to the ground",
                          "Blaze guts {p} warehouse",
                          "Large fire levels a warehouse in {p}"]),
    "quake": ("disaster", ["Small earthquake shakes {p}",
                           "Minor quake felt in {p}",
                           "{p} rattled by a small earthquake"]),
    "power": ("disaster", ["Power outage leaves thousands in {p} without electricity",
                           "Thousands lose power in {p}",
                           "Blackout hits thousands of homes in {p}"]),
    "busstrike": ("labor", ["Bus drivers go on strike in {p}",
                            "{p} bus drivers walk off the job",
                            "Bus strike halts public transport in {p}"]),
    "teachstrike": ("labor", ["Teachers strike over pay in {p}",
                              "{p} teachers walk out in pay dispute",
                              "Teachers in {p} stop work over wages"]),
    "mayor": ("politics", ["{p} elects a new mayor",
                           "Voters in {p} choose a new mayor",
                           "New mayor elected in {p}"]),
    "budget": ("politics", ["{p} council approves new budget",
                            "City budget passed in {p}",
                            "Council in {p} signs off on budget"]),
    "bridge": ("building", ["New bridge opens in {p}",
                            "{p} opens its new bridge",
                            "Traffic starts to flow over new {p} bridge"]),
    "hospital": ("building", ["{p} hospital to add a new wing",
                              "New hospital wing planned for {p}",
                              "Hospital in {p} announces expansion"]),
    "festival": ("culture", ["{p} hosts annual music festival",
                             "Music festival draws big crowds to {p}",
                             "Thousands attend music festival in {p}"]),
    "museum": ("culture", ["New art museum opens in {p}",
                           "{p} welcomes its first art museum",
                           "Art museum opens its doors in {p}"]),
    "title": ("sports", ["{p} team wins regional title",
                         "Regional championship goes to {p} team",
                         "{p} side claims regional crown"]),
    "marathon": ("sports", ["{p} marathon draws record field",
                            "Record number of runners take part in {p} marathon",
                            "{p} marathon sees most runners ever"]),
}
DETAILS = [" on Monday", " on Tuesday", " overnight", " this weekend",
           ", officials say", ", police say", " early Friday"]


def sts_pair_news(rng, score):
    names = sorted(EVENTS)
    while True:
        e1 = rng.choice(names)
        p1 = rng.choice(TOWNS)
        cat1, var1 = EVENTS[e1]
        if score in (5.0, 4.6):
            t1, t2 = rng.sample(var1, 2)
            s1, s2 = t1.format(p=p1), t2.format(p=p1)
            if score == 4.6:
                d = rng.choice(DETAILS)
                if d.startswith(",") and "police" in d and cat1 != "disaster":
                    d = ", officials say"
                if rng.chance(0.5):
                    s1 += d
                else:
                    s2 += d
            return s1, s2
        if score == 2.4:
            p2 = rng.choice([t for t in TOWNS if t != p1])
            return rng.choice(var1).format(p=p1), rng.choice(var1).format(p=p2)
        if score == 1.6:
            same = [e for e in names if e != e1 and EVENTS[e][0] == cat1]
            e2 = rng.choice(same)
            return (rng.choice(var1).format(p=p1),
                    rng.choice(EVENTS[e2][1]).format(p=p1))
        if score == 0.8:
            e2 = rng.choice([e for e in names if EVENTS[e][0] != cat1])
            return (rng.choice(var1).format(p=p1),
                    rng.choice(EVENTS[e2][1]).format(p=p1))
        if score == 0.0:
            e2 = rng.choice([e for e in names if EVENTS[e][0] != cat1])
            p2 = rng.choice([t for t in TOWNS if t != p1])
            return (rng.choice(var1).format(p=p1),
                    rng.choice(EVENTS[e2][1]).format(p=p2))
        raise AssertionError(score)


STS_HAND = {
    5.0: [
        ("The meeting has been moved to Thursday afternoon.",
         "The meeting will now be held on Thursday afternoon."),
        ("The store is closed on Sundays.", "The shop does not open on Sundays."),
        ("She finished the race in just under four hours.",
         "She completed the race in a little less than four hours."),
        ("Trains to the airport leave every twenty minutes.",
         "A train departs for the airport every twenty minutes."),
        ("Children under twelve get into the museum for free.",
         "The museum is free for kids younger than twelve."),
        ("He forgot his keys at the office.", "He left his keys at work."),
    ],
    4.6: [
        ("The bridge will be closed for repairs next week.",
         "Next week the bridge will close for repairs, the city said."),
        ("Prices at the farmers market rose sharply in March.",
         "Prices at the farmers market went up in March."),
        ("The new phone goes on sale in October.",
         "The phone will be available to buy starting in October."),
        ("Our flight was delayed by two hours because of thick fog.",
         "Fog delayed our flight by about two hours."),
        ("The company plans to hire fifty new workers.",
         "The firm wants to add around fifty employees."),
        ("The children planted tomatoes in the school garden.",
         "Students planted tomatoes in the garden at their school."),
    ],
    4.0: [
        ("The city council approved the plan for a new park on Monday.",
         "The council voted for a new park."),
        ("A small dog was found wandering near the highway.",
         "Someone found a dog near the highway."),
        ("The author is working on her third novel.",
         "The writer has started another book."),
        ("The bakery on Main Street sells fresh bread every morning.",
         "Fresh bread is sold each morning at the local bakery."),
        ("Most of the students passed the final exam.",
         "The majority of the class did well on the final test."),
        ("The restaurant is famous for its seafood soup.",
         "People come to the restaurant for the fish soup."),
    ],
    3.2: [
        ("The library will open a new branch downtown next year.",
         "A new library branch is coming to the city."),
        ("The team lost the final game by a single point.",
         "The team lost the championship game."),
        ("The hikers reached the top of the mountain before noon.",
         "The hikers climbed the mountain in the morning."),
        ("The museum added three paintings to its collection.",
         "The museum bought a painting at an auction."),
        ("Heavy traffic made me late for work today.",
         "I was late for work today because of the bus."),
        ("She is learning to play the violin.",
         "She takes violin lessons every week."),
    ],
    2.4: [
        ("The school will start classes an hour later this fall.",
         "The school is adding a new art class this fall."),
        ("He cooked dinner for his parents on Sunday.",
         "He took his parents out to a restaurant on Sunday."),
        ("The price of bus tickets will rise next month.",
         "The price of train tickets fell last month."),
        ("Two students won a national science prize.",
         "Two students were chosen for the national spelling contest."),
        ("The old cinema in the town center will be torn down.",
         "The old theater in the town center is being repaired."),
        ("My sister moved to a new apartment near the river.",
         "My sister is looking for an apartment near the park."),
    ],
    1.6: [
        ("The weather was cold and windy all weekend.",
         "We spent the weekend at the beach."),
        ("The bakery opens at seven in the morning.",
         "The bakery was named the best in the city."),
        ("She reads the news on her phone every morning.",
         "She bought a new phone last week."),
        ("The farmers hope for rain this summer.",
         "Farmers are selling more vegetables at the market."),
        ("He plays soccer with his friends after school.",
         "His friends are planning a trip after school ends."),
        ("The airport is building a second runway.",
         "The airport was closed for an hour because of snow."),
    ],
    0.8: [
        ("The concert was sold out within minutes.",
         "Tickets are on sale for the new museum exhibit."),
        ("My brother is studying to become a doctor.",
         "The hospital is looking for more nurses."),
        ("A new coffee shop opened across the street.",
         "The street will be closed for a parade on Saturday."),
        ("The river rose after three days of rain.",
         "The town built a new playground near the river."),
        ("He fixed the old bicycle in his garage.",
         "The city is adding more bike lanes."),
        ("The children are learning about planets at school.",
         "A new telescope was installed at the observatory."),
    ],
    0.0: [
        ("The cat is asleep on the windowsill.",
         "Interest rates are expected to rise next year."),
        ("He ordered a large pizza with extra cheese.",
         "The museum is closed for renovations."),
        ("The train was late again this morning.",
         "She painted her bedroom a pale green."),
        ("My grandmother grows roses in her garden.",
         "The software update fixed several bugs."),
        ("The election results will be announced tonight.",
         "A bowl of fresh fruit sat on the table."),
        ("The glacier has been shrinking for decades.",
         "I need to buy new running shoes."),
    ],
}


def make_sts(rng, n_total):
    """Returns {score: [(s1, s2), ...]} with an equal share per score."""
    by_score = {}
    seen = set()
    k = len(STS_SCORES)
    for i, sc in enumerate(STS_SCORES):
        want = n_total // k + (1 if i < n_total % k else 0)
        items = []
        for a, b in STS_HAND[sc]:
            items.append((a, b))
            seen.add(tuple(sorted((a.lower(), b.lower()))))
        while len(items) < want:
            if sc in (4.0, 3.2) or rng.chance(0.68):
                a, b = sts_pair_scene(rng, sc)
            else:
                a, b = sts_pair_news(rng, sc)
            key = tuple(sorted((a.lower(), b.lower())))
            if key in seen:
                continue
            seen.add(key)
            if rng.chance(0.5):
                a, b = b, a
            items.append((a, b))
        by_score[sc] = items
    return by_score


# ============================================================================
# writing, splitting, vocabulary
# ============================================================================

def make_id(name, idx, fields):
    h = hashlib.sha1(("mtbert-demo\x00" + name + "\x00" + str(idx) + "\x00" +
                      "\x00".join(fields)).encode("utf-8")).hexdigest()
    return h[:25]


def write_tsv(name, header, rows):
    """rows: list of tuples of strings (without index and id)."""
    path = os.path.join(HERE, name)
    lines = ["\t" + "\t".join(["id"] + header)]
    for i, r in enumerate(rows):
        lines.append("\t".join([str(i), make_id(name, i, r)] + list(r)))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)


def stratified_split(rng, groups, n_dev):
    """groups: {label: [items]} -> (train, dev) lists of (item, label)."""
    labels = sorted(groups)
    total = sum(len(groups[l]) for l in labels)
    train, dev = [], []
    # dev share per label, proportional, largest remainder
    shares = []
    for l in labels:
        exact = n_dev * len(groups[l]) / total
        shares.append([int(exact), exact - int(exact), l])
    left = n_dev - sum(s[0] for s in shares)
    for s in sorted(shares, key=lambda s: (-s[1], s[2]))[:left]:
        s[0] += 1
    want = {s[2]: s[0] for s in shares}
    for l in labels:
        items = list(groups[l])
        rng.shuffle(items)
        dev += [(x, l) for x in items[:want[l]]]
        train += [(x, l) for x in items[want[l]:]]
    rng.shuffle(train)
    rng.shuffle(dev)
    return train, dev


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text):
    """BERT's uncased BasicTokenizer: clean, lower-case, strip accents,
    split on whitespace and punctuation (no CJK in this data)."""
    out = []
    for tok in text.split():
        tok = unicodedata.normalize("NFD", tok.lower())
        tok = "".join(c for c in tok if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in tok:
            if is_punct(ch):
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(ch)
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


PUNCT = [chr(c) for c in range(33, 127) if is_punct(chr(c))]
SUFFIXES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##ers",
            "##ness", "##ful", "##less", "##able", "##ment", "##ion"]


def build_vocab(texts):
    head = ["[PAD]"] + ["[unused%d]" % i for i in range(99)] + \
           ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    head += PUNCT
    head += [str(d) for d in range(10)]
    head += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    head += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    head += ["##" + str(d) for d in range(10)]
    present = set(head)
    freq = {}
    for t in texts:
        for w in basic_tokenize(t):
            freq[w] = freq.get(w, 0) + 1
    words = sorted((w for w in freq if w not in present),
                   key=lambda w: (-freq[w], w))
    vocab = head + words + [s for s in SUFFIXES if s not in present
                            and s not in freq]
    assert len(vocab) == len(set(vocab))
    with open(os.path.join(HERE, "vocab.txt"), "wb") as f:
        f.write(("\n".join(vocab) + "\n").encode("utf-8"))
    return vocab


# ============================================================================
# self-check
# ============================================================================

def check(fail):
    files = {
        "sst-train.csv": (["sentence"], "sentiment", 400),
        "sst-dev.csv": (["sentence"], "sentiment", 100),
        "para-train.csv": (["sentence1", "sentence2"], "is_duplicate", 400),
        "para-dev.csv": (["sentence1", "sentence2"], "is_duplicate", 100),
        "sts-train.csv": (["sentence1", "sentence2"], "similarity", 400),
        "sts-dev.csv": (["sentence1", "sentence2"], "similarity", 100),
    }
    with open(os.path.join(HERE, "vocab.txt"), "rb") as f:
        vraw = f.read().decode("utf-8")
    if not vraw.endswith("\n") or "\r" in vraw:
        fail("vocab.txt: bad line endings")
    vocab = vraw.split("\n")[:-1]
    if len(vocab) != len(set(vocab)):
        fail("vocab.txt: duplicate tokens")
    expect = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]",
              103: "[MASK]", 1: "[unused0]", 99: "[unused98]"}
    for i, t in expect.items():
        if vocab[i] != t:
            fail("vocab.txt: line %d is %r, want %r" % (i, vocab[i], t))
    vset = set(vocab)
    for t in PUNCT + list("0123456789abcdefghijklmnopqrstuvwxyz"):
        if t not in vset or (t.isalnum() and "##" + t not in vset):
            fail("vocab.txt: missing %r" % t)
    stats = {}
    texts = {}
    for name, (tcols, lcol, nrows) in files.items():
        with open(os.path.join(HERE, name), "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        if "\r" in text or not text.endswith("\n") or '"' in text:
            fail(name + ": CR, missing final newline or a double quote")
        lines = text.split("\n")[:-1]
        header = "\t" + "\t".join(["id"] + tcols + [lcol])
        if lines[0] != header:
            fail(name + ": bad header %r" % lines[0])
        if len(lines) - 1 != nrows:
            fail(name + ": %d rows, want %d" % (len(lines) - 1, nrows))
        ids, idxs, labels, keys = set(), set(), {}, set()
        ncol = 3 + len(tcols)
        for ln, line in enumerate(lines[1:], start=2):
            f_ = line.split("\t")
            if len(f_) != ncol:
                fail("%s:%d: %d fields, want %d" % (name, ln, len(f_), ncol))
            idx, id_, body, lab = f_[0], f_[1], f_[2:-1], f_[-1]
            if not idx.isdigit() or idx in idxs:
                fail("%s:%d: bad or repeated index" % (name, ln))
            idxs.add(idx)
            if len(id_) != 25 or any(c not in "0123456789abcdef" for c in id_) \
                    or id_ in ids:
                fail("%s:%d: bad or repeated id" % (name, ln))
            ids.add(id_)
            for t in body:
                if not t.strip() or t != t.rstrip():
                    fail("%s:%d: empty field or trailing space" % (name, ln))
                if any(ord(c) > 126 or ord(c) < 32 for c in t):
                    fail("%s:%d: non-ASCII or control character" % (name, ln))
                for w in basic_tokenize(t):
                    if w not in vset:
                        fail("%s:%d: %r not in vocab.txt" % (name, ln, w))
            if lcol == "sentiment":
                if lab not in ("0", "1", "2", "3", "4"):
                    fail("%s:%d: bad sentiment %r" % (name, ln, lab))
                if not body[0].startswith(" ") or body[0].startswith("  "):
                    fail("%s:%d: SST sentence must start with one space" % (name, ln))
            elif lcol == "is_duplicate":
                if lab not in ("0.0", "1.0"):
                    fail("%s:%d: bad is_duplicate %r" % (name, ln, lab))
            else:
                v = float(lab)
                if not 0.0 <= v <= 5.0:
                    fail("%s:%d: bad similarity %r" % (name, ln, lab))
            labels[lab] = labels.get(lab, 0) + 1
            key = tuple(sorted(b.lower() for b in body))
            if key in keys:
                fail("%s:%d: repeated text" % (name, ln))
            keys.add(key)
        stats[name] = labels
        texts[name] = keys
    for task in ("sst", "para", "sts"):
        both = texts[task + "-train.csv"] & texts[task + "-dev.csv"]
        if both:
            fail("%s: %d items in both train and dev" % (task, len(both)))
    return stats, len(vocab)


def main():
    rng = Rng(SEED)

    sst = make_sst(rng, 500)
    groups = {}
    for t, l in sst:
        groups.setdefault(l, []).append(t)
    tr, dv = stratified_split(rng, groups, 100)
    write_tsv("sst-train.csv", ["sentence", "sentiment"],
              [(t, str(l)) for t, l in tr])
    write_tsv("sst-dev.csv", ["sentence", "sentiment"],
              [(t, str(l)) for t, l in dv])

    para = make_para(rng, 500, 200)
    groups = {}
    for q1, q2, l in para:
        groups.setdefault(l, []).append((q1, q2))
    tr, dv = stratified_split(rng, groups, 100)
    write_tsv("para-train.csv", ["sentence1", "sentence2", "is_duplicate"],
              [(a, b, "%.1f" % l) for (a, b), l in tr])
    write_tsv("para-dev.csv", ["sentence1", "sentence2", "is_duplicate"],
              [(a, b, "%.1f" % l) for (a, b), l in dv])

    sts = make_sts(rng, 500)
    tr, dv = stratified_split(rng, sts, 100)
    write_tsv("sts-train.csv", ["sentence1", "sentence2", "similarity"],
              [(a, b, "%.1f" % l) for (a, b), l in tr])
    write_tsv("sts-dev.csv", ["sentence1", "sentence2", "similarity"],
              [(a, b, "%.1f" % l) for (a, b), l in dv])

    all_text = [t for t, _ in sst] + [q for q1, q2, _ in para for q in (q1, q2)] + \
               [s for items in sts.values() for p in items for s in p]
    build_vocab(all_text)

    errors = []
    stats, nvocab = check(errors.append)
    if errors:
        for e in errors[:50]:
            print("make_demo.py: " + e, file=sys.stderr)
        print("make_demo.py: %d problems" % len(errors), file=sys.stderr)
        return 1
    for name in sorted(stats):
        dist = " ".join("%s:%d" % kv for kv in sorted(stats[name].items()))
        print("%-15s %s" % (name, dist))
    print("vocab.txt       %d tokens" % nvocab)
    print("self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
