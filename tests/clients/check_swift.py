"""ms-swift 4.6's own data loading on a speechsift release, as ``swift sft`` runs it: the datasets
registered from ``swift_dataset_info.json`` (``--custom_dataset_info``), ``load_dataset`` with
``strict`` (a malformed row is an error, not a skipped row), the processor through
``get_processor(model_type='qwen2_audio')``, and the ``qwen2_audio`` template's train-mode encoding
(each audio bound to the next ``<audio>`` tag, loaded, Whisper features) and collator. Relative audio
paths resolve against ``ROOT_IMAGE_DIR``, set to the export's folder as the README says. An error,
a row lost, or an audio token among the supervised labels fails the check.

    python check_swift.py RELEASE
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_qwen2_audio import build  # noqa: E402
from trainer_checks import IGNORE_INDEX, Findings, audio_token_ids, messages_rows  # noqa: E402

BATCH = 8


def check(release: Path, model_dir: Path, findings: Findings) -> dict:
    root = release / "exports" / "messages"
    os.environ["ROOT_IMAGE_DIR"] = str(root)  # read by the template when it is made
    from swift.dataset import load_dataset, register_dataset_info
    from swift.model import get_processor
    from swift.template import get_template

    metas = register_dataset_info(str(root / "swift_dataset_info.json"))
    names = [meta.dataset_name for meta in metas]
    dataset, _ = load_dataset(names, strict=True, num_proc=1, load_from_cache_file=False)
    findings.expect(len(dataset) == messages_rows(root), f"{release}: {len(dataset)} rows loaded of {messages_rows(root)}")
    processor = get_processor(str(model_dir), model_type="qwen2_audio")
    template = get_template(processor, template_type="qwen2_audio", max_length=4096)
    template.set_mode("train")
    audio_ids = audio_token_ids(processor.tokenizer)
    encoded = []
    audios = 0
    for index, row in enumerate(dataset):
        item = template.encode(row)
        n = len(row["audios"] or [])
        findings.check_row(list(item["input_ids"]), list(item["labels"]), n, processor.tokenizer, f"row {index}")
        findings.expect(item["input_features"].shape[0] == n, f"row {index}: features for {n} audios")
        encoded.append(item)
        audios += n
    batches = 0
    for start in range(0, len(encoded), BATCH):
        batch = template.data_collator(encoded[start:start + BATCH])
        labels = batch["labels"][batch["labels"] != IGNORE_INDEX].tolist()
        findings.expect(not set(labels) & set(audio_ids.values()), f"batch {start}: audio token labels")
        batches += 1
    return {"datasets": len(names), "rows": len(dataset), "batches": batches, "audios": audios}


def main(release: Path) -> None:
    import swift

    findings = Findings("ms-swift")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build(Path(tmp) / "qwen2-audio")
        os.chdir(tmp)  # not the export's folder: paths must resolve through ROOT_IMAGE_DIR
        result = check(release, model_dir, findings)
    findings.report({"version": swift.__version__, "release": str(release), **result})


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
