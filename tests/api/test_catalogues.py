"""The words the product shows, checked without a server: the UI catalogues (web/i18n/*.json),
the keys the UI asks for (web/js), and the e-mail templates (src/mail/templates).

- both catalogues hold the same keys, each once, and every key the JS names exists;
- a count is worded with a plural block (`{n, plural, one {…} other {…}}`), never "(s)" nor a
  pair of keys the code picks between (`removedOne`/`removedOther`);
- French text uses the typographic apostrophe ’ and a non-breaking space before : ; ? ! %;
- a date in a template goes through the date filter (`{{end_date|date}}`), never ISO;
- French text avoids the words docs/glossary.md lists as not to be used.

Each checker is also run on a small planted string, so a checker that can no longer fail is
itself caught.
"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"


def catalogue(lang):
    return json.loads((ROOT / "web" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def templates(lang):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "src" / "mail" / "templates" / lang).glob("*.txt"))}


# ---- the checkers ------------------------------------------------------------------------

def missing_keys(a, b):
    """Keys of a that b lacks, and of b that a lacks."""
    return sorted(set(a) ^ set(b))


def repeated_keys(text):
    """Keys a JSON object text holds more than once (a parser keeps the last silently)."""
    repeated = []

    def pairs(items):
        seen = set()
        repeated.extend(k for k, _ in items if k in seen or seen.add(k))
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return repeated


def keys_used_by_js(sources, namespaces):
    """Message keys the JS names as string literals ('subscribers.add'), by their namespace."""
    pattern = re.compile(r"""['"`]((?:%s)\.[\w.]+)['"`]""" % "|".join(map(re.escape, sorted(namespaces))))
    used = set()
    for text in sources:
        for m in pattern.finditer(text):
            key = m.group(1)
            if not key.split(".")[-1].isupper():   # 'problem.CODE' in a comment is a pattern, not a key
                used.add(key)
    return used


def parenthesised_plurals(texts):
    """Texts that word a count with "(s)" or "(e)s" instead of a plural form."""
    return [t for t in texts if re.search(r"\w\((?:e|s|es|x)\)", t)]


def plural_key_pairs(keys):
    """Keys that come as a singular/plural pair (xOne and xOther, x_one and x_other): the code
    choosing by `n === 1` instead of the language's plural rules (French "one" is 0 and 1)."""
    keys = set(keys)
    return sorted(k for k in keys for one, other in (("One", "Other"), ("_one", "_other"))
                  if k.endswith(one) and k[: -len(one)] + other in keys)


def straight_apostrophes(texts):
    """French texts with a typewriter apostrophe where French typesetting wants ’."""
    return [t for t in texts if "'" in t]


def loose_punctuation(texts):
    """French texts with an ordinary space (or none) before : ; ? ! % instead of a non-breaking one.
    URLs and placeholders are left out: "https://" and "{{x}}" are not French punctuation."""
    bad = []
    for t in texts:
        plain = re.sub(r"https?://\S+|\{\{[^}]*\}\}|^Subject:", "", t, flags=re.M)
        if re.search(r"(?:^|[^\s\u00a0\u202f(])[;?!%]|(?:[^\s\u00a0\u202f\d]):(?!//)| [:;?!%]", plain, flags=re.M):
            bad.append(t)
    return bad


DATE_KEY = re.compile(r"(?:^|_)(?:date|when|on|at)$")


def undated_placeholders(template):
    """Date placeholders written without the date filter, and ISO dates written as literals."""
    bad = [m.group(0) for m in re.finditer(r"\{\{(\w+)\}\}", template) if DATE_KEY.search(m.group(1))]
    bad += re.findall(r"\b\d{4}-\d{2}-\d{2}\b", template)
    return bad


def glossary_forbidden():
    """The French words docs/glossary.md says not to use: its "Not in French" list, one regular
    expression in backquotes per line."""
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    section = text.split("## Not in French", 1)[1].split("\n## ", 1)[0]
    return [re.compile(m, re.I) for m in re.findall(r"^- `([^`]+)`", section, flags=re.M)]


def forbidden_words(texts, patterns):
    return [(p.pattern, t) for t in texts for p in patterns if p.search(t)]


PLURAL_HEAD = re.compile(r"\{(\w+),\s*plural,")


def malformed_plurals(text):
    """Plural blocks without an `other` branch or with unbalanced braces."""
    bad = []
    for m in PLURAL_HEAD.finditer(text):
        i, depth, branches = m.end(), 1, []
        rest = text[i:]
        for b in re.finditer(r"(=\d+|zero|one|two|few|many|other)\s*\{", rest):
            branches.append(b.group(1))
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth or "other" not in branches:
            bad.append(m.group(0))
    return bad


def placeholders(text):
    """{name} placeholders, plural counts included; the words inside plural branches are not names."""
    return set(re.findall(r"\{(\w+)(?:\}|,\s*plural,)", text))


# ---- the checkers catch what they are for --------------------------------------------------

