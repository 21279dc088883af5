"""Salient terms: the words of a request that an embedding weighs too lightly, and that must match exactly.

Sentence embeddings place "sort ascending" next to "sort descending" and "in Python" next to "in Go" (cosine
0.9 and more on the calibration set, above many true paraphrases), so no threshold alone keeps wrong hits rare.
The semantic cache therefore compares by meaning only requests whose salient terms are equal, in order:

- numbers, written as digits or words ("ten" is 10; "800px" is 800);
- identifiers and versions: tokens with `_`, `.`, `/`, `#`, `+` or letters and digits mixed (created_at, .txt,
  IPv4, base64, C#);
- names: capitalised words inside a sentence and all-caps words anywhere (Python, JSON, PostgreSQL), and the
  lower-case names of languages, formats and tools in `NAMES`;
- polar words: each word of `POLAR` stands for its side (ascending and increasing both say `asc`), so a
  paraphrase may swap a synonym but not cross to the opposite.

Then, between a request and a cached one, `comparable` looks at their content words (stop words and
instruction verbs left out, crudely stemmed): the words both use must come in the same order, so "roman
numerals to integers" is not "integers to roman numerals", nor "rename customers to clients" the reverse.
What remains is the embedding's to judge, with the task's threshold.
"""

from __future__ import annotations

import re


def _split(words: str) -> list[str]:
    return words.split()


