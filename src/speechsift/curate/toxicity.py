"""Toxicity: an offline word list by default, a local text-classification model when named.

Word list: the "List of Dirty, Naughty, Obscene, and Otherwise Bad Words" (LDNOOBW, CC BY 4.0;
the list C4 was filtered with) for en, de, fr, it and es, with the entries that are everyday words
in speech removed (each file's header names its source commit and every removed entry). A
response scores 1.0 when it contains a listed word or phrase (whole words, case-insensitive),
0.0 otherwise; the list of the example's language is used (English when the language has none).

Classifier: ``toxicity_model`` names a local folder holding a Hugging Face sequence-classification
model and its tokenizer (e.g. a copy of ``unitary/toxic-bert`` or
``s-nlp/roberta_toxicity_classifier``); it is loaded with ``local_files_only`` (nothing is
downloaded) and run through a transformers ``text-classification`` pipeline. Its score is the
highest probability among the toxic labels: ``toxicity_labels`` when given, otherwise every
label except the usual "clean" names (non-toxic, neutral, LABEL_0, ...).

``toxicity_score`` is the larger of the two, so a slur the classifier misses still counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.language import base_language
from speechsift.curate.text import WORD, ResponseText, data_path, read_word_list, written_language
from speechsift.errors import ConfigError
from speechsift.records import Example

SHIPPED_LANGUAGES = ("en", "de", "fr", "it", "es")
CLEAN_LABELS = frozenset({"non-toxic", "non_toxic", "nontoxic", "not toxic", "not_toxic", "neutral", "normal",
                          "clean", "safe", "ok", "label_0", "0", "none", "no"})
MAX_TERMS = 5


class WordList:
    """Whole-word and whole-phrase matching of one language's entries."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.words: set[str] = set()
        self.phrases: dict[str, set[tuple[str, ...]]] = {}  # first word -> phrases starting with it
        for entry in entries:
            tokens = tuple(WORD.findall(entry.lower()))
            if len(tokens) == 1:
                self.words.add(tokens[0])
            elif tokens:
                self.phrases.setdefault(tokens[0], set()).add(tokens)

    def __len__(self) -> int:
        return len(self.words) + sum(len(p) for p in self.phrases.values())

    def find(self, tokens: list[str]) -> list[str]:
        """The entries found in ``tokens`` (lower-cased words), in order of appearance, deduplicated."""
        words, phrases = self.words, self.phrases
        single = words.intersection(tokens)
        starts = phrases.keys() & set(tokens) if phrases else ()
        if not single and not starts:
            return []
        found: list[str] = []
        for i, token in enumerate(tokens):
            if token in single:
                found.append(token)
            if token in starts:
                for phrase in phrases[token]:
                    if tuple(tokens[i:i + len(phrase)]) == phrase:
                        found.append(" ".join(phrase))
        return list(dict.fromkeys(found))


def load_word_lists(overrides: Mapping[str, Path] | None = None) -> dict[str, WordList]:
    """The shipped lists, with ``overrides`` ({language: path}) replacing or adding languages."""
    paths = {lang: data_path(f"toxicity_{lang}.txt") for lang in SHIPPED_LANGUAGES}
    for lang, path in (overrides or {}).items():
        if not Path(path).is_file():
            raise ConfigError(f"curate.toxicity_wordlists.{lang}: {path} is not a file; give a text file with one "
                              "word or phrase per line")
        paths[base_language(lang) or lang] = Path(path)
    return {lang: WordList(read_word_list(path)) for lang, path in paths.items()}


class ToxicityClassifier:
    """A local sequence-classification model behind a transformers ``text-classification`` pipeline."""

    def __init__(self, path: Path, *, labels: Sequence[str] | None = None, device: str | None = None,
                 batch_size: int = 32, max_length: int = 512) -> None:
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(f"curate.toxicity_model: {path} is not a folder; give the local folder of a Hugging "
                              "Face text-classification model (config.json, weights and tokenizer files)")
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        except ImportError:
            raise ConfigError("curate.toxicity_model needs transformers and torch: "
                              "pip install 'speechsift[transformers]'") from None
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True).eval()
        self.pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None,
                             device=device or "cpu")
        names = [str(name) for name in model.config.id2label.values()]
        if labels:
            unknown = [label for label in labels if label not in names]
            if unknown:
                raise ConfigError(f"curate.toxicity_labels: {', '.join(unknown)} not among the model's labels "
                                  f"({', '.join(names)})")
            self.toxic_labels = frozenset(labels)
        else:
            self.toxic_labels = frozenset(n for n in names if n.lower() not in CLEAN_LABELS)
            if not self.toxic_labels:
                raise ConfigError(f"curate.toxicity_model: cannot tell which of the labels {', '.join(names)} means "
                                  "toxic; name them in curate.toxicity_labels")
        self.batch_size = batch_size
        self.max_length = max_length

    def scores(self, texts: Sequence[str]) -> list[float]:
        outputs: list[Any] = self.pipe(list(texts), batch_size=self.batch_size, truncation=True,
                                       max_length=self.max_length)
        result = []
        for output in outputs:
            if isinstance(output, dict):  # a single label came back
                output = [output]
            result.append(max((float(o["score"]) for o in output if o["label"] in self.toxic_labels), default=0.0))
        return result


class ToxicityScorer(Scorer):
    """``toxicity_wordlist`` (1.0: a listed word or phrase is present), ``toxicity_terms`` (the
    entries found), ``toxicity_classifier`` (the model's toxic probability; null without a model)
    and ``toxicity_score`` (the larger of the two)."""

    name = "toxicity"
    columns: ClassVar[dict[str, ColumnType]] = {
        "toxicity_score": "float",
        "toxicity_wordlist": "float",
        "toxicity_classifier": "float",
        "toxicity_terms": "str",
    }

    def __init__(self, *, wordlists: Mapping[str, Path] | None = None,
                 classifier: ToxicityClassifier | None = None) -> None:
        self.lists = load_word_lists(wordlists)
        self.classifier = classifier

    def _wordlist(self, example: Example, text: ResponseText) -> Scores:
        language = base_language(written_language(example)) or "en"
        wordlist = self.lists.get(language)
        if wordlist is None:
            wordlist = self.lists["en"]
        terms = wordlist.find(text.words)
        hit = 1.0 if terms else 0.0
        return {"toxicity_wordlist": hit, "toxicity_score": hit,
                "toxicity_terms": ", ".join(terms[:MAX_TERMS]) if terms else None}

    def score(self, example: Example, text: ResponseText) -> Scores:
        if text.empty:
            return {}
        return self._wordlist(example, text)

    def score_batch(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> list[Scores]:
        results = [self.score(example, text) for example, text in zip(examples, texts)]
        if self.classifier is None:
            return results
        todo = [i for i, text in enumerate(texts) if not text.empty]
        if todo:
            probabilities = self.classifier.scores([texts[i].text for i in todo])
            for i, probability in zip(todo, probabilities):
                results[i]["toxicity_classifier"] = probability
                results[i]["toxicity_score"] = max(probability, results[i]["toxicity_wordlist"])
        return results
