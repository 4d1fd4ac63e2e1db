"""A light Mizo/English detector for short chat texts: pure, no model file, microseconds a call.

Each word scores a log-odds contribution (positive: Mizo, negative: English):

* the word is a common Mizo or English function/everyday word (hand-written lists below);
* Mizo letters with diacritics (ṭ â ê î ô û) are Mizo;
* Mizo phonotactics: a native Mizo word splits into syllables (onset + vowel + coda) drawn
  from a small inventory (onsets such as ``chh``, ``hl``, ``ng``, ``thl``; codas only
  ``h k l lh m n ng p r rh t``).  A word that cannot be split (``science``, ``running``, ``city``)
  is English evidence; one that can is weak Mizo evidence, weakened by English shapes (a final
  silent ``e``, ``-er``, ``-ing``);
* everything else (numbers, placeholders, emoji) scores nothing.

Context corrects the word scores where short chat goes wrong:

* ``a`` is the English article as well as a Mizo particle: weak evidence, but strong Mizo evidence
  at the end of a clause (``A lo kal ta a.``), where the article never stands;
* ``i`` is the Mizo "you", ``I`` the English "I" — except at the start of a sentence, where either
  language writes it capitalised (``I dam em?``);
* a capitalised word that neither list knows is most likely a name (``John``, ``Dubai``) and says
  little about the language around it: nothing inside a sentence, half its score at the start;
* an apostrophe makes a word English only in an English contraction (``don't``, ``he's``); Mizo
  chat writes contractions too (``ka'n`` for ``ka han``), scored without the apostrophe;
* ``he`` is the Mizo "this" as well as English, so it counts for neither; ``-ing`` after a Mizo
  consonant cluster (``mihring``, ``khing``) is not the English suffix.

The text's score is the sum; the confidence is the logistic of its magnitude, so one ambiguous
word gives ~0.6 and a sentence with a few function words gives > 0.95.  Accuracy by language and
length on the GATITOS lexicon and on short chat messages (tuned on one half, measured on the
other) is in ``tests/test_translate_units.py`` and ``bench/RESULTS.md`` (``bench/translate_detect.py``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Literal, NamedTuple

Lang = Literal["lus", "en"]
LANGS: tuple[Lang, Lang] = ("lus", "en")

FUNCTION_WORD_SCORE = 2.5
DIACRITIC_SCORE = 6.0
UNSPLITTABLE_SCORE = -3.0
SPLITTABLE_SCORE = 0.7
ENGLISH_SHAPE_SCORE = -1.2
MIZO_SHAPE_SCORE = 0.8
ARTICLE_A_SCORE = 1.0  # "a" inside a clause: Mizo particle or English article
CLAUSE_FINAL_A_SCORE = 3.0  # "... a." / "... a," only Mizo ends a clause with it
NAME_AT_START_WEIGHT = 0.5  # an unknown capitalised first word may be a name

# Everyday Mizo words and particles (standard spelling; ṭ is also matched as t).
MIZO_WORDS = frozenset("""
ka kan ki i in a an he heng hetah hetiang hemi chu chuan chuang hi hian hei te tu tute nge em maw e ang
tawh lo ve leh rawh se
mai tak takin ber zawk pawh emaw mah chiah thei theih tur turin dawn mek kha khan ah atangin atang
hnenah nen tan avangin vang nimahsela mahse erawh ni nia nih awm awmna kal haw thleng hmu hmuh hre
hria hriat duh ti tih sawi bia hmang hman ei mu mut tho thawh thawk hna zir ziak chhiar lehkha pawisa
thil mi mipa hmeichhia naupang fa nu pa unau nau chhungkua chhungte thian ṭhian inkhawm ram khua
khawpui kawng tlang lui tui thing thla kum kar zan zing chawhnu tlai vawiin naktuk nimin tunah hmanah
nakinah hnuah hma hnu chung hnuai chhung pawn hnaih hla hlat lian tam tlem ṭha ṭhat chhe chhia sual
dik hlim lungawi lungngai hlau hlauhawm him dam damlo hliam na natna thisen taksa lu mit kut ke hmui
beng chaw sa thlai buh chhang sangha artui pathian kohhran upa hla zai ṭawng sap hnam dan sorkar hotu
hruaitu tlangval nula pasal nupui nun thih thi hrisel damdawi damdawiin hmanhmawh rang zawi
khawngaihin lawm lawmthu chibai mangṭha hmangaih ngaihsak ngaidam ṭanpui ṭanpuina pui hruai ko au
tlan bo chhuak lut ṭhu ding nghak en ngaithla thiam hrethiam khawiah khawi engtin engtik engzat eng
eng nge tunge zeng vek zawng zawng hmuak pe pek la lak dah neih nei hnathawk hlawh riah riahna
kawmchar kawngpui nula tlangval enge awmzia chungah hnuaiah chhungah hmaah hnungah lamah lam
""".split())

ENGLISH_WORDS = frozenset("""
the and is are was were be been being am of to for with on at by from up about into over after
this that these those it its he she they them their there here his her him we us our you your
my mine me not no yes do does did done have has had will would can could should may might must
shall what which who whom whose when where why how all any both each few more most other some
such only own same than too very just also but or if because as until while then so out off
again further once now please thank thanks hello hi help call police doctor hospital water
food home house work time day night today tomorrow yesterday morning good bad new old big small
come go going went get got give gave take took make made know think see saw look want need like
love tell told said say ask find found feel felt leave left put keep let begin seem show hear
play run move live believe hold bring happen write sit stand lose pay meet include continue set
learn change lead understand watch follow stop create speak read allow add spend grow open walk
win offer remember consider appear buy wait serve die send expect build stay fall cut reach kill
remain suggest raise pass sell require report decide pull people man woman child children world
life hand part place case week company system program question government number way thing
point home water room mother father area money story fact month lot right study book eye job word
business issue side kind head service friend power hour game line end member law car city name
president team minute idea kid body information back parent face others level office door health
person art war history party result change reason research girl guy moment air teacher force
education sorry okay ok fine well safe lost hurt injured sick afraid scared danger fire
""".split()) - {"hi", "a", "i", "in", "an", "man", "lo", "ve", "la", "ni", "be", "en", "tan", "na"}

_ONSETS = "chh|tlh|thl|ngh|hng|ch|hl|hm|hn|hr|kh|ng|ph|rh|th|tl|ṭh|b|d|f|g|h|j|k|l|m|n|p|r|s|t|ṭ|v|z"
_NUCLEI = "awi|uai|iau|aw|ai|au|ei|eu|ia|iu|oi|ua|ui|a|e|i|o|u"
_CODAS = "ng|lh|rh|k|l|m|n|p|r|t|h"
# Inside a word a syllable needs an onset, except the suffixes/prefix syllables that start with a vowel.
_BARE = "ah|an|ang|awm|em|en|in"
_MIZO_WORD = re.compile(
    rf"^(?:(?:{_ONSETS})?(?:{_NUCLEI})(?:{_CODAS})?)"
    rf"(?:(?:(?:{_ONSETS})(?:{_NUCLEI})(?:{_CODAS})?)|(?:{_BARE}))*$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_DIACRITICS = frozenset("ṭâêîôû")
# -ing after a Mizo onset cluster (mi-hring, lir-nghing, khing) is a Mizo syllable, not the suffix.
_ENGLISH_SHAPES = (re.compile(r"[aeiou][bcdfgklmnprstvz]e$"), re.compile(r"..er$"),
                   re.compile(r"...ing(?<!h[rlmn]ing)(?<![tkpgc]hing)(?<!tling)(?<!nging)$"))
_ENGLISH_CONTRACTION = re.compile(r"['’](?:s|t|re|ve|ll|d|m)$")
_CLAUSE_END = re.compile(r"\s*(?:[.,;:!?…]|$)")
_SENTENCE_ENDS = frozenset(".!?…:\n")
_MIZO_SHAPES = (re.compile(r"aw"), re.compile(r"^(?:hl|hm|hn|hr|ng|tl|chh|thl|ngh)"), re.compile(r"z"))


class Detection(NamedTuple):
    lang: Lang | None  # None: no letters to judge (numbers, emoji, links only)
    confidence: float  # 0.5 .. 1.0 when lang is set; 0.0 when it is None
    score: float  # summed log-odds, positive: Mizo


def fold(word: str) -> str:
    """Lower case with the Mizo dot below kept as ``ṭ`` and other accents removed."""
    decomposed = unicodedata.normalize("NFD", word.casefold()).replace("t\u0323", "\u1e6d")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def word_score(word: str) -> float:
    """The word's evidence on its own (see ``detect`` for the corrections from context)."""
    lowered = unicodedata.normalize("NFC", word.casefold())
    if any(c in _DIACRITICS for c in lowered):
        return DIACRITIC_SCORE
    folded = fold(word).replace("’", "'")
    if "'" in folded:
        if _ENGLISH_CONTRACTION.search(folded):
            return -FUNCTION_WORD_SCORE
        folded = folded.replace("'", "")
    plain = folded.replace("ṭ", "t")
    if _known_mizo(folded, plain):
        return FUNCTION_WORD_SCORE if plain not in ENGLISH_WORDS else 0.0
    if plain in ENGLISH_WORDS:
        return -FUNCTION_WORD_SCORE
    if not _MIZO_WORD.match(folded):
        return UNSPLITTABLE_SCORE
    score = SPLITTABLE_SCORE
    score += ENGLISH_SHAPE_SCORE * sum(bool(p.search(plain)) for p in _ENGLISH_SHAPES)
    score += MIZO_SHAPE_SCORE * sum(bool(p.search(plain)) for p in _MIZO_SHAPES)
    return score


