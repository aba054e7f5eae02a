"""Quote attribution (qa.quotes.attribute) and the "what did X say" parser, on crafted text.

Expected speakers and sentences are read off the inputs written here.
"""

from __future__ import annotations

import pytest

from qa.ingest.passages import split_sentences
from qa.quotes.attribute import attribute
from qa.quotes.question import speaker_question


def said(passages: list[str]) -> dict[str, tuple[str, str]]:
    """sentence text -> (speaker, kind) for an article of these passages."""
    out = {}
    for text, quotes in zip(passages, attribute(passages)):
        for q in quotes:
            out[text[q.start:q.end]] = (q.speaker, q.kind)
    return out


def test_title_bound_to_a_name_resolves_the_title_and_the_pronoun():
    article = [
        "Kremlin spokesman Dmitry Peskov said on Monday that talks had stalled.",
        "\u201cThere is no progress,\u201d the Kremlin spokesman added. Peskov also noted that "
        "the sides would meet again.",
        "Prices of grain rose in Kazan.\nHe warned that sanctions would fail.",
    ]
    found = said(article)
    assert found["Kremlin spokesman Dmitry Peskov said on Monday that talks had stalled."] == (
        "Dmitry Peskov", "indirect")
    assert found["\u201cThere is no progress,\u201d the Kremlin spokesman added."] == (
        "Dmitry Peskov", "direct")
    assert found["Peskov also noted that the sides would meet again."][0] == "Dmitry Peskov"
    assert found["He warned that sanctions would fail."][0] == "Dmitry Peskov"  # a later passage
    assert "Prices of grain rose in Kazan." not in found


def test_every_sentence_of_a_quotation_spanning_sentences_is_marked():
    text = ('Mary Smith, the chief executive, said: "We had a hard year. Sales fell. '
            '"But we expect growth next year."')
    found = said([text])
    assert set(found) == {text[a:b] for a, b in split_sentences(text)}
    assert {speaker for speaker, _ in found.values()} == {"Mary Smith"}
    assert {kind for _, kind in found.values()} == {"direct"}


def test_quote_before_its_attribution_takes_the_attributed_speaker():
    text = "\u201cWe will not give in. Never,\u201d said John Brown, the union leader."
    found = said(["John Brown leads the union.", text])
    assert set(found.values()) == {("John Brown", "direct")}
    assert len(found) == len(split_sentences(text))


@pytest.mark.parametrize("sentence,speaker", [
    ("Rates will stay on hold, the Bank of England said.", "the Bank of England"),
    ("According to Finance Minister Anna Berg, the deficit will shrink.", "Anna Berg"),
    ("Inflation is falling, Anna Berg told reporters.", "Anna Berg"),
    ("Anna Berg, speaking in Oslo, stressed that the budget was balanced.", "Anna Berg"),
])
def test_reported_speech_forms(sentence, speaker):
    found = said(["Norway's finance minister Anna Berg met bankers.", sentence])
    assert found[sentence] == (speaker, "indirect")


@pytest.mark.parametrize("sentence", [
    "The vote is due to be taken on Wednesday.",
    "According to figures released on Monday, sales fell 3%.",
    "Security concerns are said to be a major reason for the delay.",
    'The film "Gone with the Wind" was shown again.',
])
def test_sentences_that_report_no_speech_are_not_quotes(sentence):
    assert said(["Anna Berg met bankers in Oslo.", sentence]) == {}


def test_she_means_the_woman_not_the_last_speaker():
    article = ["Barbara Roche said an independent body was needed. Sir Andrew Green says "
               "there is no need for one. Ms Roche disagrees with him. She said figures "
               "should be published."]
    found = said(article)
    assert found["She said figures should be published."][0] == "Barbara Roche"
    assert found["Sir Andrew Green says there is no need for one."][0] == "Sir Andrew Green"


def test_quote_offsets_are_sentence_spans_of_the_passage():
    passage = "Headline words\nThe minister, Tom Lee, said: \u201cWe act now.\u201d Others agreed."
    (quotes,) = attribute([passage])
    spans = set(split_sentences(passage))
    assert quotes and all((q.start, q.end) in spans for q in quotes)


def test_unnamed_spokespeople_keep_their_organisation():
    found = said(['A spokeswoman for Royal Mail said: "We are looking into it."',
                  "She said letters would arrive by Friday."])
    assert found["She said letters would arrive by Friday."][0] == "a spokeswoman for Royal Mail"


def test_a_place_or_thing_is_never_the_person_a_pronoun_means():
    article = ['Paul Ricard poured the Chateau Margaux into two glasses. "The Chateau '
               'Margaux is rich, but it needs time," he says.',
               "Downing Street said the visit was private. It said no talks were planned."]
    found = said(article)
    assert found['"The Chateau Margaux is rich, but it needs time," he says.'][0] == "Paul Ricard"
    assert found["It said no talks were planned."][0] == "Downing Street"