def test_checkers_catch_planted_faults():
    assert missing_keys({"a": "", "b": ""}, {"a": ""}) == ["b"]
    assert missing_keys({"a": ""}, {"a": ""}) == []
    assert keys_used_by_js(["t('nav.home'); h('p', { t: 'nav.gone' }); // problem.CODE"], {"nav", "problem"}) \
        == {"nav.home", "nav.gone"}
    assert parenthesised_plurals(["{count} ligne(s)", "{count} abonné(e)s", "3 row(s)"]) == \
        ["{count} ligne(s)", "{count} abonné(e)s", "3 row(s)"]
    assert parenthesised_plurals(["{count, plural, one {# ligne} other {# lignes}}", "Référence (facultatif)"]) == []
    assert plural_key_pairs(["a.removedOne", "a.removedOther", "b.tries_one", "b.tries_other", "c.selectOne",
                             "c.contactOther"]) == ["a.removedOne", "b.tries_one"]
    assert straight_apostrophes(["Niveau d'abonnement", "Niveau d’abonnement"]) == ["Niveau d'abonnement"]
    assert loose_punctuation(["Statut : actif", "Statut: actif", "Vraiment ?", "90 %"]) == \
        ["Statut : actif", "Statut: actif", "Vraiment ?", "90 %"]
    assert loose_punctuation([f"Statut{NBSP}: actif", f"Vraiment{NBSP}?", f"90{NBSP}%", "https://x.example/a?b",
                              "Subject: x", "{{a}}:{{b}}", "11:21", "Seuil (%)"]) == []
    assert undated_placeholders("prend fin le {{end_date}} ; Quand : {{when}} ; jusqu’au {{expires_on}}") == \
        ["{{end_date}}", "{{when}}", "{{expires_on}}"]
    assert undated_placeholders("jusqu’au 2029-12-05") == ["2029-12-05"]
    assert undated_placeholders("le {{end_date|date}}, {{when|datetime}}, {{license_number}}") == []
    patterns = [re.compile(r"\bpools?\b", re.I), re.compile(r"\blicences? Open\b", re.I)]
    assert [p for p, _ in forbidden_words(["retournent dans le pool", "une licence Open", "la réserve"], patterns)] \
        == [r"\bpools?\b", r"\blicences? Open\b"]
    assert malformed_plurals("{n, plural, one {# ligne}}") == ["{n, plural,"]
    assert malformed_plurals("{n, plural, one {# ligne} other {# lignes}") == ["{n, plural,"]
    assert malformed_plurals("{n, plural, one {# ligne} other {# lignes}}") == []
    assert repeated_keys('{"a": "x", "b": "y", "a": "z"}') == ["a"]
    assert placeholders("{level} : {rows, plural, one {# ligne} other {# lignes}}") == {"level", "rows"}


# ---- the product's words -----------------------------------------------------------------

def test_both_catalogues_hold_the_same_keys():
    assert missing_keys(catalogue("en"), catalogue("fr")) == []


def test_a_catalogue_names_each_key_once():
    for lang in ("en", "fr"):
        assert repeated_keys((ROOT / "web" / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) == [], lang


def test_every_key_the_ui_names_exists():
    en = catalogue("en")
    namespaces = {k.split(".")[0] for k in en}
    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "web" / "js").rglob("*.js"))]
    used = keys_used_by_js(sources, namespaces)
    assert len(used) > 300, "the key scan found too few keys to be looking at the UI"
    assert sorted(used - set(en)) == []


def test_messages_have_the_same_placeholders_in_both_languages():
    en, fr = catalogue("en"), catalogue("fr")
    assert [k for k in en if k in fr and placeholders(en[k]) != placeholders(fr[k])] == []


def test_plural_blocks_are_well_formed():
    for lang in ("en", "fr"):
        assert [(k, v) for k, v in catalogue(lang).items() if malformed_plurals(v)] == []


def test_no_parenthesised_plurals():
    texts = list(catalogue("en").values()) + list(catalogue("fr").values())
    for lang in ("en", "fr"):
        texts += templates(lang).values()
    assert parenthesised_plurals(texts) == []


def test_the_language_switcher_names_each_language_in_itself():
    """"English" and "Français" whatever the page's language (docs/glossary.md)."""
    en, fr = catalogue("en"), catalogue("fr")
    names = [k for k in en if re.fullmatch(r"lang\.[a-z]{2}", k)]
    assert sorted(names) == ["lang.en", "lang.fr"], names
    assert [(k, en[k], fr[k]) for k in names if en[k] != fr[k]] == []
    assert fr["lang.fr"] == "Français" and en["lang.en"] == "English"


def test_counts_are_not_worded_by_pairs_of_keys():
    assert plural_key_pairs(catalogue("en")) == []


def test_french_uses_the_typographic_apostrophe():
    assert straight_apostrophes(list(catalogue("fr").values()) + list(templates("fr").values())) == []


def test_french_puts_a_non_breaking_space_before_high_punctuation():
    assert loose_punctuation(list(catalogue("fr").values()) + list(templates("fr").values())) == []


def test_templates_word_dates_through_the_date_filter():
    for lang in ("en", "fr"):
        assert {name: undated_placeholders(t) for name, t in templates(lang).items() if undated_placeholders(t)} == {}


def test_french_avoids_the_glossarys_forbidden_words():
    patterns = glossary_forbidden()
    assert len(patterns) >= 5, "the glossary's list of words not to use was not found"
    texts = list(catalogue("fr").values()) + list(templates("fr").values())
    assert forbidden_words(texts, patterns) == []
