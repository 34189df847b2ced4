"""Pseudonyms for personal data in identifier fields: stable, distinct, keyed, valid ids."""

from __future__ import annotations

import pytest

from complaints.identifiers import pseudonym, without_personal_identifiers
from streams.codec import decode_valid, encode_record
from streams.records import LogisticsChange, SocialPost, Source
from tests.factories import make_event

KEY = b"k" * 32


class TestPseudonym:
    @pytest.mark.parametrize("value", ["cust-1", "华东-上海", "SO2026010413800138000", "小王"])
    def test_values_without_personal_data_are_unchanged(self, value: str) -> None:
        """Ordinary ids, names and regions pass untouched."""
        assert pseudonym(value, KEY, max_length=64) == value

    @pytest.mark.parametrize(
        ("value", "readable"),
        [
            ("13912345678", "139xxxx5678#"),
            ("c-13912345678", "c-139xxxx5678#"),
            ("139.1234.5678", "139xxxx5678#"),
            ("wang@example.com", "wxxx@example.com#"),
        ],
    )
    def test_personal_data_becomes_a_readable_pseudonym(self, value: str, readable: str) -> None:
        """The masked form stays readable; a digest follows the '#'."""
        out = pseudonym(value, KEY, max_length=128)
        assert out.startswith(readable) and len(out) == len(readable) + 10

    def test_the_same_value_gives_the_same_pseudonym_and_others_differ(self) -> None:
        """Joins keep working; two phones that share prefix and suffix stay two customers."""
        a1, a2 = (
            pseudonym("13912345678", KEY, max_length=128),
            pseudonym("13912345678", KEY, max_length=128),
        )
        b = pseudonym("13998765678", KEY, max_length=128)
        assert a1 == a2 and a1 != b and a1[:11] == b[:11]

    def test_without_the_key_the_number_cannot_be_recomputed(self) -> None:
        """Another key gives another digest: the pseudonym is no plain hash of the phone."""
        assert pseudonym("13912345678", KEY, max_length=128) != pseudonym(
            "13912345678", b"other", max_length=128
        )

    def test_the_field_limit_is_kept(self) -> None:
        """A long id with a phone in it is cut before the digest, never past the limit."""
        out = pseudonym("x" * 120 + "-13912345678", KEY, max_length=128)
        assert len(out) <= 128 and "#" in out


class TestRecords:
    def test_a_post_by_a_phone_number_is_pseudonymised_and_still_valid(self) -> None:
        """Author, region, product and customer become pseudonyms; the record re-validates."""
        post = SocialPost.model_validate(
            make_event(
                Source.SOCIAL,
                author="13787654321",
                region="华东 13912345678",
                product="手机13787654321",
                customer_id="c-13912345678",
                url="https://weibo.example/u/13787654321",
            )
        ).model_copy(update={"source": Source.SOCIAL})
        clean = without_personal_identifiers(post, KEY)
        assert isinstance(clean, SocialPost)
        for field in ("author", "region", "product", "customer_id"):
            value = getattr(clean, field)
            assert "1378765" not in value and "1391234" not in value, field
        assert clean.url is not None and "13787654321" not in clean.url
        assert clean.text == post.text  # the scorer reads the words as written
        assert decode_valid(encode_record(clean)) == clean

    def test_a_clean_record_is_returned_as_it_is(self) -> None:
        """Nothing to hide: the very same object comes back."""
        change = LogisticsChange.model_validate(make_event(Source.LOGISTICS))
        assert without_personal_identifiers(change, KEY) is change
