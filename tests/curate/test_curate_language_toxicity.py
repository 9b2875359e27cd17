"""Language and script of the response; toxicity by word list and by a local classifier."""

from __future__ import annotations

import pytest
from curate_helpers import FEMALE, make_example

from speechsift.curate import CurateConfig, Curator, score_examples
from speechsift.curate.language import LanguageScorer, script_profile
from speechsift.curate.text import ResponseText
from speechsift.curate.toxicity import ToxicityScorer, WordList, load_word_lists
from speechsift.errors import ConfigError


def scored(example, config: CurateConfig | None = None):
    score_examples([example], config)
    return example.quality


# --- language -------------------------------------------------------------------------------------


def test_a_french_response_to_an_english_clip():
    q = scored(make_example("Félicitations pour ton nouveau travail, je suis tellement content pour toi !",
                            task="sift_ssp", meta=FEMALE))
    assert q["language_detected"] == "fr" and q["language_match"] is False and q["language_method"] == "lingua"
    assert q["language_confidence"] > 0.9


def test_an_english_response_is_accepted_on_its_common_words_or_by_lingua():
    text = 'Sounds like a young woman saying "je suis contente" quickly, in a happy, upbeat tone.'
    q = scored(make_example(text, meta=FEMALE))
    assert (q["language_detected"], q["language_match"], q["language_method"]) == ("en", True, "common_words")
    q = scored(make_example(text, meta=FEMALE), CurateConfig(language_fast_path=False))
    assert (q["language_detected"], q["language_match"], q["language_method"]) == ("en", True, "lingua")


@pytest.mark.parametrize(("language", "response"), [
    ("de", "Herzlichen Glückwunsch zum neuen Job, das ist wirklich toll!"),
    ("it", "Congratulazioni per il nuovo lavoro, sono davvero felice per te!"),
    ("es", "¡Felicidades por tu nuevo trabajo, estoy muy feliz por ti!"),
    ("fr", "Félicitations pour ton nouveau travail, je suis tellement content pour toi !"),
])
def test_responses_in_the_clips_language_match(language, response):
    for fast in (True, False):
        q = scored(make_example(response, task="sift_ssp", meta=FEMALE, language=language),
                   CurateConfig(language_fast_path=fast))
        assert q["language_detected"] == language and q["language_match"] is True, (fast, q)


@pytest.mark.parametrize("text", ["my brother won my siege", "he can't find my administration this weekend",
                                  "he won our angeles in the garden"])
def test_short_plain_english_is_english_for_lingua_too(text):
    # Lingua's low-accuracy mode calls these German, French and German with confidence >= 0.9.
    q = scored(make_example(text, task="transcription"), CurateConfig(language_fast_path=False))
    assert (q["language_method"], q["language_detected"], q["language_match"]) == ("lingua", "en", True)


def test_short_responses_and_other_languages_are_not_language_checked():
    q = scored(make_example("Congrats!", task="sift_s"))
    assert "language_match" not in q and q["language_script"] == "latin"
    q = scored(make_example("Поздравляю с новой работой, это отлично!", task="transcription", language="ru"))
    assert "language_match" not in q  # a Russian transcript: Russian is outside the configured languages
    assert q["language_script"] == "cyrillic" and q["language_script_ratio"] == 1.0


def test_responses_in_the_wrong_script():
    q = scored(make_example("Congratulations on the new job, that is great!", task="transcription", language="ru"))
    assert q["language_script_ratio"] == 0.0 and q["language_script"] == "latin"
    q = scored(make_example("おめでとう、新しい仕事!", task="transcription", language="ja"))
    assert q["language_script_ratio"] == 1.0  # kana and kanji are both Japanese
    q = scored(make_example("Congratulations! おめでとう", task="sift_s", language="en"))
    assert 0.0 < q["language_script_ratio"] < 1.0


def test_text_a_backend_wrote_is_checked_against_the_language_the_tasks_write_in():
    # The tasks write in the clip's language when it is one of en, de, fr, it, es, else in English
    # (tasks.base.written_language): an English reply to a Russian clip is what was asked for.
    q = scored(make_example("Congratulations on the new job, that is great!", task="sift_s", language="ru"))
    assert (q["language_detected"], q["language_match"], q["language_script_ratio"]) == ("en", True, 1.0)
    q = scored(make_example("Поздравляю с новой работой, это отлично!", task="sift_s", language="ru"))
    assert q["language_script_ratio"] == 0.0
    q = scored(make_example("Herzlichen Glückwunsch zum neuen Job, das ist wirklich toll!", task="sift_s",
                            language="de-DE"))
    assert q["language_match"] is True


def test_script_profile():
    assert script_profile("hello") == ("latin", {"latin": 1})
    assert script_profile("123 !!") == (None, {})
    assert script_profile("Grüße, Ελλάδα")[1] == {"latin": 5, "greek": 6}