def _known_mizo(folded: str, plain: str) -> bool:
    return folded in MIZO_WORDS or plain in MIZO_WORDS or ("ṭ" + plain[1:]) in MIZO_WORDS


def _starts_sentence(text: str, start: int) -> bool:
    before = start - 1
    while before >= 0 and text[before].isspace() and text[before] != "\n":
        before -= 1
    return before < 0 or text[before] in _SENTENCE_ENDS


def _in_context(text: str, match: re.Match[str]) -> float:
    word = match.group()
    score = word_score(word)
    starts_sentence = _starts_sentence(text, match.start())
    if word in ("a", "A"):
        ends_clause = match.start() > 0 and _CLAUSE_END.match(text, match.end()) is not None
        return CLAUSE_FINAL_A_SCORE if ends_clause and not starts_sentence else ARTICLE_A_SCORE
    if word == "I":
        return 0.0 if starts_sentence else -FUNCTION_WORD_SCORE
    if word[0].isupper() and word[1:].islower() and score != DIACRITIC_SCORE:
        plain = fold(word).replace("ṭ", "t").replace("'", "").replace("’", "")
        if not _known_mizo(plain, plain) and plain not in ENGLISH_WORDS:  # most likely a name
            return score * NAME_AT_START_WEIGHT if starts_sentence else 0.0
    return score


def detect(text: str) -> Detection:
    """The likelier of Mizo and English for ``text``, with a confidence in [0.5, 1]."""
    matches = list(_WORD.finditer(text))
    if not matches:
        return Detection(None, 0.0, 0.0)
    score = sum(_in_context(text, m) for m in matches)
    lang: Lang = "lus" if score > 0 else "en"
    return Detection(lang, 1.0 / (1.0 + math.exp(-abs(score))), score)
