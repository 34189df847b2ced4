"""The lexicon files: they load, agree on a version, cite a source, and a broken one fails at load
naming the file and the field."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from complaints.lexicon import (
    DEFAULT_DIR,
    FILES,
    LexiconError,
    default_lexicon,
    load_lexicon,
    parse_lexicon,
)
from complaints.scoring import SCORER_VERSION

SNOWNLP_ZH = (
    Path(__import__("complaints.polarity._modelfiles", fromlist=["snownlp_dir"]).snownlp_dir())
    / "normal"
    / "zh.py"
)


def shipped() -> dict[str, str]:
    return {
        name: (DEFAULT_DIR / filename).read_text(encoding="utf-8")
        for name, filename in FILES.items()
    }


class TestShipped:
    def test_loads_and_versions_agree(self) -> None:
        """The shipped lexicon validates; its version is the scorer's version."""
        lexicon = default_lexicon()
        assert lexicon.version == SCORER_VERSION
        for name in FILES:
            assert getattr(lexicon, name).version == lexicon.version

    def test_every_file_cites_its_source(self) -> None:
        """Each file says where its content came from, in its header and in `source`."""
        for name, filename in FILES.items():
            text = (DEFAULT_DIR / filename).read_text(encoding="utf-8")
            assert text.startswith("#"), filename
            assert "rovenance" in text or "Provenance" in text or "source" in text, filename
            assert getattr(default_lexicon(), name).source

    def test_load_from_a_directory(self, tmp_path: Path) -> None:
        for filename in FILES.values():
            (tmp_path / filename).write_text(
                (DEFAULT_DIR / filename).read_text(encoding="utf-8"), encoding="utf-8"
            )
        assert load_lexicon(tmp_path) == default_lexicon()

    def test_t2s_agrees_with_snownlp(self) -> None:
        """Every traditional -> simplified entry is snownlp's own (normal/zh.py, MIT)."""
        tree = ast.parse(SNOWNLP_ZH.read_text(encoding="utf-8"))
        table: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "zh2hans":
                assert isinstance(node.value, ast.Dict)
                for k, v in zip(node.value.keys, node.value.values, strict=True):
                    assert isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                    table[str(k.value)] = str(v.value)
        chars = default_lexicon().t2s.chars
        assert len(chars) > 2500
        assert all(table.get(k) == v for k, v in chars.items())


def broken(name: str, old: str, new: str) -> dict[str, str]:
    texts = shipped()
    assert old in texts[name], (name, old)
    texts[name] = texts[name].replace(old, new, 1)
    return texts


BAD = [
    # (case, file, old text, new text, what the error must name)
    (
        "threshold out of range",
        "scoring",
        "  threshold: 0.",
        "  threshold: 1.",
        "scoring.yaml: negativity.threshold",
    ),
    (
        "unknown field",
        "scoring",
        "  bias:",
        "  bais: 0\n  bias:",
        "scoring.yaml: negativity.bais: Extra inputs",
    ),
    (
        "missing weight",
        "scoring",
        "    threat:",
        "    threat_typo:",
        "scoring.yaml: negativity.weights.threat",
    ),
    (
        "fallback not negative",
        "scoring",
        "  fallback: disappointment",
        "  fallback: positive",
        "scoring.yaml: emotion",
    ),
    ("speech bands reversed", "scoring", "  fast: 5.5", "  fast: 9.5", "scoring.yaml: speech_rate"),
    (
        "bad channel",
        "scoring",
        "distancing_channels: [call]",
        "distancing_channels: [fax]",
        "scoring.yaml: distancing_channels.0",
    ),
    ("weight too large", "polarity", "  差: 2\n", "  差: 50\n", "polarity.yaml: negative.差"),
    (
        "term with a space",
        "polarity",
        "  差: 2\n",
        "  差 劲: 2\n",
        "polarity.yaml: negative.差 劲.[key]",
    ),
    ("duplicate key", "polarity", "  差: 2\n", "  差: 2\n  差: 3\n", "duplicate key '差'"),
    ("both directions", "polarity", "  好: 0.5\n", "  好: 0.5\n  差劲了: 1\n", None),
    ("bad regex", "cues", "  - '第[二三", "  - '(第[二三", "cues.yaml: repeat_contact"),
    (
        "unknown emotion",
        "emotions",
        "  apathy:\n",
        "  joy:\n    开心: 1\n  apathy:\n",
        "emotions.yaml: emotions.joy",
    ),
    (
        "unknown category",
        "categories",
        "  other: {}",
        "  other: {}\n  weather: {}",
        "categories.yaml: categories.weather",
    ),
    ("traditional term", "categories", "    售后: 3\n", "    售後服務: 3\n", "simplified"),
    ("version mismatch", "cues", 'version: "2026.12.6"', 'version: "2026.01.4"', "version differs"),
    (
        "bad version",
        "scoring",
        'version: "2026.12.6"',
        'version: "latest"',
        "scoring.yaml: version",
    ),
]


