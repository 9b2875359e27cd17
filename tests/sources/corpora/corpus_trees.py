"""Fixture trees in each corpus's real layout, built by the tests: tiny tone files, real metadata files.

Each ``make_<corpus>(root)`` writes a small copy of the corpus as its distribution unpacks (a
handful of speakers, every label code the corpus uses) and returns the corpus folder.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from factories import write_tone

TONE_S = 0.05  # listing never decodes audio; the files are real but tiny


def tone(path: Path, **kwargs) -> Path:
    kwargs.setdefault("seconds", TONE_S)
    return write_tone(path, **kwargs)


# --- CREMA-D ----------------------------------------------------------------------------------

CREMA_SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
CREMA_EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
CREMA_LEVELS = ("LO", "MD", "HI", "XX")


def make_crema_d(root: Path, *, demographics: bool = True) -> Path:
    corpus = root / "CREMA-D"
    actors = {"1001": ("51", "Male"), "1002": ("21", "Female"), "1091": ("29", "Female")}
    for i, sentence in enumerate(CREMA_SENTENCES):
        actor = list(actors)[i % 3]
        emotion = CREMA_EMOTIONS[i % len(CREMA_EMOTIONS)]
        level = CREMA_LEVELS[i % len(CREMA_LEVELS)]
        tone(corpus / "AudioWAV" / f"{actor}_{sentence}_{emotion}_{level}.wav")
    if demographics:
        with (corpus / "VideoDemographics.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ActorID", "Age", "Sex", "Race", "Ethnicity"])
            for actor, (age, sex) in actors.items():
                if actor != "1091":  # an actor missing from the table
                    writer.writerow([actor, age, sex, "Caucasian", "Not Hispanic"])
    return corpus


# --- RAVDESS ----------------------------------------------------------------------------------


def ravdess_name(emotion: str, intensity: str = "01", statement: str = "01", repetition: str = "01",
                 actor: str = "01", channel: str = "01", modality: str = "03") -> str:
    return f"{modality}-{channel}-{emotion}-{intensity}-{statement}-{repetition}-{actor}.wav"


def make_ravdess(root: Path) -> Path:
    corpus = root / "Audio_Speech_Actors_01-24"
    for actor in ("01", "02", "23", "24"):
        for emotion in ("01", "02", "03", "04", "05", "06", "07", "08"):
            for intensity in (("01",) if emotion == "01" else ("01", "02")):
                statement = "01" if int(emotion) % 2 else "02"
                repetition = "02" if actor in ("23", "24") else "01"
                tone(corpus / f"Actor_{actor}" / ravdess_name(emotion, intensity, statement, repetition, actor))
    tone(corpus / "Actor_02" / ravdess_name("03", "02", "02", "01", "02", channel="02"))  # song
    return corpus


# --- TESS -------------------------------------------------------------------------------------

TESS_FOLDERS = {
    "OAF": {"angry": "angry", "disgust": "disgust", "Fear": "fear", "happy": "happy", "neutral": "neutral",
            "Pleasant_surprise": "ps", "Sad": "sad"},
    "YAF": {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral",
            "pleasant_surprised": "ps", "sad": "sad"},
}


def make_tess(root: Path) -> Path:
    corpus = root / "TESS Toronto emotional speech set data"
    for speaker, folders in TESS_FOLDERS.items():
        for folder, code in folders.items():
            for word in ("back", "youth"):
                tone(corpus / f"{speaker}_{folder}" / f"{speaker}_{word}_{code}.wav")
    return corpus


# --- SAVEE ------------------------------------------------------------------------------------

SAVEE_CODES = {"a": 15, "d": 15, "f": 15, "h": 15, "n": 30, "sa": 15, "su": 15}


def make_savee(root: Path, *, transcripts: bool = False) -> Path:
    corpus = root / "SAVEE"
    for speaker in ("DC", "JE", "JK", "KL"):
        for code in SAVEE_CODES:
            tone(corpus / "AudioData" / speaker / f"{code}01.wav")
        tone(corpus / "AudioData" / speaker / "n30.wav")
    if transcripts:
        lines = ["SAVEE sentences", "a01 Who authorized the unlimited expense account?",
                 "sa01 The prospect of cutting back spending is an unpleasant one for any governor.",
                 "DC_n30 She had your dark suit in greasy wash water all year.",
                 "KL_su02 A sentence for a clip that is not there."]
        (corpus / "Sentences.txt").write_text("\n".join(lines) + "\n")
    return corpus


# --- ESD --------------------------------------------------------------------------------------

ESD_EMOTIONS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")


def make_esd(root: Path) -> Path:
    corpus = root / "Emotion Speech Dataset"
    # 0011 (male) in UTF-16, 0016 (female) in Latin-1 with a line missing a tab; 0001 Mandarin in GB18030.
    speakers = {"0011": "utf-16", "0016": "latin-1", "0001": "gb18030"}
    for speaker, encoding in speakers.items():
        lines = []
        for k, emotion in enumerate(ESD_EMOTIONS):
            for split, offset in (("train", 1), ("evaluation", 2), ("test", 3)):
                utt = f"{speaker}_{k * 350 + offset:06d}"
                tone(corpus / speaker / emotion / split / f"{utt}.wav")
                text = "打远一看" if speaker == "0001" else f"Sentence {utt} café"
                label = {"Neutral": "中立"}.get(emotion, emotion) if speaker == "0001" else emotion
                sep = " " if (speaker == "0016" and offset == 2 and k == 0) else "\t"
                lines.append(f"{utt}\t{text}{sep}{label}")
        lines.append(f"{speaker}_001749\tA line for a clip that is not there.\tSurprise")
        (corpus / speaker / f"{speaker}.txt").write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return corpus


# --- Common Voice -----------------------------------------------------------------------------

CV_OLD_HEADER = ["client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accent", "locale", "segment"]
CV_NEW_HEADER = ["client_id", "path", "sentence_id", "sentence", "sentence_domain", "up_votes", "down_votes", "age",
                 "gender", "accents", "variant", "locale", "segment"]


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def make_common_voice(root: Path, *, new: bool = True, locale: str = "en") -> Path:
    """A release-17 style locale folder (``new``) or a release-7 style one."""
    corpus = root / ("cv-corpus-17.0-2024-03-15" if new else "cv-corpus-7.0-2021-07-21") / locale
    ages = ["teens", "twenties", "thirties", "fourties", "fifties", "sixties", "seventies", "eighties", "nineties", ""]
    genders_new = ["male_masculine", "female_feminine", "intersex", "transgender", "non-binary", "do_not_wish_to_say",
                   "", "male_masculine", "female_feminine", "male_masculine"]
    genders_old = ["male", "female", "other", "", "male", "female", "male", "female", "other", "male"]
    rows = []
    for i in range(10):
        name = f"common_voice_{locale}_{100 + i}.mp3"
        (corpus / "clips").mkdir(parents=True, exist_ok=True)
        (corpus / "clips" / name).write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00")  # never decoded
        if new:
            rows.append([f"client{i % 3}", name, f"sid{i}", f'He said "hello" number {i}', "general" if i % 2 else "",
                         "2", "0", ages[i], genders_new[i], "United States English|Midwestern" if i == 0 else "",
                         "en-US" if i == 1 else "", locale, ""])
        else:
            rows.append([f"client{i % 3}", name, f"Sentence {i}", "2", "0", ages[i], genders_old[i],
                         "us" if i % 2 else "england", locale, ""])
    header = CV_NEW_HEADER if new else CV_OLD_HEADER
    write_tsv(corpus / "validated.tsv", header, rows)
    write_tsv(corpus / "train.tsv", header, rows[:6])
    write_tsv(corpus / "dev.tsv", header, rows[6:8])
    write_tsv(corpus / "test.tsv", header, rows[8:])
    write_tsv(corpus / "other.tsv", header, [])
    write_tsv(corpus / "clip_durations.tsv", ["clip", "duration[ms]"], [[r[1], str(1000 + i)] for i, r in enumerate(rows)])
    return corpus


# --- VCTK -------------------------------------------------------------------------------------

VCTK_INFO_080 = """ID  AGE  GENDER  ACCENTS  REGION
225  23  F    English    Southern  England
226  22  M    English    Surrey
315  23  M    American    Connecticut
376  22  M    Indian
"""
VCTK_INFO_092 = """ID  AGE  GENDER  ACCENTS  REGION COMMENTS
p225  23  F    English    Southern  England
p226  22  M    English    Surrey
p280  25  F    France
p315  23  M    American    Connecticut   (text missing)
p376  22  M    Indian
"""


def make_vctk(root: Path, *, version: str = "0.92") -> Path:
    corpus = root / ("VCTK-Corpus-0.92" if version == "0.92" else "VCTK-Corpus")
    speakers = ["p225", "p226", "p315", "p376"] + (["p280"] if version == "0.92" else [])
    for speaker in speakers:
        for n in (1, 2):
            utt = f"{speaker}_{n:03d}"
            if version == "0.92":
                tone(corpus / "wav48_silence_trimmed" / speaker / f"{utt}_mic1.flac")
                if speaker != "p280":  # p280 has no mic2 recordings
                    tone(corpus / "wav48_silence_trimmed" / speaker / f"{utt}_mic2.flac")
            else:
                tone(corpus / "wav48" / speaker / f"{utt}.wav")
            if speaker != "p315":  # p315's text was lost
                (corpus / "txt" / speaker).mkdir(parents=True, exist_ok=True)
                (corpus / "txt" / speaker / f"{utt}.txt").write_text(f"Please call Stella {speaker} {n}.\n")
    (corpus / "txt" / "p225" / "p225_003.txt").write_text("A transcript with no audio.\n")
    (corpus / "speaker-info.txt").write_text(VCTK_INFO_092 if version == "0.92" else VCTK_INFO_080)
    return corpus


# --- Multilingual LibriSpeech -----------------------------------------------------------------

MLS_METAINFO = """ SPEAKER   |   GENDER   | PARTITION  |  MINUTES   |  BOOK ID   |             TITLE              |            CHAPTER
  1844     |     F      |   train    |   25.123   |    1931    | Die Welt | Kapitel 1
  1844     |     F      |   train    |   12.000   |    2000    | Noch ein Buch | Kapitel 2
  2222     |     M      |    dev     |   13.500   |    3000    | A | B|C