def test_an_unknown_language_code_is_a_clear_error():
    scorer = LanguageScorer(["en", "xx"], fast_path=False)
    example = make_example("Sounds like a woman saying hello there.", meta=FEMALE)
    with pytest.raises(ValueError, match="xx"):
        scorer.score(example, ResponseText(example, 4000))


# --- toxicity: word list --------------------------------------------------------------------------


def test_shipped_word_lists_are_real_lists():
    lists = load_word_lists()
    assert set(lists) == {"en", "de", "fr", "it", "es"}
    assert len(lists["en"]) > 250 and all(len(lists[lang]) > 30 for lang in lists)


@pytest.mark.parametrize(("response", "language", "terms"), [
    ("Shut up, you stupid bitch.", "en", "bitch"),
    ("What a piece of shit that car was.", "en", "piece of shit, shit"),
    ("Du bist so ein Arschloch.", "de", "arschloch"),
    ("Quel connard, celui-là.", "fr", "connard"),
])
def test_toxic_responses(response, language, terms):
    q = scored(make_example(response, task="sift_s", language=language))
    assert q["toxicity_score"] == 1.0 and q["toxicity_wordlist"] == 1.0 and q["toxicity_terms"] == terms
    assert "toxicity_classifier" not in q  # no model configured


@pytest.mark.parametrize(("response", "language"), [
    ("Ugh, that sucks, I'm sorry you got tied up at work.", "en"),  # entries removed from LDNOOBW
    ("Sounds like a man saying the sex of the puppy is still unknown.", "en"),
    ("Il pesce era buonissimo, e la regina ha riso.", "it"),
    ("La queue était longue devant la boulangerie.", "fr"),
    ("Congratulations, you earned it!", "en"),
])
def test_everyday_words_are_not_toxic(response, language):
    q = scored(make_example(response, task="sift_s", language=language))
    assert q["toxicity_score"] == 0.0 and q["toxicity_terms"] is None


def test_word_list_matching_is_by_whole_words_and_phrases():
    wordlist = WordList(["shit", "piece of shit", "s&m", "g-spot"])
    assert wordlist.find(["shitake", "mushrooms"]) == []
    assert wordlist.find(["a", "piece", "of", "shit"]) == ["piece of shit", "shit"]
    assert wordlist.find(["s&m", "and", "g-spot"]) == ["s&m", "g-spot"]


def test_a_custom_word_list_replaces_a_language(tmp_path):
    path = tmp_path / "en.txt"
    path.write_text("# mine\nbroccoli\n", encoding="utf-8")
    q = scored(make_example("I hate broccoli so much.", task="sift_s"), CurateConfig(toxicity_wordlists={"en": path}))
    assert q["toxicity_terms"] == "broccoli"
    with pytest.raises(ConfigError, match="not a file"):
        ToxicityScorer(wordlists={"en": tmp_path / "missing.txt"})


# --- toxicity: a local classifier -----------------------------------------------------------------


def build_tiny_classifier(folder, labels=("non-toxic", "toxic")):
    """A randomly initialised BERT sequence classifier and a word-level tokenizer, saved to ``folder``."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    words = ["you", "are", "a", "stupid", "idiot", "congratulations", "on", "the", "new", "job", "great", "i",
             "love", "it", "shut", "up"]
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", model_max_length=64)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def test_a_local_classifier_scores_toxicity(tmp_path):
    folder = build_tiny_classifier(tmp_path / "tiny-toxic")
    texts = ["Congratulations on the new job!", "Shut up, you stupid idiot.", "   ", "Great, I love it."]
    examples = [make_example(text, task="sift_s", clip_id=f"src/c{i}") for i, text in enumerate(texts)]
    curator = Curator(CurateConfig(toxicity_model=folder))
    curator.score(examples)
    for example in examples:
        q = example.quality
        if example.response.strip():
            assert 0.0 <= q["toxicity_classifier"] <= 1.0
            assert q["toxicity_score"] == max(q["toxicity_classifier"], q["toxicity_wordlist"])
        else:
            assert "toxicity_classifier" not in q
        assert "toxicity_error" not in q
    # The same text scores the same in any batch.
    again = make_example("Congratulations on the new job!", task="sift_s")
    curator.score([again])
    assert again.quality["toxicity_classifier"] == pytest.approx(examples[0].quality["toxicity_classifier"], abs=1e-6)


def test_classifier_labels(tmp_path):
    from speechsift.curate.toxicity import ToxicityClassifier

    folder = build_tiny_classifier(tmp_path / "three", labels=("neutral", "insult", "threat"))
    assert ToxicityClassifier(folder).toxic_labels == {"insult", "threat"}
    assert ToxicityClassifier(folder, labels=["threat"]).toxic_labels == {"threat"}
    with pytest.raises(ConfigError, match="not among the model's labels"):
        ToxicityClassifier(folder, labels=["toxic"])
    with pytest.raises(ConfigError, match="not a folder"):
        ToxicityClassifier(tmp_path / "nowhere")
