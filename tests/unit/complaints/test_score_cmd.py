"""`kesu score` (kesu.score_cmd.score_lines): one JSON line out per line in, errors per line,
ids echoed, the same assessment as score_text, and no personal data in any output."""

from __future__ import annotations

import io
import json
from typing import Any

from complaints.masking import mask_personal_data
from complaints.scoring import score_text
from kesu.score_cmd import FIELDS, score_lines
from streams.records import Source


def run(data: bytes, channel: Source = Source.CALL) -> list[dict[str, Any]]:
    out = io.StringIO()
    score_lines(io.BytesIO(data), out, default_channel=channel)
    return [json.loads(line) for line in out.getvalue().splitlines()]


class TestScoreLines:
    def test_json_and_plain_lines(self) -> None:
        """JSON objects and plain text lines each give one result; ids are echoed."""
        data = (
            '{"id": "c-1", "text": "全送错了，要的热的给的冰的", "channel": "social"}\n'
            "等了2个多小时也是醉了\n"
            '{"id": 7, "text": "你们到底怎么回事？", "speech_rate": 6.8}\n'
        ).encode()
        rows = run(data)
        assert [r["line"] for r in rows] == [1, 2, 3]
        assert [r["id"] for r in rows] == ["c-1", None, 7]
        for row in rows:
            assert set(FIELDS) <= set(row)
            assert row["negative"] is True

    def test_same_as_score_text(self) -> None:
        """The command and the worker share one code path: score_text."""
        text = "快递三天了还没发货，客服也不回复，我要投诉！"
        row = run(json.dumps({"text": text, "channel": "social"}).encode())[0]
        expected = score_text(text, Source.SOCIAL).model_dump(mode="json")
        assert {k: row[k] for k in FIELDS} == {k: expected[k] for k in FIELDS}

    def test_default_channel_applies_to_plain_lines(self) -> None:
        """Plain lines use the default channel (你们 counts as distancing only on calls)."""
        text = "你们到底什么时候处理".encode()
        assert run(text, Source.CALL)[0]["intensity"] >= run(text, Source.SOCIAL)[0]["intensity"]

    def test_bad_lines_become_error_lines(self) -> None:
        """Every bad line gets an error line of its own; the good ones still score."""
        data = b"\n".join(
            [
                b'{"id": "a", "text": "ok"}',
                b'{"id": "b", "text": 5}',
                b'{"id": "c"}',
                b'{"id": "d", "text": "x", "channel": "fax"}',
                b'{"id": "e", "text": "x", "speech_rate": -1}',
                b'{"id": "f", "text": "x", "speech_rate": true}',
                b"{broken",
                b"[1, 2] is plain text: only lines starting with { are JSON",
                b"\xff\xfe\xfd",
                b"",
                b"   ",
                b"last good line",
            ]
        )
        rows = run(data)
        errors = {r["line"]: r["error"] for r in rows if "error" in r}
        assert sorted(errors) == [2, 3, 4, 5, 6, 7, 9]
        assert [r["line"] for r in rows if "error" not in r] == [1, 8, 12]
        assert {r["id"] for r in rows if r["line"] in (2, 3, 4, 5, 6)} == {"b", "c", "d", "e", "f"}
        assert "channel must be one of" in str(errors[4])
        assert "not UTF-8" in str(errors[9])

    def test_no_personal_data_in_output(self) -> None:
        """Phones, IDs, cards and e-mails are masked in every output line, ids included; error
        messages never quote the input."""
        pii = ["13812345678", "440106199003071231", "6222021234567890128", "zhang.san@example.com"]
        data = (
            json.dumps(
                {
                    "id": "13900001111",
                    "text": f"电话{pii[0]} 身份证{pii[1]} 卡号{pii[2]} 邮箱{pii[3]} 退款还没到！",
                }
            )
            + "\n"
            + f"{pii[0]} {pii[3]}\n"
            + json.dumps({"id": "x", "text": pii[1], "channel": "nope"})
        ).encode()
        out = io.StringIO()
        score_lines(io.BytesIO(data), out, default_channel=Source.CALL)
        text = out.getvalue()
        for raw in [*pii, "13900001111"]:
            assert raw not in text
        for line in text.splitlines():
            for value in _strings(json.loads(line)):
                assert mask_personal_data(value).count == 0, value
        assert json.loads(text.splitlines()[0])["pii_found"] == [
            "mobile",
            "id_number",
            "bank_card",
            "email",
        ]

    def test_lone_surrogate_escapes_are_written(self) -> None:
        """A JSON \\ud800 escape (a lone surrogate) cannot break the output encoding."""
        rows = run(b'{"id": "\\ud800", "text": "\\udfff\xe5\xa5\xbd"}')
        assert rows[0]["masked_text"] == "\ufffd好"
        json.dumps(rows, ensure_ascii=False).encode("utf-8")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
