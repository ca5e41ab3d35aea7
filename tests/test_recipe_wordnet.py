"""WordNet caption expansion read from Debian's wordnet-base files (declared in tests/external.py)."""

from __future__ import annotations

import pytest

from training.recipes.default.data.wordnet import WordNet, expand_description


@pytest.fixture(scope="module")
def wordnet():
    return WordNet()


def test_rooster_also_trains_chicken_and_bird(wordnet):
    related = wordnet.related("rooster")
    assert "chicken" in related and "bird" in related and "cock" in related


def test_a_noun_outside_the_sound_categories_is_left_alone(wordnet):
    assert wordnet.related("bark") == []  # a tree's bark reaches no sound category
    assert wordnet.related("ride") == []  # used more as a verb than as a noun


def test_the_head_noun_of_a_description_is_swapped(wordnet):
    expanded = expand_description("rooster crowing", wordnet)
    assert "chicken crowing" in expanded and "bird crowing" in expanded
    assert all(e.endswith("crowing") for e in expanded)


def test_plurals_find_their_lemma(wordnet):
    assert wordnet.lemma("dogs") == "dog"


def test_a_missing_database_says_how_to_install_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        WordNet(tmp_path)
