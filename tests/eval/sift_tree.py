"""A hand-written EvalSIFT tree (SIFT-50M's layout) of every family the stand-in servers answer."""

from __future__ import annotations

import json
from pathlib import Path

from factories import write_tone
from speech_llm import verdict

# id -> (category folder, task, language, audio, instruction, reference, the model's answer)
ITEMS = {
    "t1": ("omni/transcription", "transcription", "en", "a1", "Transcribe:", "the cat sat on the mat", "the cat sat on a mat"),
    "t2": ("omni/transcription", "transcription", "en", "a2", "Transcribe:", "hello world", "Hello, world!"),
    "t3": ("omni/transcription", "transcription", "en", "a3", "Transcribe:", "good morning to you", None),  # 500s
    "t4": ("omni/transcription", "transcription", "de", "a4", "Transcribe:", "guten morgen", "guten abend"),
    "c1": ("closed_ended/acoustic_level", "closed_ended_template", "en", "a1", "Is the voice female or male?",
           "The voice is female.", "female"),
    "c2": ("closed_ended/acoustic_level", "closed_ended_template", "en", "a2",
           "Which emotion fits the voice best: happy, sad or angry?", "The speaker sounds sad.", "I think happy."),
    "c3": ("closed_ended/acoustic_level", "closed_ended_template", "en", "a4", "What emotion does the speaker convey?",
           "The speaker sounds angry.", "They sound angry."),
    "q1": ("omni/answer_extraction", "answer_extraction", "en", "a5", "", "the eiffel tower", "Eiffel Tower."),
    "q2": ("omni/answer_extraction", "answer_extraction", "en", "a6", "", "paris france", "paris"),
    "j1": ("closed_ended/content_level", "closed_ended_content", "en", "a1", "Where did the cat sit?",
           "On the mat.", "It sat on the mat."),
    "j2": ("closed_ended/content_level", "closed_ended_content", "en", "a2", "Who is greeted?", "The world.",
           "Nobody is."),
    "j3": ("closed_ended/content_level", "closed_ended_content", "en", "a3", "Is it morning?", "Yes.", "Maybe so."),
    "o1": ("open_ended", "open_ended", "en", "a5", "How does the speaker feel?", "Cheerful and upbeat.",
           "They seem cheerful (very)."),
    "o2": ("open_ended", "open_ended", "en", "a6", "What mood is this?", "Calm.", "Calm and relaxed."),
}
VERDICTS = {"It sat on the mat.": verdict(1), "Nobody is.": verdict(0), "Maybe so.": "I would say yes!",
            "They seem cheerful (very).": verdict(8, "close to the reference"), "Calm and relaxed.": verdict(6)}
FREQS = {"a1": 200, "a2": 250, "a3": 300, "a4": 350, "a5": 400, "a6": 450}


def write_tree(root: Path, both_keys: bool = False) -> tuple[Path, dict[str, Path]]:
    """An EvalSIFT tree of ITEMS (audio paths relative to the tree's root); ``both_keys``: content
    parts carry both ``text`` and ``audio_path``, one null (issue 12's layout)."""
    audio = {name: write_tone(root / "audio" / f"{name}.wav", seconds=0.3, freq=freq) for name, freq in FREQS.items()}
    files: dict[Path, list[str]] = {}
    for item_id, (folder, task, lang, clip, instruction, reference, _answer) in ITEMS.items():
        def part(text=None, path=None):
            return {"text": text, "audio_path": path} if both_keys else ({"audio_path": path} if path else {"text": text})
        user = [part(path=f"audio/{clip}.wav")] + ([part(text=instruction)] if instruction else [])
        record = {"id": item_id, "task": task, "data_source": f"demo_{lang}",
                  "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": [part(text=reference)]}]}
        files.setdefault(root / "EvalSIFT" / folder / lang / "part-00000.jsonl", []).append(json.dumps(record))
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    (root / "train").mkdir()
    return root, audio
