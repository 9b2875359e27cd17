"""LLaMA-Factory 0.9.5's own data loading on a speechsift release, as ``llamafactory-cli train``
runs it (``train/sft/workflow.py``): ``get_train_args``, ``load_tokenizer``, the ``qwen2_audio``
template, ``get_dataset`` (its converter resolves each relative audio path against ``media_dir``,
which defaults to ``dataset_dir``; its audio plugin counts ``<audio>`` placeholders, loads each
audio and expands it into Qwen2-Audio's audio tokens) and the SFT collator to batches with Whisper
features. Every dataset in ``dataset_info.json`` is loaded; a row dropped, an error, or an audio
token among the supervised labels fails the check.

    python check_llamafactory.py RELEASE
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_qwen2_audio import build  # noqa: E402
from trainer_checks import Findings, audio_token_ids, messages_rows  # noqa: E402

BATCH = 8


def check(release: Path, model_dir: Path, work: Path, findings: Findings) -> dict:
    from llamafactory.data import SFTDataCollatorWith4DAttentionMask, get_dataset, get_template_and_fix_tokenizer
    from llamafactory.extras.constants import IGNORE_INDEX
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    root = release / "exports" / "messages"
    names = sorted(json.loads((root / "dataset_info.json").read_text()))
    model_args, data_args, training_args, _finetuning, _generating = get_train_args({
        "stage": "sft", "do_train": True, "model_name_or_path": str(model_dir), "template": "qwen2_audio",
        "dataset_dir": str(root), "dataset": ",".join(names), "cutoff_len": 4096, "overwrite_cache": True,
        "output_dir": str(work / "output"), "report_to": "none", "finetuning_type": "lora",
    })
    tokenizer_module = load_tokenizer(model_args)
    tokenizer = tokenizer_module["tokenizer"]
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    dataset = get_dataset(template, model_args, data_args, training_args, stage="sft", **tokenizer_module)["train_dataset"]
    findings.expect(len(dataset) == messages_rows(root), f"{release}: {len(dataset)} rows loaded of {messages_rows(root)}")
    audio_ids = audio_token_ids(tokenizer)
    for index, row in enumerate(dataset):
        findings.check_row(row["input_ids"], row["labels"], len(row["audios"] or []), tokenizer, f"row {index}")
    collator = SFTDataCollatorWith4DAttentionMask(template=template, model=None, pad_to_multiple_of=8,
                                                  label_pad_token_id=IGNORE_INDEX, **tokenizer_module)
    batches = audios = 0
    for start in range(0, len(dataset), BATCH):
        rows = [dataset[i] for i in range(start, min(start + BATCH, len(dataset)))]
        n = sum(len(r["audios"] or []) for r in rows)
        batch = collator(rows)  # takes the audios out of the rows
        findings.expect(batch["input_features"].shape[0] == n, f"batch {start}: features for {n} audios")
        labels = batch["labels"][batch["labels"] != IGNORE_INDEX].tolist()
        findings.expect(not set(labels) & set(audio_ids.values()), f"batch {start}: audio token labels")
        batches += 1
        audios += n
    return {"datasets": len(names), "rows": len(dataset), "batches": batches, "audios": audios}


def main(release: Path) -> None:
    findings = Findings("LLaMA-Factory")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = check(release, build(work / "qwen2-audio"), work, findings)
    import llamafactory

    findings.report({"version": llamafactory.__version__, "release": str(release), **result})


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