"""


def make_mls(root: Path, *, suffix: str = ".flac") -> Path:
    corpus = root / ("mls_german" if suffix == ".flac" else "mls_german_opus")
    lines = {"train": [], "dev": []}
    for split, spk, book in (("train", "1844", "1931"), ("train", "1844", "2000"), ("dev", "2222", "3000")):
        for n in range(2):
            utt = f"{spk}_{book}_{n:06d}"
            path = corpus / split / "audio" / spk / book / f"{utt}{suffix}"
            if suffix == ".flac":
                tone(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"OggS\x00")  # never decoded
            lines[split].append(f"{utt}\tein satz nummer {n}")
    lines["train"].append("1844_1931_000009\tkeine audiodatei")
    for split, rows in lines.items():
        (corpus / split / "transcripts.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (corpus / "metainfo.txt").write_text(MLS_METAINFO)
    return corpus


# --- LibriSpeech ------------------------------------------------------------------------------

LIBRI_SPEAKERS = """; Some comments
;ID  |SEX| SUBSET           |MINUTES| NAME
19   | F | train-clean-100  | 25.19 | Kara Shallenberg
60   | M | train-clean-100  | 20.18 | |CBW|Simon
84   | F | dev-clean        |  8.02 | Christie Nowak
"""


def make_librispeech(root: Path) -> Path:
    corpus = root / "LibriSpeech"
    for subset, speaker, chapter in (("train-clean-100", "19", "198"), ("train-clean-100", "60", "121082"),
                                     ("dev-clean", "84", "121123")):
        folder = corpus / subset / speaker / chapter
        lines = []
        for n in range(2):
            utt = f"{speaker}-{chapter}-{n:04d}"
            tone(folder / f"{utt}.flac")
            lines.append(f"{utt} WORDS OF {utt}")
        if speaker == "84":
            lines.append("84-121123-0009 A LINE WITHOUT AUDIO")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    (corpus / "SPEAKERS.TXT").write_text(LIBRI_SPEAKERS)
    return corpus


# --- MELD -------------------------------------------------------------------------------------

MELD_HEADER = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID", "Season",
               "Episode", "StartTime", "EndTime"]
MELD_EMOTIONS = ("neutral", "joy", "sadness", "anger", "fear", "disgust", "surprise")


def make_meld(root: Path) -> Path:
    corpus = root / "MELD.Raw"
    corpus.mkdir(parents=True)
    sentiments = ("neutral", "positive", "negative")
    for split, video_dir in (("train", "train_splits"), ("dev", "dev_splits_complete"), ("test", "output_repeated_splits_test")):
        rows = []
        for i, emotion in enumerate(MELD_EMOTIONS):
            # the two kinds of damage in MELD's CSVs: a Windows-1252 byte read as Latin-1 (U+0092),
            # and UTF-8 decoded as Latin-1 then encoded again
            text = "I\x92m fine" if i == 0 else ("I\u00e2\x80\x99m here" if i == 1 else f"Line {i} of {split}")
            rows.append([str(i + 1), text, ["Chandler", "Monica", "Ross"][i % 3], emotion, sentiments[i % 3],
                         "0", str(i), "3", "19", "00:14:38,127", "00:14:40,378"])
            if split == "train" and i < 5:  # pre-extracted audio for most of train
                tone(corpus / "wav" / "train" / f"dia0_utt{i}.wav")
            elif i != 6:  # the last utterance has neither audio nor video
                (corpus / video_dir).mkdir(parents=True, exist_ok=True)
                (corpus / video_dir / f"dia0_utt{i}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
        with (corpus / f"{split}_sent_emo.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(MELD_HEADER)
            writer.writerows(rows)
    return corpus


# --- MSP-Podcast ------------------------------------------------------------------------------

MSP_CLASSES = ("A", "S", "H", "U", "F", "D", "C", "N", "O", "X")


def make_msp_podcast(root: Path, *, label_file: str = "labels_consensus.csv") -> Path:
    corpus = root / "MSP-Podcast"
    rows = []
    splits = ("Train", "Development", "Test1", "Test2", "Test3")
    for i, emotion_class in enumerate(MSP_CLASSES):
        name = f"MSP-PODCAST_{i + 1:04d}_0001.wav"
        tone(corpus / "Audios" / name)
        rows.append([name, emotion_class, f"{3 + i * 0.1:.1f}", "4.0", "3.5", "Unknown" if i == 0 else str(100 + i),
                     ["Male", "Female", "Unknown"][i % 3], splits[i % 5]])
        if i < 3:
            (corpus / "Transcripts").mkdir(parents=True, exist_ok=True)
            (corpus / "Transcripts" / name.replace(".wav", ".txt")).write_text(f"words of clip {i}\n")
    rows.append(["MSP-PODCAST_9999_0001.wav", "N", "4", "4", "4", "7", "Male", "Train"])  # no audio
    rows.append(["MSP-PODCAST_0001_0002.wav", "Z", "4", "4", "4", "7", "Male", "Train"])  # unknown class
    tone(corpus / "Audios" / "MSP-PODCAST_0001_0002.wav")
    (corpus / "Labels").mkdir(parents=True)
    with (corpus / "Labels" / label_file).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"])
        writer.writerows(rows)
    return corpus


# --- HeySQuAD ---------------------------------------------------------------------------------


def heysquad_rows(folder: Path, n: int = 3) -> list[dict]:
    rows = []
    for i in range(n):
        audio = tone(folder / f"q{i}.wav")
        rows.append({
            "audio": {"bytes": audio.read_bytes(), "path": f"q{i}.wav"},
            "transcription": f"what is question {i}",
            "question": f"What is question {i}?",
            "context": f"Paragraph {i}.",
            "answers": [] if i == 2 else [{"answer_start": 0, "text": f"Answer {i}"}, {"answer_start": 3, "text": f"answer {i}"}],
            "is_impossible": i == 2,
            "id": f"5733be284776f41900661{i:03d}",
            "plausible_answers": [],
        })
        audio.unlink()
    return rows


def make_heysquad_parquet(root: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    corpus = root / "HeySQuAD_human"
    (corpus / "data").mkdir(parents=True)
    for split, n in (("train", 3), ("validation", 2)):
        rows = heysquad_rows(root / "tmp", n)
        pq.write_table(pa.Table.from_pylist(rows), corpus / "data" / f"{split}-00000-of-00001.parquet")
    return corpus


def make_heysquad_json(root: Path) -> Path:
    corpus = root / "heysquad_json"
    qas = []
    for i in range(3):
        qid = f"56be85543aeaaa14008c9{i:03d}"
        qas.append({"id": qid, "question": f"When did thing {i} happen?", "is_impossible": False,
                    "answers": [{"text": f"in {1990 + i}", "answer_start": 10}]})
        if i != 2:  # the third question has no audio
            tone(corpus / "audio" / f"{qid}.wav")
    tone(corpus / "audio" / "stray.wav")
    document = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "Some context.", "qas": qas}]}]}
    (corpus / "dev-v2.0.json").write_text(json.dumps(document))
    return corpus