def test_mr_and_a_surname_never_means_someone_of_that_first_name():
    found = said(["Howard Pike, a local MP, was dropped by the party. Michael Howard leads it.",
                  "Mr Howard insisted he had played by the rules."])
    assert found["Mr Howard insisted he had played by the rules."][0] == "Michael Howard"


@pytest.mark.parametrize("sentence,speaker", [
    ('"Costs rose," said chief financial officer Ann Ward.', "Ann Ward"),
    ("Tom Reed, managing director of ISP Netline said that prices would fall.", "Tom Reed"),
    ("Acme backed the plan but said more checks were needed.", "Acme Corp"),
    ("Market analysts Ovum welcomed the plan, saying it went far enough.", "Ovum"),
    ("The firm is predicting that profits will rise.", "Acme Corp"),
])
def test_speakers_around_titles_and_coordinated_verbs(sentence, speaker):
    found = said(["Acme Corp shares rose on Monday.", sentence])
    assert found[sentence][0] == speaker


def test_groups_of_people_speak_but_are_not_the_company():
    article = ["Acme Corp made a loss. Analysts said the loss was expected.",
               "Mr Reed's supporters also say they have enough votes.",
               "The company warned that jobs would go."]
    found = said(article)
    assert found["Analysts said the loss was expected."][0].lower() == "analysts"
    assert found["Mr Reed's supporters also say they have enough votes."][0] == "Mr Reed's supporters"
    assert found["The company warned that jobs would go."][0] == "Acme Corp"


def test_it_is_the_organisation_its_own_sentence_names():
    sentence = "Qantas shares fell 3% after it warned that growth would slow."
    assert said(["Profits at the airline rose.", sentence])[sentence][0] == "Qantas"


def test_a_pronoun_after_a_fronted_phrase_is_not_the_name_inside_it():
    article = ["Finance minister Ravi Das argued that trade rules were unfair.",
               "At a dinner hosted by Chancellor Gordon Brown on Friday, he said that "
               "rates should float."]
    found = said(article)
    assert found["At a dinner hosted by Chancellor Gordon Brown on Friday, he said that "
                 "rates should float."][0] == "Ravi Das"


def test_a_he_before_the_name_is_the_person_named_next():
    article = ["In London, rich nations were attacked over trade.",
               "He objected to farm subsidies.",
               "Ravi Das, the finance minister, argued that the rules must change."]
    found = said(article)
    assert found["He objected to farm subsidies."][0] == "Ravi Das"


def test_according_to_x_claims_about_y_but_relays_ys_words():
    lavrov = "According to Foreign Minister Sergei Lavrov, the envoys promised a reply."
    relayed = "According to the Daily Mail, chief executive Tom Reed said sales fell."
    found = said(["Sergei Lavrov met Tom Reed.", lavrov, relayed])
    assert found[lavrov][0] == "Sergei Lavrov"
    assert found[relayed][0] == "Tom Reed"


@pytest.mark.parametrize("sentence", [
    "Two councillors met the chairman on Tuesday but did not comment as they left.",
    "Mr Reed never said a word about it.",
])
def test_negated_speech_reports_nothing(sentence):
    assert sentence not in said(["Tom Reed met the chairman.", sentence])


def test_quoted_as_saying_names_the_one_quoted():
    sentence = 'Mr Reed was quoted in the Herald newspaper saying: "We will win."'
    assert said(["Tom Reed is a candidate.", sentence])[sentence][0] == "Tom Reed"


KNOWN = ["Dmitry Peskov", "the Kremlin", "Tony Blair", "Sergei Lavrov", "Russia"]


@pytest.mark.parametrize("question,speaker,topic", [
    ("what did Peskov say about tanks", "Dmitry Peskov", "tanks"),
    ("What has Dmitry Peskov said about the talks?", "Dmitry Peskov", "talks"),
    ("how did Blair react to the deal", "Tony Blair", "deal"),
    ("Lavrov's comments on Geneva", "Sergei Lavrov", "geneva"),
    ("what did Peskov also warn about Russia", "Dmitry Peskov", "also russia"),
])
def test_speaker_questions_name_the_speaker_and_the_topic(question, speaker, topic):
    names, found_topic = speaker_question(question, KNOWN)
    assert names == [speaker] and found_topic == topic


@pytest.mark.parametrize("question", [
    "Leopard tanks for Ukraine",  # no speech word
    "what did Washington promise Lavrov",  # Lavrov is not the one speaking
    "what did the Kremlin say about tanks",  # organisations are not boosted
    "what did Obama say about tanks",  # not a known speaker
])
def test_other_questions_are_not_speaker_questions(question):
    assert speaker_question(question, KNOWN) is None


def test_a_surname_means_the_most_quoted_person_and_their_bare_surname():
    known = ["Tony Blair", "Cherie Blair", "Mr Blair", "Blair"]  # most quoted first
    names, _ = speaker_question("what did Blair say about Iraq", known)
    assert set(names) == {"Tony Blair", "Mr Blair", "Blair"}
    names, _ = speaker_question("what did Cherie Blair say about Iraq", known)
    assert "Cherie Blair" in names and "Tony Blair" not in names