BAD += [
    # issue #18's files
    (
        "intent cap out of range",
        "intent",
        "ask_max_negativity: 0.3",
        "ask_max_negativity: 1.3",
        "intent.yaml: ask_max_negativity",
    ),
    ("intent bad regex", "intent", "  - '请问|想问", "  - '(请问|想问", "intent.yaml: asked"),
    (
        "unknown content signal",
        "intent",
        "signals: [threat,",
        "signals: [thret,",
        "intent.yaml: content.signals",
    ),
    (
        "demand without objects",
        "demands",
        "    objects: ['道歉', '赔礼道歉', '赔不是']",
        "    objects: []",
        "demands.yaml: kinds.道歉.objects",
    ),
    (
        "grievance to a positive emotion",
        "grievances",
        "    emotions: {anger: 2.5}\n    categories: {price: 3}",
        "    emotions: {positive: 2.5}\n    categories: {price: 3}",
        "grievances.yaml: groups.money_taken",
    ),
    (
        "grievance to an unknown category",
        "grievances",
        "categories: {price: 3}",
        "categories: {fees: 3}",
        "grievances.yaml: groups.money_taken.categories.fees",
    ),
    (
        "unknown noun kind",
        "domains",
        "  fee: {price: 2.5}",
        "  fee: {price: 2.5}\n  brand: {other: 1}",
        "domains.yaml: kinds.brand",
    ),
    (
        "grouping window after forget",
        "grouping",
        "forget_after: 72h",
        "forget_after: 1h",
        "grouping.yaml: (file)",
    ),
    (
        "symptom form in two classes",
        "grouping",
        "  鼓包: [鼓包, 鼓起来]",
        "  鼓包: [鼓包, 鼓起来, 冒烟]",
        "belongs to both",
    ),
]


class TestBroken:
    @pytest.mark.parametrize(("case", "name", "old", "new", "names"), BAD, ids=[b[0] for b in BAD])
    def test_error_names_the_field(
        self, case: str, name: str, old: str, new: str, names: str | None
    ) -> None:
        """A broken file fails at load; the message names the file and the field."""
        texts = broken(name, old, new)
        if names is None:  # a valid change: it must still load
            parse_lexicon(texts)
            return
        with pytest.raises(LexiconError) as info:
            parse_lexicon(texts)
        assert names in str(info.value), str(info.value)

    def test_a_term_in_both_directions_is_refused(self) -> None:
        texts = broken("polarity", "  好: 0.5\n", "  好: 0.5\n  不错了: 1\n")
        texts["polarity"] = texts["polarity"].replace(
            "\npositive:\n", "\npositive:\n  差劲: 1\n", 1
        )
        with pytest.raises(LexiconError, match="both negative and positive: 差劲"):
            parse_lexicon(texts)

    def test_missing_file(self) -> None:
        texts = shipped()
        del texts["cues"]
        with pytest.raises(LexiconError, match=r"cues\.yaml: missing"):
            parse_lexicon(texts)

    def test_not_yaml(self) -> None:
        texts = shipped()
        texts["emotions"] = "emotions: [unclosed"
        with pytest.raises(LexiconError, match=r"emotions\.yaml: not valid YAML"):
            parse_lexicon(texts)