_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "hundred": "100", "thousand": "1000",
    "once": "1", "twice": "2", "single": "1", "double": "2", "half": "0.5",
}  # fmt: skip
# Lower-case names of languages, formats, stores and tools, with their usual aliases.
NAMES = {
    **dict.fromkeys(["python", "py"], "python"), **dict.fromkeys(["go", "golang"], "go"),
    **dict.fromkeys(["javascript", "js", "node", "nodejs"], "javascript"), **dict.fromkeys(["typescript", "ts"], "ts"),
    **dict.fromkeys(["postgres", "postgresql", "psql"], "postgresql"), **dict.fromkeys(["yaml", "yml"], "yaml"),
    **dict.fromkeys(["kubernetes", "k8s"], "kubernetes"), **dict.fromkeys(["c", "c++", "cpp"], "c"),
    **{n: n for n in _split(
        "java kotlin rust ruby php swift scala haskell perl lua dart elixir erlang bash shell zsh powershell sql mysql "
        "sqlite redis mongodb kafka rabbitmq json xml csv html css markdown toml protobuf grpc rest graphql http "
        "https tcp udp dns tls ssh ftp react vue angular svelte django flask fastapi spring rails express docker "
        "terraform ansible helm nginx apache linux windows macos android ios aws gcp azure s3 git github gitlab "
        "pandas numpy pytest junit jest excel pdf png jpeg svg utf ascii regex cron oauth jwt saml ldap"
    )},
}  # fmt: skip
# Polar words: each group is one side of an opposition; its words stand for the group's name.
_GROUPS = {
    "asc": "ascending increasing", "desc": "descending decreasing",
    "max": "maximum max largest biggest highest greatest longest most top", "min": "minimum min smallest lowest "
    "least shortest fewest bottom", "more": "more greater higher larger bigger above over exceeding",
    "less": "less fewer lower smaller below under", "first": "first beginning start leading head",
    "last": "last final end trailing tail", "newest": "newest latest recent", "oldest": "oldest earliest",
    "add": "add append insert attach", "remove": "remove delete drop strip erase", "read": "read load",
    "write": "write save dump", "encode": "encode encrypt serialize compress zip",
    "decode": "decode decrypt deserialize decompress unzip extract", "upload": "upload send",
    "download": "download receive", "import": "import", "export": "export", "enable": "enable enabled",
    "disable": "disable disabled", "start": "launch open begin", "stop": "stop close shutdown halt",
    "lock": "lock", "unlock": "unlock", "even": "even", "odd": "odd", "left": "left", "right": "right",
    "before": "before prior previous", "after": "after next following", "upper": "upper uppercase capital capitalize",
    "lower": "lower lowercase", "true": "true yes", "false": "false no", "allow": "allow accept permit grant",
    "deny": "deny reject refuse block forbid", "valid": "valid", "invalid": "invalid", "public": "public",
    "private": "private", "input": "input", "output": "output", "client": "client", "server": "server",
    "sync": "sync synchronous synchronously blocking", "async": "async asynchronous asynchronously nonblocking",
    "not": "not no never without non none nothing cannot", "sum": "sum total", "product": "product",
    "mean": "average avg", "median": "median", "mode": "mode", "count": "count", "unique": "unique distinct",
    "duplicate": "duplicate duplicates repeated repeating", "iterative": "iterative iteratively loop",
    "recursive": "recursive recursively recursion", "union": "union", "intersection": "intersection",
    "inner": "inner", "outer": "outer", "horizontal": "horizontal horizontally",
    "vertical": "vertical vertically", "celsius": "celsius", "fahrenheit": "fahrenheit", "kelvin": "kelvin",
    "km": "km kilometer kilometers kilometres", "mile": "mile miles", "second": "second seconds",
    "minute": "minute minutes", "hour": "hour hours hourly", "day": "day days daily", "week": "week weeks weekly",
    "month": "month months monthly", "year": "year years yearly annual", "red": "red", "green": "green",
    "blue": "blue", "black": "black", "white": "white", "yellow": "yellow", "orange": "orange", "purple": "purple",
    "grey": "grey gray", "consonant": "consonant consonants", "vowel": "vowel vowels", "letter": "letter letters",
    "digit": "digit digits", "word": "word words", "line": "line lines", "column": "column columns",
    "row": "row rows", "character": "character characters char chars", "file": "file files",
    "directory": "directory directories folder folders", "key": "key keys", "value": "value values",
    "success": "success succeed successful", "failure": "failure fail failed failing",
}  # fmt: skip
# Verbs that open an instruction ("Write a function ...") rather than name an operation.
_INSTRUCTIONS = frozenset({"write"})
POLAR = {word: group for group, words in _GROUPS.items() for word in words.split()}
_SENTENCES = re.compile(r"(?<=[.!?:;])\s+|\n+")
_TOKENS = re.compile(r"[A-Za-z0-9_#+./]*[A-Za-z0-9#+]")
_IDENTIFIER = re.compile(r".*([_./#+]|[A-Za-z]\d|\d[A-Za-z]).*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_UNITS = re.compile(r"\b(\d+)(px|ms|s|m|h|d|k|kb|mb|gb)\b", re.IGNORECASE)  # 800px is 800 (the unit is a word)
_STOP_WORDS = frozenset(
    _split(
        "a an the of in on at to for from by with into onto using use via and or but if then than that this these "
        "those it its is are be been being was were do does did how what which who whom whose why when where i me my "
        "we our you your give show tell please can could would should will shall may might must just also all any "
        "each every some so as such there here write create make implement generate build return returns function "
        "method code script program snippet given way one using something want need help let"
    )
)
_SUFFIXES = ("ing", "ed", "es", "s")


def _term(token: str, first: bool) -> str | None:
    lower = token.lower()
    if first and lower in _INSTRUCTIONS:
        return None
    if _NUMBER.fullmatch(token):
        return token.replace(",", "")
    if lower in _NUMBER_WORDS:
        return _NUMBER_WORDS[lower]
    if lower in NAMES:
        return NAMES[lower]
    polar = POLAR.get(lower) or POLAR.get(_stem(lower))
    if polar is not None:
        return polar
    if _IDENTIFIER.fullmatch(token):
        return lower
    inner_capital = any(c.isupper() for c in token[1:])
    if inner_capital or (token[0].isupper() and not first and len(token) > 1):
        return lower
    return None


def salient_terms(text: str) -> tuple[str, ...]:
    """The request's salient terms, as a sorted set: a paraphrase may reorder them ("a Python function to
    download a file" / "download a file using Python"); direction is `comparable`'s concern."""
    terms: set[str] = set()
    for sentence in _SENTENCES.split(text):
        for i, token in enumerate(_TOKENS.findall(_UNITS.sub(r"\1", sentence.replace("-", " ")))):
            token = token.rstrip("./")
            term = _term(token, first=i == 0) if token else None
            if term is not None:
                terms.add(term)
    return tuple(sorted(terms))


def _stem(word: str) -> str:
    """A crude stem: enough for "reads" and "read", "methods" and "method" to meet."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> tuple[str, ...]:
    """The request's content words, stemmed, in order of first use."""
    seen: dict[str, None] = {}
    for token in re.findall(r"[a-z0-9_#+]+", text.lower().replace("-", " ")):
        if token not in _STOP_WORDS:
            seen.setdefault(_NUMBER_WORDS.get(token) or _stem(token), None)
    return tuple(seen)


def comparable(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether the embedding may judge these two requests alike (see the module docstring)."""
    words_a, words_b = set(a), set(b)
    return [w for w in a if w in words_b] == [w for w in b if w in words_a]
