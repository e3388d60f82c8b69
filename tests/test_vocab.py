"""The code lists in lupuscell.vocab agree with the instruments that restate them as types."""

from __future__ import annotations

from typing import get_args

from lupuscell import vocab
from lupuscell.instruments import response, sledai2k


def test_sledai_descriptors_agree_everywhere() -> None:
    assert sledai2k.DESCRIPTORS == vocab.SLEDAI_2K_DESCRIPTORS
    assert get_args(sledai2k.Descriptor) == vocab.SLEDAI_2K_DESCRIPTORS
    assert sum(sledai2k.WEIGHTS[d] for d in vocab.SLEDAI_2K_DESCRIPTORS) == 105


def test_bilag_domains_and_grades_agree() -> None:
    assert response.BILAG_DOMAINS == vocab.BILAG_DOMAINS
    assert get_args(response.BilagDomain) == vocab.BILAG_DOMAINS
    assert get_args(response.BilagGrade) == vocab.BILAG_GRADES
